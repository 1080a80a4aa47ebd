"""End to end: the four services started as separate processes by the same supervisor as
`make run` (on this test's real PostgreSQL and tansu broker), driven from outside the way
another city system would: raw aiokafka producers and HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dev.testing import cloud_event, publish_raw, read_topic, wait_until
from shared.events import ACTIVITY_LOGGED, DEADLETTER_TOPIC, MEMBER_REPORTED, REGION_DEFINED

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 100  # ports 8101-8104, so a `make run` on this machine does not collide
TOKEN = "e2e-city-admin-token-000001"
pytestmark = pytest.mark.e2e


@pytest.fixture
def suite(pg_server, kafka, tmp_path: Path) -> Iterator[dict]:
    env = dict(
        os.environ,
        DATABASE_URL=pg_server.url,
        KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap,
        PORT_OFFSET=str(OFFSET),
        API_TOKENS=f"{TOKEN}:city_admin:*",
        DEMO="0",
        TOPIC_PARTITIONS="2",
        CONSUMER_BATCH_TIMEOUT_MS="20",
    )
    # each e2e run gets its own databases
    env["DATABASE_PREFIX"] = "e2e" + tmp_path.name.replace("-", "_")[-12:]
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dev.run", "--data", str(tmp_path / "data")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            text = (tmp_path / "run.log").read_text()
            if "all services ready" in text:
                break
            assert proc.poll() is None, text
            time.sleep(0.3)
        else:
            pytest.fail("suite not ready in 90 s:\n" + (tmp_path / "run.log").read_text())
        yield {"proc": proc, "log": tmp_path / "run.log", "bootstrap": kafka.bootstrap}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(40)
        log.close()


def url(service_port: int, path: str) -> str:
    return f"http://127.0.0.1:{service_port + OFFSET}{path}"


async def test_thin_path_duplicate_and_dead_letter_from_outside(suite: dict) -> None:
    bootstrap = suite["bootstrap"]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=5) as http:
        for port in (8001, 8002, 8003, 8004):
            assert (await http.get(url(port, "/readyz"))).status_code == 200
            assert (await http.get(url(port, "/healthz"))).json()["status"] == "alive"
        async with httpx.AsyncClient() as anonymous:
            denied = await anonymous.get(url(8004, "/v1/rules"))
            assert denied.status_code == 401 and denied.json()["error"] == "unauthorized"

        logged = cloud_event(
            ACTIVITY_LOGGED,
            {
                "member_id": "M000123",
                "activity_type": "volunteer_service",
                "hours": 2.5,
                "activity_id": "A-778",
            },
            subject="M000123",
            id="vp-2026-000123",
            source="/city/volunteer-platform",
            time="2026-11-21T09:30:00+08:00",
        )
        study = cloud_event(
            ACTIVITY_LOGGED,
            {"member_id": "M000123", "activity_type": "study"},
            subject="M000123",
            id="vp-2026-000124",
            source="/city/volunteer-platform",
            time="2026-11-21T10:30:00+08:00",
        )
        await publish_raw(
            bootstrap,
            [
                (
                    REGION_DEFINED,
                    b"S1",
                    cloud_event(
                        REGION_DEFINED,
                        {"region_id": "S1", "level": "street", "name": "东街道", "parent_id": "D1"},
                        subject="S1",
                    ),
                ),
                (
                    REGION_DEFINED,
                    b"C1",
                    cloud_event(
                        REGION_DEFINED,
                        {
                            "region_id": "C1",
                            "level": "community",
                            "name": "一社区",
                            "parent_id": "S1",
                        },
                        subject="C1",
                    ),
                ),
                (
                    MEMBER_REPORTED,
                    b"M000123",
                    cloud_event(
                        MEMBER_REPORTED,
                        {"member_id": "M000123", "community_id": "C1"},
                        subject="M000123",
                        time="2026-11-02T09:00:00+08:00",
                    ),
                ),
                (ACTIVITY_LOGGED, b"M000123", logged),
                (ACTIVITY_LOGGED, b"M000123", logged),  # the same event again
                (ACTIVITY_LOGGED, b"M000123", b"\xff not json"),
                (ACTIVITY_LOGGED, b"M000123", study),  # the next good message
            ],
        )

        async def points() -> dict | None:
            r = await http.get(
                url(8004, "/v1/members/M000123/points"), params={"period": "2026-11"}
            )
            body = r.json()
            # the report comes on its own topic: no order with the activities, so wait for both
            done = r.status_code == 200 and {"study", "member_reported"} <= set(body["by_type"])
            return body if done else None

        body = await wait_until(points, timeout=30)
        # 2.5 h × 2 + study 1 + first report of the year 10; the duplicate counted once
        assert body["points"] == 16.0
        assert body["by_type"] == {"volunteer_service": 5.0, "study": 1.0, "member_reported": 10.0}

        streets = (
            await http.get(url(8004, "/v1/rankings/streets"), params={"period": "2026-11"})
        ).json()
        assert streets["items"][0] == {
            "rank": 1,
            "region_id": "S1",
            "name": "东街道",
            "score": 16.0,
            "members": 1,
            "total_points": 16.0,
            "active_members": 1,
        }

    letters = await read_topic(bootstrap, DEADLETTER_TOPIC, min_count=1)
    data = [json.loads(r.value)["data"] for r in letters]
    assert any(
        d["reason"] == "not_json" and d["service"] == "scoring" and d["topic"] == ACTIVITY_LOGGED
        for d in data
    ), data
    suite["proc"].send_signal(signal.SIGINT)
    assert suite["proc"].wait(40) == 0
    assert "stopped" in suite["log"].read_text()


async def test_regions_from_grids_and_reports_from_members_rank_in_scoring(suite: dict) -> None:
    """The services talk only through Kafka: grids defines the tree, members registers and
    reports a member there, and scoring ranks the street with that member counted."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        for body in (
            {"region_id": "350302", "level": "district", "name": "城厢区"},
            {
                "region_id": "350302001",
                "level": "street",
                "name": "龙桥街道",
                "parent_id": "350302",
            },
            {
                "region_id": "350302001001",
                "level": "community",
                "name": "东岩社区",
                "parent_id": "350302001",
            },
        ):
            r = await http.post(url(8002, "/v1/regions"), json=body)
            assert r.status_code == 201, r.text
        r = await http.put(
            url(8001, "/v1/party-orgs/ORG-HOSP"), json={"name": "区医院党委", "kind": "hospital"}
        )
        assert r.status_code in (200, 201), r.text
        r = await http.post(
            url(8001, "/v1/members"),
            json={
                "member_id": "M-E2E-1",
                "name": "陈静",
                "category": "in_service",
                "party_org_id": "ORG-HOSP",
            },
        )
        assert r.status_code == 201, r.text

        async def reported() -> bool:  # members learns the community from grids' event
            r = await http.post(
                url(8001, "/v1/members/M-E2E-1/reports"), json={"community_id": "350302001001"}
            )
            return r.status_code in (200, 201)

        await wait_until(reported, timeout=30, interval=0.3)

        async def ranked() -> dict | None:
            r = await http.get(url(8004, "/v1/rankings/streets"))
            items = r.json().get("items", [])
            return items[0] if items and items[0]["members"] == 1 else None

        street = await wait_until(ranked, timeout=30)
        assert street["region_id"] == "350302001" and street["name"] == "龙桥街道"
        assert street["score"] == 10.0  # the first report of the year
        fb = await http.get(
            url(8004, "/v1/reports/feedback"),
            params={"party_org_id": "ORG-HOSP", "period": "2026-H2"},
        )
        assert [m["member_id"] for m in fb.json()["members"]] == ["M-E2E-1"]
