"""Every metric a Grafana dashboard queries is really exported by a running service, and a real
Prometheus scraping the running suite answers every panel and raises the alerts.

The four services are started once for this module as separate processes by the `make run`
supervisor (on an embedded PostgreSQL and tansu broker), with a real Prometheus (Debian's
package) scraping them every second and evaluating deploy/prometheus/alerts.yml every second.
A little traffic goes through them from outside (events on Kafka, including a revocation, a
penalty and malformed messages; HTTP requests; an incident past its time limit). Then:
- each service's GET /metrics is read: a dashboard query naming a metric that no service exports
  — or exports with no series at all, which Grafana shows as "No data" — fails;
- every panel query is evaluated by Prometheus and must return series;
- every alert expression is evaluated, every metric it selects has series, and the dead-letter
  alert fires.
Histograms count through their _bucket, _sum and _count series.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from dev.embedded import free_port, start_kafka
from dev.monitoring import ALERT_RULES
from dev.testing import cloud_event, publish_raw, wait_until
from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
)
from tests.deploy.dashboards import (
    dashboard_metric_names,
    dashboard_metrics_by_file,
    iter_panels,
    load_dashboards,
    metric_names_in,
)
from tests.ops.prometheus import grafana_expr, query, running_prometheus

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 300  # ports 8301-8304: clear of `make run` (8001-8004) and the e2e suite (8101-8104)
PORTS = {"members": 8001, "grids": 8002, "activities": 8003, "scoring": 8004}
TOKEN = "ops-city-admin-token-0000001"
pytestmark = pytest.mark.e2e

# Counters that only get a series when something goes wrong: /metrics declares them (HELP and
# TYPE) from the start, and their first series appears with the first error. FastStream counts
# exceptions escaping a subscriber; the inbox consumer turns bad input into dead letters
# instead, so healthy traffic never raises one. Dashboards should show these with `or vector(0)`.
SERIES_ONLY_ON_ERROR = {"faststream_received_processed_messages_exceptions_total"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ops")


@pytest.fixture(scope="module")
def suite(pg_server: Any, workdir: Path) -> Iterator[dict[str, Any]]:
    kafka = start_kafka(free_port(), log_path=workdir / "tansu.log")
    tmp_path = workdir
    env = dict(
        os.environ,
        DATABASE_URL=pg_server.url,
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap,
        PORT_OFFSET=str(OFFSET),
        API_TOKENS=f"{TOKEN}:city_admin:*",
        DEMO="0",
        TOPIC_PARTITIONS="2",
        CONSUMER_BATCH_TIMEOUT_MS="20",
        OUTBOX_POLL_SECONDS="0.2",
        GRIDS_REFRESH_SECONDS="1",  # the gauges re-read from the database (visit duty)
        DATABASE_PREFIX="ops" + tmp_path.name.replace("-", "_")[-12:],
    )
    log_path = tmp_path / "run.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dev.run", "--data", str(tmp_path / "data")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while "all services ready" not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            if time.monotonic() > deadline:
                pytest.fail("suite not ready in 90 s:\n" + log_path.read_text())
            time.sleep(0.3)
        yield {"bootstrap": kafka.bootstrap, "log": log_path}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(40)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        kafka.stop()


@pytest.fixture(scope="module")
def prometheus(suite: dict[str, Any], workdir: Path) -> Iterator[str]:
    targets = [f"127.0.0.1:{port + OFFSET}" for port in PORTS.values()]
    with running_prometheus(targets, workdir) as base_url:
        yield base_url


@pytest.fixture(scope="module")
async def driven(suite: dict[str, Any], prometheus: str) -> dict[str, str]:
    """Drive the traffic once (Prometheus is already scraping); each service's /metrics text."""
    await publish_raw(suite["bootstrap"], traffic())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=5) as http:

        async def scored() -> bool:
            r = await http.get(url("scoring", "/v1/members/M90001/points"))
            return r.status_code == 200 and r.json()["points"] > 0

        await wait_until(scored, timeout=30)

        # HTTP traffic on every service (2xx and 4xx), so the latency histograms get series
        for service in PORTS:
            assert (await http.get(url(service, "/readyz"))).status_code == 200
        assert (await http.get(url("scoring", "/v1/rankings/streets"))).status_code == 200
        assert (await http.get(url("scoring", "/v1/members/NOPE/points"))).status_code == 404

        # an incident reported two hours ago with a one-hour limit: overdue in community C9
        async def reported() -> bool:
            r = await http.post(
                url("grids", "/v1/grids/G9/incidents"),
                json={
                    "category": "sanitation",
                    "title": "垃圾未清运",
                    "time_limit_hours": 1,
                    "reported_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
                },
            )
            return r.status_code == 201  # 404 until grids has applied region G9

        await wait_until(reported, timeout=30)

        # residents rate a closed incident and a fulfilled small wish (the satisfaction gauges);
        # M90001's volunteer hours above moved its time bank account (timebank.changed)
        async def ok(response: httpx.Response) -> dict[str, Any]:
            assert response.status_code < 300, response.text
            return dict(response.json())

        staff = {"role": "worker", "name": "网格员"}
        await ok(await http.put(url("grids", "/v1/grids/G9/staff/W-G9"), json=staff))
        incident = (
            await ok(
                await http.post(
                    url("grids", "/v1/grids/G9/incidents"),
                    json={"category": "sanitation", "title": "楼道堆物", "time_limit_hours": 48},
                )
            )
        )["incident_id"]
        for step, body in (
            ("assign", {"assignee_id": "W-G9"}),
            ("resolve", {"resolution": "已清理"}),
            ("close", {}),
            ("rating", {"score": 4}),
        ):
            await ok(await http.post(url("grids", f"/v1/incidents/{incident}/{step}"), json=body))
        wish = (
            await ok(
                await http.post(
                    url("activities", "/v1/wishes"),
                    json={
                        "community_id": "C9",
                        "title": "助行器",
                        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                    },
                )
            )
        )["wish_id"]

        async def claimed() -> bool:  # once activities knows M90001 reported in C9
            r = await http.post(
                url("activities", f"/v1/wishes/{wish}/claim"), json={"member_id": "M90001"}
            )
            return r.status_code < 300

        await wait_until(claimed, timeout=30)
        await ok(await http.post(url("activities", f"/v1/wishes/{wish}/fulfil")))
        await ok(await http.post(url("activities", f"/v1/wishes/{wish}/rating"), json={"score": 5}))

        # every service dead-lettered the malformed member message and published the
        # dead-letter event; scoring also published points.changed; grids flagged the overdue
        # incident and re-read the satisfaction and visit duty gauges; activities published the
        # time bank movement
        wanted = [(s, "partygrid_events_deadlettered_total{") for s in PORTS]
        wanted += [(s, "partygrid_outbox_published_total{") for s in PORTS]
        wanted += [
            ("grids", 'partygrid_grids_incidents_overdue_by_community{community="C9"}'),
            ("grids", 'partygrid_grids_satisfaction_ratings{street="S9"} 1.0'),
            ("grids", 'partygrid_grids_visit_duty_workers{status="not_met",street="S9"}'),
            ("activities", 'partygrid_activities_wish_satisfaction_ratings{street="S9"} 1.0'),
            ("activities", 'topic="partygrid.timebank.changed"'),
        ]
        texts: dict[str, str] = {}

        async def missing() -> list[str]:
            texts.update({s: (await http.get(url(s, "/metrics"))).text for s in PORTS})
            return [f"{s}: {text}" for s, text in wanted if text not in texts[s]]

        async def settled() -> bool:
            return not await missing()

        try:
            await wait_until(settled, timeout=30)
        except AssertionError:
            pytest.fail("series never exported:\n" + "\n".join(await missing()))
        return texts


