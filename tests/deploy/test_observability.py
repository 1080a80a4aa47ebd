"""Prometheus scrapes the four services; Grafana's provisioned dashboards parse, point at the
provisioned datasource and query only metrics the services export (docs/design.md §6)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from faststream.prometheus.container import MetricsContainer
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

from shared.metrics import REGISTRY
from shared.settings import SERVICE_PORTS

from .dashboards import (
    DASHBOARD_FILES,
    DASHBOARDS_DIR,
    dashboard_exprs,
    dashboard_metric_names,
    dashboard_metrics_by_file,
    iter_panels,
    load_dashboards,
    metric_names_in,
)

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
PROVISIONING = GRAFANA / "provisioning"

# Declared by the scoring and grids services themselves (services/*/metrics.py); the live test
# compares the dashboards with a running service's /metrics.
SERVICE_SPECIFIC = {
    "partygrid_scoring_points_awarded_total",
    "partygrid_scoring_points_withdrawn_total",
    "partygrid_scoring_freshness_seconds",
    "partygrid_scoring_members_counted",
    "partygrid_scoring_write_step_seconds_sum",
    "partygrid_grids_incidents_open",
    "partygrid_grids_incidents_overdue",
    "partygrid_grids_satisfaction_average",
    "partygrid_grids_satisfaction_ratings",
    "partygrid_grids_visit_duty_workers",
    "partygrid_activities_wish_satisfaction_average",
    "partygrid_activities_wish_satisfaction_ratings",
}


def _sample_names(metric: Metric) -> set[str]:
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum"),
    }.get(metric.type, ("",))
    return {metric.name + suffix for suffix in suffixes}


def exported_metric_names() -> set[str]:
    """Names the shared registry and FastStream's Prometheus middleware export."""
    names: set[str] = set()
    for metric in REGISTRY.collect():
        names |= _sample_names(metric)
    faststream = CollectorRegistry()
    MetricsContainer(faststream, custom_label_names=[])
    for metric in faststream.collect():
        names |= _sample_names(metric)
    return names


def _provisioned_uid() -> str:
    data = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    (source,) = data["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    return source["uid"]


def test_prometheus_scrapes_exactly_the_four_services() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = [
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]
    assert sorted(targets) == sorted(f"{name}:{port}" for name, port in SERVICE_PORTS.items())
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "partygrid.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in volumes
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in volumes


def test_dashboards_parse_with_uid_title_and_datasource() -> None:
    uid = _provisioned_uid()
    dashboards = load_dashboards()
    assert set(dashboards) == set(DASHBOARD_FILES)
    uids = [model["uid"] for model in dashboards.values()]
    assert len(set(uids)) == len(uids), "dashboard uids must be unique"
    for name, model in dashboards.items():
        assert model["uid"] and model["title"], name
        panels = [p for p in iter_panels(model["panels"]) if p["type"] != "row"]
        assert len(panels) >= 5, f"{name} has only {len(panels)} panels"
        for panel in panels:
            assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
            assert panel["targets"], f"{name}: {panel['title']} has no query"
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == uid
                assert target["expr"].strip()


def test_dashboards_use_only_exported_metrics() -> None:
    known = exported_metric_names() | SERVICE_SPECIFIC
    used = dashboard_metric_names()
    assert used - known == set(), f"dashboards query metrics nobody exports: {used - known}"
    by_file = dashboard_metrics_by_file()
    assert "partygrid_scoring_points_awarded_total" in by_file["scoring.json"]
    assert "partygrid_scoring_freshness_seconds" in by_file["overview.json"]
    assert {"partygrid_grids_incidents_open", "partygrid_grids_incidents_overdue"} <= by_file[
        "grids.json"
    ]
    assert "faststream_received_messages_total" in by_file["overview.json"]
    for name in ("members.json", "grids.json", "activities.json", "scoring.json"):
        service = name.removesuffix(".json")
        exprs = " ".join(dashboard_exprs(load_dashboards()[name]))
        assert f'service="{service}"' in exprs and f'app_name="{service}"' in exprs


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("sum(partygrid_consumer_lag)", {"partygrid_consumer_lag"}),
        (
            'histogram_quantile(0.99, sum by (service, le) (rate(a_bucket{le="+Inf", '
            'x=~"by|rate"}[$__rate_interval])))',
            {"a_bucket"},
        ),
        ("-sum without (type) (increase(b_total[1h] offset 5m)) / on(service) c", {"b_total", "c"}),
        ("rate(d[5m:30s]) > bool 1e3 and e unless f or ${var}", {"d", "e", "f"}),
        ('label_replace(g, "dst", "$1", "src", "(.*)")', {"g"}),
        ("h:recorded:rate5m * 100", {"h:recorded:rate5m"}),
    ],
)
def test_metric_name_extraction(expr: str, names: set[str]) -> None:
    assert metric_names_in(expr) == names


def _generator() -> ModuleType:
    path = GRAFANA / "generate_dashboards.py"
    spec = importlib.util.spec_from_file_location("generate_dashboards", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_dashboards_match_the_generator() -> None:
    generator = _generator()
    assert generator.DATASOURCE_UID == _provisioned_uid()
    models: dict[str, dict[str, Any]] = generator.all_dashboards()
    for name, model in models.items():
        committed = (DASHBOARDS_DIR / name).read_text(encoding="utf-8")
        assert committed == generator.render(model), (
            f"{name} differs from deploy/grafana/generate_dashboards.py: run it and commit"
        )
        json.loads(committed)
