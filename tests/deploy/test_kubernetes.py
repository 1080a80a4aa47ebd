"""deploy/kubernetes renders (tools.kustomize, the kustomize subset it uses), every built-in
resource validates against the Kubernetes API schemas, every custom resource carries what its
operator requires, and the manifests agree with the code: topics, partitions, probes,
settings, secrets, shutdown and migrations."""

from __future__ import annotations

import copy
import importlib
import re
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from shared.events import all_topics
from shared.incarnation import MARKER_TOPIC
from shared.kafka import GRACEFUL_TIMEOUT_SECONDS
from shared.settings import SERVICE_PORTS, Settings
from tools import kubernetes as generator
from tools.asyncapi import generate as asyncapi_of
from tools.asyncapi import operations
from tools.kustomize import KustomizeError, build

from .k8s_crds import SCHEMAS, check_custom_resource

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
OVERLAY = K8S / "overlays" / "example"
KUBERNETES_VERSION = "1.30.0"  # the oldest Kubernetes these manifests are meant for
BUILT_IN = {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Namespace"}
# Settings whose default is wrong on a cluster (loopback broker, embedded database, no tokens,
# one replica per partition, no idempotence): the manifests must set them.
MUST_SET = {
    "kafka_bootstrap_servers",
    "api_tokens_file",
    "topic_partitions",
    "topic_replication_factor",
    "kafka_idempotent_producer",
    "timezone",
    "link_secret",
}
# Settings whose default is right on a cluster too (tuning, logging, names).
SAFE_DEFAULTS = {
    "service_name",  # set per Deployment anyway
    "database_url",  # unused: <SERVICE>_DATABASE_URL wins (checked below)
    "database_name",
    "database_prefix",
    "consumer_max_records",
    "consumer_batch_timeout_ms",
    "consumer_fetch_max_wait_ms",
    "consumer_session_timeout_ms",
    "consumer_heartbeat_interval_ms",
    "outbox_poll_seconds",
    "outbox_batch",
    "db_pool_max",
    "log_level",
    "log_json",
    "api_tokens",  # the tokens come as a file from a Secret (API_TOKENS_FILE)
    "event_source",
    "outbox_retention_hours",  # sent events kept for re-sending to a new broker
    "incarnation_check_seconds",  # on a real Kafka the marker never changes
    "link_minutes",
    "board_session_hours",
    # the identity provider is off until an overlay sets these (deploy/kubernetes/README.md)
    "oidc_issuer",
    "oidc_audience",
    "oidc_jwks_url",
    "oidc_role_claim",
    "oidc_scope_claim",
    "oidc_name_claim",
    "oidc_clock_skew_seconds",
    "oidc_jwks_cache_seconds",
    "oidc_jwks_min_refresh_seconds",
}
SECRET_NAMES = re.compile(r"(PASSWORD|SECRET|TOKENS?$|DATABASE_URL$|CREDENTIAL|PRIVATE_KEY)")


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return build(OVERLAY)


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    return found


def config(docs: list[dict[str, Any]]) -> dict[str, str]:
    return one(docs, "ConfigMap", generator.CONFIG_MAP)["data"]


def app_container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def pod_environment(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """What the container's process sees: ConfigMap values, literal values, and a
    `secret:<name>/<key>` marker for a value taken from a Secret."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(one(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = f"secret:{ref['name']}/{ref['key']}"
    return env


def test_committed_base_equals_generated() -> None:
    for path, text in generator.expected_files().items():
        assert path.is_file(), f"{path} missing: run .venv/bin/python -m tools.kubernetes"
        assert path.read_text() == text, (
            f"{path.relative_to(ROOT)} is out of date: run .venv/bin/python -m tools.kubernetes"
        )


def test_overlay_renders_every_kind_once_per_name(rendered: list[dict[str, Any]]) -> None:
    kinds = {d["kind"] for d in rendered}
    assert kinds == BUILT_IN | set(SCHEMAS)
    assert {d["metadata"]["name"] for d in of_kind(rendered, "Deployment")} == set(SERVICE_PORTS)
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "partygrid", doc["metadata"]
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "partygrid-example"
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"] + pod["initContainers"]:
            assert container["image"] == "registry.example.org/partygrid/service:0.1.0"
    assert one(rendered, "Deployment", "scoring")["spec"]["replicas"] == 3
    assert one(rendered, "Cluster", "partygrid-scoring-db")["spec"]["instances"] == 3


def test_kustomize_subset_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(KustomizeError, match="configMapGenerator"):
        build(tmp_path)


def test_external_postgresql_overlay_drops_the_database_clusters(tmp_path: Path) -> None:
    """The README's recipe for a PostgreSQL outside the cluster: no Cluster is rendered and the
    services still read their URL from the Secret of the same name."""
    readme = (K8S / "README.md").read_text()
    recipe = readme.split("```yaml\n")[-1].split("```")[0]
    base = (K8S / "base").as_posix()
    (tmp_path / "kustomization.yaml").write_text(f"resources:\n  - {base}\n{recipe}")
    docs = build(tmp_path)
    assert not of_kind(docs, "Cluster")
    for service in SERVICE_PORTS:
        env = pod_environment(docs, app_container(one(docs, "Deployment", service)))
        assert env[f"{service.upper()}_DATABASE_URL"] == f"secret:partygrid-{service}-db-app/uri"


def test_builtin_resources_validate_against_kubernetes_schemas(
    rendered: list[dict[str, Any]],
) -> None:
    for doc in rendered:
        if doc["kind"] in BUILT_IN:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    # not vacuous: a misspelt probe field is refused
    broken = copy.deepcopy(of_kind(rendered, "Deployment")[0])
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="httpGett"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_custom_resources_carry_what_their_operators_require(
    rendered: list[dict[str, Any]],
) -> None:
    for doc in rendered:
        if doc["kind"] not in BUILT_IN:
            assert check_custom_resource(doc) == [], f"{doc['kind']}/{doc['metadata']['name']}"


def test_operator_checks_catch_a_missing_required_field(rendered: list[dict[str, Any]]) -> None:
    """The checks are not vacuous: each kind rejects a copy with a required part removed."""
    rendered = copy.deepcopy(rendered)
    topic = of_kind(rendered, "KafkaTopic")[0]
    del topic["metadata"]["labels"]["strimzi.io/cluster"]
    assert check_custom_resource(topic)
    cluster = of_kind(rendered, "Cluster")[0]
    del cluster["spec"]["instances"]
    assert check_custom_resource(cluster)
    monitor = of_kind(rendered, "ServiceMonitor")[0]
    del monitor["spec"]["selector"]
    assert check_custom_resource(monitor)
    rule = of_kind(rendered, "PrometheusRule")[0]
    rule["spec"]["groups"][0]["rules"][0]["for"] = "two minutes"
    assert check_custom_resource(rule)


def test_every_topic_the_code_reads_or_sends_exists_with_its_partitions(
    rendered: list[dict[str, Any]],
) -> None:
    topics = {
        d["spec"].get("topicName", d["metadata"]["name"]): d["spec"]
        for d in of_kind(rendered, "KafkaTopic")
    }
    assert sorted(topics) == sorted([*all_topics(), MARKER_TOPIC])
    assert topics[MARKER_TOPIC]["partitions"] == 1, (
        "the broker marker is one record on one partition"
    )
    assert topics[MARKER_TOPIC]["config"]["retention.ms"] == -1, (
        "the marker lives as long as the cluster"
    )
    partitions = Settings(topic_partitions=config(rendered)["TOPIC_PARTITIONS"]).topic_partitions
    for service in SERVICE_PORTS:
        document = asyncapi_of(service)
        for topic in operations(document, "receive") + operations(document, "send"):
            assert topic in topics, f"{service} uses {topic}, which has no KafkaTopic"
            assert topics[topic]["partitions"] == partitions, topic
        for topic in operations(document, "receive"):
            # a service's state is rebuilt from what it reads: those events are never deleted
            assert topics[topic]["config"]["retention.ms"] == -1, topic
    for topic, spec in topics.items():
        assert spec["replicas"] == 3, topic
        assert spec["config"]["min.insync.replicas"] == 2, topic
        assert "retention.ms" in spec["config"], topic


def test_replicas_do_not_exceed_partitions(rendered: list[dict[str, Any]]) -> None:
    partitions = int(config(rendered)["TOPIC_PARTITIONS"])
    for deployment in of_kind(rendered, "Deployment"):
        assert 2 <= deployment["spec"]["replicas"] <= partitions, deployment["metadata"]["name"]


async def test_probes_point_to_paths_the_service_serves(rendered: list[dict[str, Any]]) -> None:
    """Each probe path answers on the service's app, not started (no Kafka, no database):
    liveness 200, readiness 503 until connected."""
    for service, port in SERVICE_PORTS.items():
        container = app_container(one(rendered, "Deployment", service))
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        probes = {
            name: container[name]["httpGet"]
            for name in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert all(p["port"] == "http" for p in probes.values())
        assert probes["readinessProbe"]["path"] == "/readyz"
        assert probes["livenessProbe"]["path"] == "/healthz"
        main = importlib.import_module(f"services.{service}.main")
        app = main.create_app(Settings(service_name=service))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pod") as client:
            for name, probe in probes.items():
                answer = await client.get(probe["path"])
                expected = 503 if name == "readinessProbe" else 200
                assert answer.status_code == expected, (service, name, answer.text)
        target = one(rendered, "Service", service)["spec"]["ports"][0]
        assert (target["port"], target["targetPort"]) == (port, "http")


def test_every_setting_is_set_or_has_a_safe_default(
    rendered: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = set(Settings.model_fields)
    assert fields == MUST_SET | SAFE_DEFAULTS, (
        f"classify the new settings {sorted(fields - MUST_SET - SAFE_DEFAULTS)}: set them in "
        "tools/kubernetes.py or list them here as safe by default"
    )
    for service, port in SERVICE_PORTS.items():
        deployment = one(rendered, "Deployment", service)
        container = app_container(deployment)
        env = pod_environment(rendered, container)
        own_url = f"{service.upper()}_DATABASE_URL"
        unknown = set(env) - {f.upper() for f in fields} - {"PORT", own_url}
        assert not unknown, f"{service} sets {sorted(unknown)}, which no code reads"
        assert {f.upper() for f in MUST_SET} <= set(env), service
        for name in {f.upper() for f in fields} | {"PORT", own_url}:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        assert settings.service_name == service
        assert settings.port == port
        assert settings.service_database_url == f"secret:{generator.db_secret(service)}/uri"
        assert not settings.kafka_bootstrap_servers.startswith("127.")
        assert settings.kafka_idempotent_producer is True
        assert settings.topic_replication_factor == 3
        # the tokens file lies in a mounted Secret volume (re-read when the Secret changes)
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        mounts = [
            m
            for m in container["volumeMounts"]
            if "secret" in volumes[m["name"]] and "subPath" not in m
        ]
        assert settings.api_tokens_file is not None
        assert any(settings.api_tokens_file.startswith(m["mountPath"] + "/") for m in mounts)


def test_secrets_are_never_in_config_maps(rendered: list[dict[str, Any]]) -> None:
    for config_map in of_kind(rendered, "ConfigMap"):
        for key, value in config_map["data"].items():
            if not key.endswith("_FILE"):  # a path to a mounted secret is not a secret
                assert not SECRET_NAMES.search(key), f"{key} belongs in a Secret"
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), f"{key} holds credentials"
    # no Secret is committed: each is made by its operator or by the installer
    assert not of_kind(rendered, "Secret")
    made_by_cloudnativepg = {f"{d['metadata']['name']}-app" for d in of_kind(rendered, "Cluster")}
    readme = (K8S / "README.md").read_text()
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        for var in app_container(deployment)["env"]:
            if SECRET_NAMES.search(var["name"]):
                assert "secretKeyRef" in var.get("valueFrom", {}), var["name"]
                name = var["valueFrom"]["secretKeyRef"]["name"]
                assert (
                    name in made_by_cloudnativepg
                    or f"kubectl create secret generic {name}" in readme
                ), name
        for volume in pod["volumes"]:
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                assert f"kubectl create secret generic {name}" in readme, name


def test_pods_run_non_root_read_only_and_stop_gracefully(rendered: list[dict[str, Any]]) -> None:
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"] + pod["initContainers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert container["resources"]["requests"] and container["resources"]["limits"]
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
        pre_stop = int(app_container(deployment)["lifecycle"]["preStop"]["exec"]["command"][-1])
        # endpoints drop the pod, then the consumer's batch commits within the broker's
        # graceful timeout, then the relay and pool close
        assert pod["terminationGracePeriodSeconds"] >= pre_stop + GRACEFUL_TIMEOUT_SECONDS + 10


def test_schema_migrates_before_the_service_container_starts(
    rendered: list[dict[str, Any]],
) -> None:
    for service in SERVICE_PORTS:
        deployment = one(rendered, "Deployment", service)
        (migrate,) = deployment["spec"]["template"]["spec"]["initContainers"]
        assert migrate["command"] == ["python", "-m", "shared.migrate", service]
        app = app_container(deployment)
        assert pod_environment(rendered, migrate) == pod_environment(rendered, app)
        assert migrate["image"] == app["image"]
        # a new replica joins only when ready, and no old one leaves before it
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_disruption_budgets_and_monitoring_select_the_services(
    rendered: list[dict[str, Any]],
) -> None:
    (monitor,) = of_kind(rendered, "ServiceMonitor")
    wanted = monitor["spec"]["selector"]["matchLabels"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    selected = [
        s for s in of_kind(rendered, "Service") if wanted.items() <= s["metadata"]["labels"].items()
    ]
    assert {s["metadata"]["name"] for s in selected} == set(SERVICE_PORTS)
    assert all(endpoint["port"] in {p["name"] for p in s["spec"]["ports"]} for s in selected)
    for service in SERVICE_PORTS:
        pods = one(rendered, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
        budget = one(rendered, "PodDisruptionBudget", service)["spec"]
        assert budget["selector"]["matchLabels"].items() <= pods.items()
        assert one(rendered, "Service", service)["spec"]["selector"].items() <= pods.items()


def test_prometheus_rule_is_the_alert_rules_file(rendered: list[dict[str, Any]]) -> None:
    (rule,) = of_kind(rendered, "PrometheusRule")
    alerts = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert rule["spec"]["groups"] == alerts["groups"]
    assert any(r.get("alert") for g in alerts["groups"] for r in g["rules"])


def test_compose_also_uses_the_idempotent_producer() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in SERVICE_PORTS:
        env = compose["services"][service]["environment"]
        assert Settings(
            kafka_idempotent_producer=env["KAFKA_IDEMPOTENT_PRODUCER"]
        ).kafka_idempotent_producer