def url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{PORTS[service] + OFFSET}{path}"


def traffic() -> list[tuple[str, bytes, Any]]:
    now = datetime.now(UTC)
    earlier = now - timedelta(minutes=5)
    msgs: list[tuple[str, bytes, Any]] = []

    def ev(type_: str, key: str, data: dict[str, Any], **kw: Any) -> None:
        msgs.append((type_, key.encode(), cloud_event(type_, data, subject=key, **kw)))

    ev(REGION_DEFINED, "D9", {"region_id": "D9", "level": "district", "name": "测试区"})
    ev(REGION_DEFINED, "S9", {"region_id": "S9", "level": "street", "name": "测试街道",
                              "parent_id": "D9"})  # fmt: skip
    ev(REGION_DEFINED, "C9", {"region_id": "C9", "level": "community", "name": "测试社区",
                              "parent_id": "S9"})  # fmt: skip
    ev(REGION_DEFINED, "G9", {"region_id": "G9", "level": "grid", "name": "测试网格",
                              "parent_id": "C9"})  # fmt: skip
    for m in ("M90001", "M90002"):
        ev(MEMBER_REGISTERED, m, {"member_id": m, "name": "林测试", "category": "resident",
                                  "party_org_id": "PO9"})  # fmt: skip
        ev(
            MEMBER_REPORTED,
            m,
            {"member_id": m, "community_id": "C9", "grid_id": "G9"},
            time=earlier,
        )
    ev(ACTIVITY_LOGGED, "M90001", {"member_id": "M90001", "activity_type": "volunteer_service",
                                   "hours": 2}, id="ops-vs-1", source="/city/volunteer-platform",
       time=earlier)  # fmt: skip
    ev(
        ACTIVITY_LOGGED,
        "M90002",
        {"member_id": "M90002", "activity_type": "study"},
        id="ops-study-1",
        source="/city/org-life-system",
        time=earlier,
    )
    ev(ACTIVITY_LOGGED, "M90002", {"member_id": "M90002",
                                   "activity_type": "organization_life_absent"})  # fmt: skip
    ev(ACTIVITY_REVOKED, "M90002", {"member_id": "M90002", "revokes": {
        "source": "/city/org-life-system", "id": "ops-study-1"}},
       source="/city/org-life-system")  # fmt: skip
    # events twice (duplicates) and malformed messages (dead letters): for scoring, and on a
    # topic every service consumes
    msgs.append(msgs[-4])
    msgs.append(next(m for m in msgs if m[0] == MEMBER_REGISTERED))
    msgs.append((ACTIVITY_LOGGED, b"M90001", b"\xff not json"))
    msgs.append((MEMBER_REGISTERED, b"M90003", b"{not json either"))
    return msgs


