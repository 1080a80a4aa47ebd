"""The alert rules (deploy/prometheus/alerts.yml): valid for Prometheus, each one proven to fire
and to stay quiet by promtool's unit tests (alerts_test.yml), each telling the operator what to
do, naming only metrics the services export, and wired into the compose stack.

promtool comes from Debian's `prometheus` package, installed by the test when missing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dev.monitoring import ALERT_RULES, ALERT_TESTS, ensure_tool
from shared.metrics import REGISTRY
from tests.deploy.dashboards import metric_names_in

ROOT = Path(__file__).resolve().parents[2]
# Series that come from Prometheus itself or from FastStream's middleware, not our registry.
NOT_OURS = {"up", "faststream_received_messages_total"}


@pytest.fixture(scope="module")
def promtool() -> str:
    return ensure_tool("promtool")


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_rules_pass_promtool_check(promtool: str) -> None:
    done = subprocess.run(
        [promtool, "check", "rules", str(ALERT_RULES)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_fires_and_stays_quiet_in_promtool_unit_tests(
    promtool: str, rules: list[dict[str, Any]]
) -> None:
    cases = [
        case for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    ]  # fmt: skip
    for rule in rules:
        mine = [c for c in cases if c["alertname"] == rule["alert"]]
        assert any(c["exp_alerts"] for c in mine), f"no unit test where {rule['alert']} fires"
        assert any(not c["exp_alerts"] for c in mine), (
            f"no unit test where {rule['alert']} is quiet"
        )
    done = subprocess.run(
        [promtool, "test", "rules", ALERT_TESTS.name],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ALERT_TESTS.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_severity_summary_and_what_to_do(rules: list[dict[str, Any]]) -> None:
    assert len(rules) >= 8
    for rule in rules:
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        notes = rule["annotations"]
        assert notes["summary"].strip(), name
        anchor = f"docs/operations.md#{name.lower()}"
        assert notes["runbook_url"] == anchor, name
        assert anchor in notes["description"], f"{name}'s description does not point to {anchor}"


def test_alerts_use_only_exported_metric_names(rules: list[dict[str, Any]]) -> None:
    # importing the services' own metrics registers them
    import services.grids.metrics
    import services.scoring.metrics

    assert services.grids.metrics.INCIDENTS_OVERDUE_BY_COMMUNITY
    assert services.scoring.metrics.FRESHNESS
    exported: set[str] = set()
    for family in REGISTRY.collect():  # families without series yet are listed too
        exported |= {family.name, family.name + "_total"}
    for rule in rules:
        unknown = metric_names_in(rule["expr"]) - exported - NOT_OURS
        assert not unknown, f"{rule['alert']} uses metrics no service exports: {sorted(unknown)}"


def test_compose_prometheus_loads_the_rules_and_alertmanager_takes_the_webhook() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["prometheus"]["volumes"] if v.startswith("./"))
    assert mounts["./deploy/prometheus/alerts.yml"] in config["rule_files"]
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
    alertmanager = compose["alertmanager"]
    assert alertmanager["environment"]["ALERT_WEBHOOK_URL"].startswith("${ALERT_WEBHOOK_URL:?")
    am_config = yaml.safe_load((ROOT / "deploy" / "alertmanager" / "alertmanager.yml").read_text())
    am_mounts = dict(v.split(":")[:2] for v in alertmanager["volumes"] if v.startswith("./"))
    assert (
        am_mounts["./deploy/alertmanager/alertmanager.yml"] == "/etc/alertmanager/alertmanager.yml"
    )
    receivers = {r["name"]: r for r in am_config["receivers"]}
    assert set(receivers) == {am_config["route"]["receiver"]}
    (hook,) = next(iter(receivers.values()))["webhook_configs"]
    # the entrypoint writes the operator's URL to the file the configuration reads
    assert f"> {hook['url_file']}" in " ".join(alertmanager["entrypoint"])
    assert "$$ALERT_WEBHOOK_URL" in " ".join(alertmanager["entrypoint"])
