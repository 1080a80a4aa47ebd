"""The audit trail: every state-changing request in every service leaves one row in that
service's own database — in the transaction of its change when it made one — readable by city
admins through GET /v1/audit with filters. The four services run once for the module (one
broker, a database each); each test starts from an empty trail."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import (
    REVIEWER_TOKEN,
    TEST_TOKENS,
    cloud_event,
    publish_raw,
    running_app,
    wait_until,
)
from services.activities.main import create_app as activities_app
from services.grids.main import create_app as grids_app
from services.members.main import create_app as members_app
from services.scoring.main import create_app as scoring_app
from shared.auth import fingerprint
from shared.events import ACTIVITY_LOGGED
from shared.settings import Settings
from tests.activities.helpers import COMMUNITY, seed_regions

SECRETARY = "test-secretary-token-0001"  # a named city admin token
TOKENS = f"{TEST_TOKENS},{SECRETARY}:city_admin:*:李书记"
READONLY = "test-readonly-token-00001"
APPS: dict[str, Callable[[Settings], FastAPI]] = {
    "members": members_app,
    "grids": grids_app,
    "activities": activities_app,
    "scoring": scoring_app,
}


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient  # sends the secretary's token
    bootstrap: str

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool

    def anonymous(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test"
        )


@pytest.fixture(scope="module")
async def running(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Service]]:
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    try:
        async with contextlib.AsyncExitStack() as stack:
            services = {}
            for name, create in APPS.items():
                settings = Settings(
                    service_name=name,
                    kafka_bootstrap_servers=broker.bootstrap,
                    database_url=pg_server.url,
                    database_name=f"{prefix}_{name}",
                    log_json=False,
                    topic_partitions=1,
                    consumer_batch_timeout_ms=20,
                    api_tokens=TOKENS,
                )
                app = create(settings)
                client = await stack.enter_async_context(running_app(app, token=SECRETARY))
                services[name] = Service(app, client, broker.bootstrap)
            yield services
    finally:
        broker.stop()


async def fresh(running: dict[str, Service], name: str) -> Service:
    """The service with an empty audit trail."""
    service = running[name]
    await service.pool.execute("DELETE FROM audit_log")
    return service


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def trail(client: httpx.AsyncClient, **filters: Any) -> list[dict[str, Any]]:
    r = await client.get("/v1/audit", params=filters, headers=bearer(SECRETARY))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_members_change_is_audited_with_its_actor(running: dict[str, Service]) -> None:
    svc = await fresh(running, "members")
    r = await svc.client.put("/v1/party-orgs/PO1", json={"name": "机关党委", "kind": "organ"})
    assert r.status_code == 201, r.text
    [entry] = await trail(svc.client)
    assert entry["actor"] == "李书记" and entry["actor_kind"] == "token"
    assert entry["method"] == "PUT" and entry["endpoint"] == "/v1/party-orgs/{party_org_id}"
    assert entry["resource"] == "/v1/party-orgs/PO1"
    assert (entry["outcome"], entry["status"]) == ("ok", 201)


async def test_grids_change_is_audited_with_its_actor(running: dict[str, Service]) -> None:
    svc = await fresh(running, "grids")
    r = await svc.client.post(
        "/v1/regions", json={"region_id": "D1", "level": "district", "name": "荔城区"}
    )
    assert r.status_code == 201, r.text
    [entry] = await trail(svc.client)
    assert (entry["actor"], entry["endpoint"], entry["outcome"]) == ("李书记", "/v1/regions", "ok")


async def test_activities_change_is_audited_with_its_actor(running: dict[str, Service]) -> None:
    svc = await fresh(running, "activities")
    await seed_regions(svc.bootstrap, svc.pool)  # a post is placed in a known community
    body = {
        "title": "党员志愿服务",
        "community_id": COMMUNITY,
        "category": "other",
        "duties": "巡河",
    }
    r = await svc.client.post("/v1/service-posts", json=body)
    assert r.status_code == 201, r.text
    [entry] = await trail(svc.client)
    assert (entry["actor"], entry["endpoint"]) == ("李书记", "/v1/service-posts")
    assert (entry["outcome"], entry["status"]) == ("ok", 201)


async def test_scoring_board_steps_are_audited_with_their_author(
    running: dict[str, Service],
) -> None:
    svc = await fresh(running, "scoring")
    client = svc.client
    period = (await client.get("/v1/rankings/streets")).json()["period"]
    board = await client.post("/v1/boards", json={"period": period, "subject": "members"})
    assert board.status_code == 201, board.text
    board_id = board.json()["board_id"]
    checker = {"Authorization": f"Bearer {REVIEWER_TOKEN}"}  # not the drafter
    await client.post(f"/v1/boards/{board_id}/review", json={"reviewer": "组织部"}, headers=checker)
    await client.post(f"/v1/boards/{board_id}/publish", headers=checker)
    steps = await trail(client, resource=f"/v1/boards/{board_id}")
    drafted = await trail(client, endpoint="/v1/boards")
    shown = (await client.get(f"/v1/boards/{board_id}")).json()
    assert [(e["endpoint"], e["actor"]) for e in steps] == [
        ("/v1/boards/{board_id}/publish", "reviewer"),
        ("/v1/boards/{board_id}/review", "reviewer"),
    ]
    assert [e["actor"] for e in drafted] == ["李书记"]
    # the board itself shows who did each step
    assert (shown["drafted_by"], shown["review_entered_by"], shown["published_by"]) == (
        "李书记",
        "reviewer",
        "reviewer",
    )


async def test_rule_versions_show_their_author(running: dict[str, Service]) -> None:
    svc = await fresh(running, "scoring")
    rule = {"activity_type": "study", "points": 2, "effective_from": "2026-01-01T00:00:00+08:00"}
    added = await svc.client.post("/v1/rules", json=rule)
    assert added.status_code == 201, added.text
    assert added.json()["rule"]["created_by"] == "李书记"
    versions = (await svc.client.get("/v1/rules")).json()["versions"]
    authors = {(v["activity_type"], v["created_by"]) for v in versions if v["points"] == 2}
    assert ("study", "李书记") in authors
    assert all(v["created_by"] is None for v in versions if v["points"] != 2)  # defaults


async def test_dead_letter_republication_shows_its_author(running: dict[str, Service]) -> None:
    svc = await fresh(running, "scoring")
    bad = cloud_event(ACTIVITY_LOGGED, {"member_id": "M1", "activity_type": "dancing"}, id="d1")
    await publish_raw(svc.bootstrap, [(ACTIVITY_LOGGED, b"M1", bad)])

    async def listed() -> list[dict[str, Any]]:
        return (await svc.client.get("/v1/dead-letters")).json()["items"]

    [letter] = await wait_until(listed)
    fixed = {**bad, "data": {"member_id": "M1", "activity_type": "study"}}
    r = await svc.client.post(
        "/v1/dead-letters/republish", json={"ids": [letter["id"]], "value": fixed}
    )
    assert r.json()["results"][0]["outcome"] == "republished", r.text
    shown = (await svc.client.get(f"/v1/dead-letters/{letter['id']}")).json()
    [entry] = await trail(svc.client, endpoint="/v1/dead-letters/republish")
    assert shown["republished_by"] == "李书记"
    assert (entry["actor"], entry["outcome"]) == ("李书记", "ok")


async def test_change_that_rolls_back_leaves_no_success_row(running: dict[str, Service]) -> None:
    svc = await fresh(running, "members")
    member = {
        "member_id": "M-ROLLBACK",
        "name": "张三",
        "category": "resident",
        "party_org_id": "NO-SUCH-ORG",  # checked after the member row is locked (created)
        "joined_on": "2001-07-01",
    }
    r = await svc.client.post("/v1/members", json=member)
    assert r.status_code == 422, r.text
    entries = await trail(svc.client, resource="/v1/members")
    kept = await svc.pool.fetchval("SELECT count(*) FROM members WHERE member_id = 'M-ROLLBACK'")
    assert [(e["outcome"], e["status"], e["error"]) for e in entries] == [
        ("refused", 422, "invalid_request")
    ]
    assert kept == 0  # nothing of the change is left


async def test_refused_requests_are_audited_with_who_asked(running: dict[str, Service]) -> None:
    svc = await fresh(running, "members")
    body = {"name": "机关党委", "kind": "organ"}
    async with svc.anonymous() as client:
        assert (await client.put("/v1/party-orgs/PO-R", json=body)).status_code == 401
        ro = await client.put("/v1/party-orgs/PO-R", json=body, headers=bearer(READONLY))
        assert ro.status_code == 403
    entries = await trail(svc.client, outcome="refused")
    assert [(e["actor"], e["status"], e["error"]) for e in entries] == [
        (fingerprint(READONLY), 403, "forbidden"),  # an unnamed token: never the token itself
        ("anonymous", 401, "unauthorized"),
    ]
    assert entries[0]["role"] == "service"


async def test_audit_filters_select_entries(running: dict[str, Service]) -> None:
    svc = await fresh(running, "members")
    client = svc.client
    before = datetime.now(UTC)
    for org in ("PO-F1", "PO-F2"):
        r = await client.put(f"/v1/party-orgs/{org}", json={"name": org, "kind": "organ"})
        assert r.status_code == 201
    admin = await client.put(
        "/v1/party-orgs/PO-F3",
        json={"name": "PO-F3", "kind": "organ"},
        headers=bearer("test-city-admin-token-0001"),
    )
    assert admin.status_code == 201
    middle = datetime.now(UTC)
    await client.put("/v1/party-orgs/PO-F4", json={"name": "x", "kind": "nonsense"})
    assert len(await trail(client, actor="李书记")) == 3
    assert [e["resource"] for e in await trail(client, resource="/v1/party-orgs/PO-F2")] == [
        "/v1/party-orgs/PO-F2"
    ]
    assert len(await trail(client, outcome="ok")) == 3
    assert len(await trail(client, outcome="refused")) == 1
    assert len(await trail(client, endpoint="/v1/party-orgs/{party_org_id}")) == 4
    assert len(await trail(client, endpoint="/v1/party-orgs")) == 0
    assert len(await trail(client, method="POST")) == 0
    assert len(await trail(client, since=before.isoformat(), until=middle.isoformat())) == 3
    assert len(await trail(client, since=middle.isoformat())) == 1
    page = await client.get("/v1/audit", params={"limit": 2}, headers=bearer(SECRETARY))
    assert page.json()["total"] == 4 and len(page.json()["items"]) == 2


async def test_only_city_admins_read_the_audit_trail(running: dict[str, Service]) -> None:
    svc = running["members"]
    r = await svc.client.get("/v1/audit", headers=bearer(READONLY))
    assert r.status_code == 403