def exported(text: str) -> tuple[set[str], set[str]]:
    """(series names with at least one sample, metric names declared without any sample)."""
    with_samples: set[str] = set()
    declared: set[str] = set()
    for family in text_string_to_metric_families(text):
        names = {s.name for s in family.samples}
        with_samples |= names
        if not names:
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
            declared |= {family.name + s for s in suffixes.get(family.type, ("",))}
    return with_samples, declared


async def test_every_dashboard_metric_is_exported_by_a_running_service(
    driven: dict[str, str],
) -> None:
    wanted = dashboard_metric_names()
    assert len(wanted) >= 10, f"the dashboards name suspiciously few metrics: {sorted(wanted)}"
    texts = driven
    found: set[str] = set()
    declared_only: set[str] = set()
    for text in texts.values():
        with_samples, declared = exported(text)
        found |= with_samples
        declared_only |= declared
    declared_only -= found
    missing = sorted(wanted - found - (SERIES_ONLY_ON_ERROR & declared_only))
    where = {
        name: sorted(f for f, names in dashboard_metrics_by_file().items() if name in names)
        for name in missing
    }
    detail = "; ".join(
        f"{n} (in {', '.join(where[n])}"
        + (", declared but no series yet" if n in declared_only else ", exported by no service")
        + ")"
        for n in missing
    )
    assert not missing, f"dashboard queries name metrics the services do not export: {detail}"
    assert SERIES_ONLY_ON_ERROR <= found | declared_only
    # and the services export the metrics docs/design.md §6 promises, with labels
    scoring = texts["scoring"]
    assert 'partygrid_events_applied_total{service="scoring",type="partygrid.activity.logged"}' in (
        scoring
    )
    assert 'reason="not_json"' in scoring
    assert 'partygrid_scoring_points_awarded_total{activity_type="volunteer_service"} 4.0' in (
        scoring
    )


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


