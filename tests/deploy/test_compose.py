"""docker-compose.yml and deploy/Dockerfile: the production shape must start the services the
way the code expects (setting names, ports, databases, topics) and must refuse to start
without real secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dev.testing import apt_install
from shared.settings import SERVICE_PORTS, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
SECRETS = ("API_TOKENS", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "ALERT_WEBHOOK_URL")
EXTRA_ENV = {"PORT", "SERVICE_NAME"}  # read outside Settings fields (PORT) or also a field
_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def resolve(value: str) -> str:
    """Compose interpolation as `docker compose` does it with the secrets set to dummies."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if op and op.endswith("-"):
            return arg
        return f"dummy-{name.lower()}"

    return _INTERPOLATION.sub(one, value)


def test_four_services_with_their_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(SERVICE_PORTS) <= set(services)
    for name, port in SERVICE_PORTS.items():
        svc = services[name]
        env = svc["environment"]
        assert env["SERVICE_NAME"] == name
        assert int(env["PORT"]) == port
        published = [str(p).rsplit(":", 1)[-1].split("/")[0] for p in svc["ports"]]
        assert published == [str(port)], f"{name} publishes {svc['ports']}"
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert f":{port}/readyz" in " ".join(svc["healthcheck"]["test"])


def test_service_environment_names_are_settings(compose: dict[str, Any]) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name in SERVICE_PORTS:
        env: dict[str, str] = compose["services"][name]["environment"]
        unknown = set(env) - fields - EXTRA_ENV
        assert not unknown, f"{name} sets {sorted(unknown)}, not fields of shared.settings.Settings"
        for needed in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "TIMEZONE", "API_TOKENS"):
            assert needed in env, f"{name} misses {needed}"
        # The resolved values must be valid settings, and the database that of the service.
        values = {k.lower(): resolve(str(v)) for k, v in env.items() if k != "PORT"}
        settings = Settings(**values)
        assert settings.service_name == name
        assert settings.kafka_bootstrap_servers == "kafka:9092"
        assert settings.service_database_url.startswith("postgresql://postgres:")
        assert settings.service_database_url.endswith(f"@postgres:5432/partygrid_{name}")
        assert settings.tz.key == "Asia/Shanghai"


def test_secrets_are_required_never_defaulted() -> None:
    text = COMPOSE.read_text()
    for secret in SECRETS:
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses, f"{secret} is not used in docker-compose.yml"
        for rest in uses:
            assert rest.startswith(":?"), f"${{{secret}{rest}}} must use the required ':?' form"


def test_api_tokens_required_form(compose: dict[str, Any]) -> None:
    for name in SERVICE_PORTS:
        raw = compose["services"][name]["environment"]["API_TOKENS"]
        assert re.fullmatch(r"\$\{API_TOKENS:\?[^}]+\}", raw), raw


def test_startup_order_and_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"kafka", "kafka-init", "postgres", "prometheus", "grafana"} <= set(services)
    for name in SERVICE_PORTS:
        deps = services[name]["depends_on"]
        assert deps["kafka-init"]["condition"] == "service_completed_successfully"
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["kafka"]["condition"] == "service_healthy"
    assert services["kafka-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    for name, svc in services.items():
        if name == "kafka-init":  # a one-shot: its exit status is its health
            assert svc["restart"] == "no"
            continue
        assert svc["healthcheck"]["test"], f"{name} has no healthcheck"


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        image = svc["image"]
        if name in SERVICE_PORTS:
            continue
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", f"{name} uses unpinned image {image}"
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert compose["services"]["postgres"]["image"].startswith("postgres:17")


def test_kafka_is_kraft_and_topics_are_created_by_init(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    init = compose["services"]["kafka-init"]
    mounts = [v.split(":")[0] for v in init["volumes"]]
    assert "./deploy/kafka/topics.txt" in mounts
    assert "./deploy/kafka/create-topics.sh" in mounts
    assert init["environment"]["TOPIC_PARTITIONS"] == "4"
    for name in SERVICE_PORTS:  # services create missing topics with the same count
        assert compose["services"][name]["environment"]["TOPIC_PARTITIONS"] == "4"
    for mount in mounts:
        assert (ROOT / mount).is_file(), mount


def test_postgres_init_creates_each_service_database(compose: dict[str, Any]) -> None:
    mounts = compose["services"]["postgres"]["volumes"]
    init = [m for m in mounts if "docker-entrypoint-initdb.d" in m]
    assert init and init[0].startswith("./deploy/postgres/init.sql:")
    sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text()
    created = set(re.findall(r"^CREATE DATABASE (\w+);", sql, re.MULTILINE))
    assert created == {f"partygrid_{name}" for name in SERVICE_PORTS}


def test_dockerfile_runs_any_service_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*", text, re.MULTILINE)
    assert "/healthz" in text.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    cmd = re.findall(r"^CMD (.*)$", text, re.MULTILINE)[-1]
    assert "uvicorn services.${SERVICE_NAME}.main:create_app --factory" in cmd
    assert "--host 0.0.0.0 --port ${PORT}" in cmd
    # The build context is the repository root: everything is ignored but the package.
    ignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore
    included = {line[1:].split("/")[0] for line in ignore if line.startswith("!")}
    assert included == {"pyproject.toml", "README.md", "shared", "services"}


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=60
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def _run_config(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    if command is None:
        # Neither `docker compose` nor docker-compose here: install Debian's docker-compose
        # rather than skip, so the file is always checked by a real compose implementation.
        apt_install("docker-compose")
        command = _compose_command()
    assert command is not None, "docker-compose was installed but is not on PATH"
    empty_env_file = tmp_path / "empty.env"  # ignore a developer's .env beside the file
    empty_env_file.write_text("")
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [*command, "--env-file", str(empty_env_file), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **env},
        cwd=ROOT,
    )


def test_compose_config_is_valid(tmp_path: Path) -> None:
    dummies = {secret: f"dummy-{secret.lower()}" for secret in SECRETS}
    ok = _run_config(tmp_path, dummies)
    assert ok.returncode == 0, ok.stderr
    # Without the tokens, compose refuses to start anything and says why.
    missing = _run_config(tmp_path, {k: v for k, v in dummies.items() if k != "API_TOKENS"})
    assert missing.returncode != 0
    assert "API_TOKENS" in missing.stderr
