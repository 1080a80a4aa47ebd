"""Every metric a Grafana dashboard queries is really exported by a running service.

The four services are started as separate processes by the `make run` supervisor (on this
test's embedded PostgreSQL and tansu broker), a little traffic goes through them from outside
(events on Kafka, including a revocation, a penalty and a malformed message; HTTP requests), and
then each service's GET /metrics is read. A dashboard query naming a metric that no service
exports — or exports with no series at all, which Grafana shows as "No data" — fails the test.
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
from prometheus_client.parser import text_string_to_metric_families

from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
)
from shared.testing import cloud_event, publish_raw, wait_until
from tests.deploy.dashboards import dashboard_metric_names, dashboard_metrics_by_file

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


@pytest.fixture
def suite(pg_server: Any, kafka: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
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
        DATABASE_PREFIX="ops" + tmp_path.name.replace("-", "_")[-12:],
    )
    log_path = tmp_path / "run.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.run", "--data", str(tmp_path / "data")],
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
    # the same event twice (duplicate) and a malformed message (dead letter)
    msgs.append(msgs[-4])
    msgs.append((ACTIVITY_LOGGED, b"M90001", b"\xff not json"))
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


async def test_every_dashboard_metric_is_exported_by_a_running_service(suite: dict) -> None:
    wanted = dashboard_metric_names()
    assert len(wanted) >= 10, f"the dashboards name suspiciously few metrics: {sorted(wanted)}"
    await publish_raw(suite["bootstrap"], traffic())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=5) as http:

        async def scored() -> bool:
            r = await http.get(url("scoring", "/v1/members/M90001/points"))
            return r.status_code == 200 and r.json()["points"] > 0

        await wait_until(scored, timeout=30)

        async def metrics_text() -> dict[str, str]:
            return {s: (await http.get(url(s, "/metrics"))).text for s in PORTS}

        # HTTP traffic on every service (2xx and 4xx), so the latency histograms get series
        for service in PORTS:
            assert (await http.get(url(service, "/readyz"))).status_code == 200
        assert (await http.get(url("scoring", "/v1/rankings/streets"))).status_code == 200
        assert (await http.get(url("scoring", "/v1/members/NOPE/points"))).status_code == 404

        async def settled() -> dict[str, str] | None:
            texts = await metrics_text()
            # wait for the dead letter and for scoring's outbox to publish points.changed
            ok = "partygrid_events_deadlettered_total{" in texts["scoring"] and (
                "partygrid_outbox_published_total{" in texts["scoring"]
            )
            return texts if ok else None

        texts = await wait_until(settled, timeout=30)

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