async def test_every_dashboard_panel_returns_series_from_a_real_prometheus(
    driven: dict[str, str], prometheus: str
) -> None:
    targets = [
        (f"{file_name}: {panel.get('title')}", target["expr"])
        for file_name, model in load_dashboards().items()
        for panel in iter_panels(model.get("panels", []))
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
    assert len(targets) >= 40, f"suspiciously few panel queries: {len(targets)}"
    async with httpx.AsyncClient(base_url=prometheus, timeout=5) as http:

        async def empty_ones() -> list[str]:
            return [
                f"{where}: {expr}"
                for where, expr in targets
                if not await query(http, grafana_expr(expr))
                # only an error gives these a series (see SERIES_ONLY_ON_ERROR)
                and not metric_names_in(expr) <= SERIES_ONLY_ON_ERROR
            ]

        async def none_empty() -> bool:
            return not await empty_ones()

        try:  # until Prometheus has scraped the traffic everywhere
            await wait_until(none_empty, timeout=30, interval=1)
        except AssertionError:
            pytest.fail("panels without data on Prometheus:\n" + "\n".join(await empty_ones()))


async def test_every_alert_expression_evaluates_on_series_prometheus_scraped(
    driven: dict[str, str], prometheus: str
) -> None:
    rules = alert_rules()
    async with httpx.AsyncClient(base_url=prometheus, timeout=5) as http:
        for rule in rules:
            await query(http, rule["expr"])  # valid PromQL on this Prometheus
            for name in metric_names_in(rule["expr"]):

                async def has_series(name: str = name) -> bool:
                    return bool(await query(http, f"group({name})"))

                try:
                    await wait_until(has_series, timeout=15, interval=0.5)
                except AssertionError:
                    pytest.fail(f"{rule['alert']}: Prometheus has no series of {name}")
        # the conditions the traffic creates hold: dead letters and an overdue incident
        dead = await query(
            http, next(r for r in rules if r["alert"] == "PartyGridDeadLetters")["expr"]
        )
        assert {(s["metric"]["service"], s["metric"]["reason"]) for s in dead} >= {
            (service, "not_json") for service in PORTS
        }
        overdue = await query(
            http, next(r for r in rules if r["alert"] == "PartyGridIncidentsOverdue")["expr"]
        )
        assert [(s["metric"]["community"], s["value"][1]) for s in overdue] == [("C9", "1")]
        # and a healthy suite raises none of the availability alerts
        for name in ("PartyGridServiceDown", "PartyGridServiceNotReady", "PartyGridOutboxStuck"):
            expr = next(r for r in rules if r["alert"] == name)["expr"]
            assert await query(http, expr) == [], name


async def test_dead_letter_alert_fires_on_a_real_scrape(
    driven: dict[str, str], prometheus: str
) -> None:
    async with httpx.AsyncClient(base_url=prometheus, timeout=5) as http:

        async def firing() -> set[tuple[str, str]]:
            alerts = (await http.get("/api/v1/alerts")).json()["data"]["alerts"]
            return {
                (a["labels"]["service"], a["labels"]["reason"])
                for a in alerts
                if a["labels"]["alertname"] == "PartyGridDeadLetters" and a["state"] == "firing"
            }

        async def all_four() -> set[tuple[str, str]] | None:
            got = await firing()
            return got if {(s, "not_json") for s in PORTS} <= got else None

        got = await wait_until(all_four, timeout=20, interval=0.5)
    assert all(reason == "not_json" for _, reason in got)
