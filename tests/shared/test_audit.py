"""The audit trail: every state-changing request in every service leaves one row in that
service's own database — in the transaction of its change when it made one — readable by city
admins through GET /v1/audit with filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from services.activities.main import create_app as activities_app
from services.grids.main import create_app as grids_app
from services.members.main import create_app as members_app
from services.scoring.main import create_app as scoring_app
from shared.auth import fingerprint
from shared.events import ACTIVITY_LOGGED
from shared.settings import Settings
from shared.testing import TEST_TOKENS, cloud_event, publish_raw, running_app, wait_until

SECRETARY = "test-secretary-token-0001"  # a named city admin token
TOKENS = f"{TEST_TOKENS},{SECRETARY}:city_admin:*:李书记"
READONLY = "test-readonly-token-00001"

Make = Callable[..., Settings]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def trail(client: httpx.AsyncClient, **filters: Any) -> list[dict[str, Any]]:
    r = await client.get("/v1/audit", params=filters, headers=bearer(SECRETARY))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_members_change_is_audited_with_its_actor(settings_for: Make) -> None:
    app = members_app(settings_for("members", api_tokens=TOKENS))
    async with running_app(app, token=SECRETARY) as client:
        r = await client.put("/v1/party-orgs/PO1", json={"name": "机关党委", "kind": "organ"})
        assert r.status_code == 201, r.text
        [entry] = await trail(client)
    assert entry["actor"] == "李书记" and entry["actor_kind"] == "token"
    assert entry["method"] == "PUT" and entry["endpoint"] == "/v1/party-orgs/{party_org_id}"
    assert entry["resource"] == "/v1/party-orgs/PO1"
    assert (entry["outcome"], entry["status"]) == ("ok", 201)


async def test_grids_change_is_audited_with_its_actor(settings_for: Make) -> None:
    app = grids_app(settings_for("grids", api_tokens=TOKENS))
    async with running_app(app, token=SECRETARY) as client:
        r = await client.post(
            "/v1/regions", json={"region_id": "D1", "level": "district", "name": "荔城区"}
        )
        assert r.status_code in (200, 201), r.text
        [entry] = await trail(client)
    assert (entry["actor"], entry["endpoint"], entry["outcome"]) == ("李书记", "/v1/regions", "ok")


async def test_activities_change_is_audited_with_its_actor(settings_for: Make) -> None:
    app = activities_app(settings_for("activities", api_tokens=TOKENS))
    now = datetime.now(UTC)
    body = {
        "title": "党员志愿服务",
        "community_id": "C1",
        "category": "other",
        "duties": "巡河",
    }
    async with running_app(app, token=SECRETARY) as client:
        r = await client.post("/v1/service-posts", json=body)
        assert r.status_code == 201, r.text
        [entry] = await trail(client, since=(now - timedelta(minutes=1)).isoformat())
    assert (entry["actor"], entry["endpoint"]) == ("李书记", "/v1/service-posts")
    # whatever the service answered, the trail says so
    assert entry["status"] == r.status_code
    assert entry["outcome"] == ("ok" if r.status_code < 400 else "refused")


async def test_scoring_board_steps_are_audited_with_their_author(settings_for: Make) -> None:
    app = scoring_app(settings_for("scoring", api_tokens=TOKENS))
    async with running_app(app, token=SECRETARY) as client:
        period = (await client.get("/v1/rankings/streets")).json()["period"]
        board = await client.post("/v1/boards", json={"period": period, "subject": "members"})
        assert board.status_code == 201, board.text
        board_id = board.json()["board_id"]
        await client.post(f"/v1/boards/{board_id}/review", json={"reviewer": "组织部"})
        await client.post(f"/v1/boards/{board_id}/publish")
        steps = await trail(client, resource=f"/v1/boards/{board_id}")
        drafted = await trail(client, endpoint="/v1/boards")
        shown = (await client.get(f"/v1/boards/{board_id}")).json()
    assert [(e["endpoint"], e["actor"]) for e in steps] == [
        ("/v1/boards/{board_id}/publish", "李书记"),
        ("/v1/boards/{board_id}/review", "李书记"),
    ]
    assert [e["actor"] for e in drafted] == ["李书记"]
    # the board itself shows who did each step
    assert (shown["drafted_by"], shown["review_entered_by"], shown["published_by"]) == (
        "李书记",
        "李书记",
        "李书记",
    )


async def test_rule_versions_show_their_author(settings_for: Make) -> None:
    app = scoring_app(settings_for("scoring", api_tokens=TOKENS))
    rule = {"activity_type": "study", "points": 2, "effective_from": "2026-01-01T00:00:00+08:00"}
    async with running_app(app, token=SECRETARY) as client:
        added = await client.post("/v1/rules", json=rule)
        assert added.status_code == 201, added.text
        versions = (await client.get("/v1/rules")).json()["versions"]
    authors = {(v["activity_type"], v["created_by"]) for v in versions if v["points"] == 2}
    assert ("study", "李书记") in authors
    assert all(v["created_by"] is None for v in versions if v["points"] != 2)  # defaults


async def test_dead_letter_republication_shows_its_author(settings_for: Make, kafka: Any) -> None:
    app = scoring_app(settings_for("scoring", api_tokens=TOKENS))
    async with running_app(app, token=SECRETARY) as client:
        bad = cloud_event(ACTIVITY_LOGGED, {"member_id": "M1", "activity_type": "dancing"}, id="d1")
        await publish_raw(kafka.bootstrap, [(ACTIVITY_LOGGED, b"M1", bad)])

        async def listed() -> list[dict[str, Any]]:
            return (await client.get("/v1/dead-letters")).json()["items"]

        [letter] = await wait_until(listed)
        fixed = {**bad, "data": {"member_id": "M1", "activity_type": "study"}}
        r = await client.post(
            "/v1/dead-letters/republish", json={"ids": [letter["id"]], "value": fixed}
        )
        assert r.json()["results"][0]["outcome"] == "republished", r.text
        shown = (await client.get(f"/v1/dead-letters/{letter['id']}")).json()
        [entry] = await trail(client, endpoint="/v1/dead-letters/republish")
    assert shown["republished_by"] == "李书记"
    assert (entry["actor"], entry["outcome"]) == ("李书记", "ok")


async def test_change_that_rolls_back_leaves_no_success_row(settings_for: Make) -> None:
    app = members_app(settings_for("members", api_tokens=TOKENS))
    member = {
        "member_id": "M1",
        "name": "张三",
        "category": "resident",
        "party_org_id": "NO-SUCH-ORG",  # checked after the member row is locked (created)
        "joined_on": "2001-07-01",
    }
    async with running_app(app, token=SECRETARY) as client:
        r = await client.post("/v1/members", json=member)
        assert r.status_code == 422, r.text
        entries = await trail(client, resource="/v1/members")
        pool: asyncpg.Pool = app.state.runtime.pool
        kept = await pool.fetchval("SELECT count(*) FROM members WHERE member_id = 'M1'")
    assert [(e["outcome"], e["status"], e["error"]) for e in entries] == [
        ("refused", 422, "invalid_request")
    ]
    assert kept == 0  # nothing of the change is left


async def test_refused_requests_are_audited_with_who_asked(settings_for: Make) -> None:
    app = members_app(settings_for("members", api_tokens=TOKENS))
    async with running_app(app, token=None) as client:
        body = {"name": "机关党委", "kind": "organ"}
        assert (await client.put("/v1/party-orgs/PO1", json=body)).status_code == 401
        ro = await client.put("/v1/party-orgs/PO1", json=body, headers=bearer(READONLY))
        assert ro.status_code == 403
        entries = await trail(client, outcome="refused")
    assert [(e["actor"], e["status"], e["error"]) for e in entries] == [
        (fingerprint(READONLY), 403, "forbidden"),  # an unnamed token: never the token itself
        ("anonymous", 401, "unauthorized"),
    ]
    assert entries[0]["role"] == "service"


async def test_audit_filters_select_entries(settings_for: Make) -> None:
    app = members_app(settings_for("members", api_tokens=TOKENS))
    async with running_app(app, token=SECRETARY) as client:
        before = datetime.now(UTC)
        for org in ("PO1", "PO2"):
            r = await client.put(f"/v1/party-orgs/{org}", json={"name": org, "kind": "organ"})
            assert r.status_code == 201
        admin = await client.put(
            "/v1/party-orgs/PO3",
            json={"name": "PO3", "kind": "organ"},
            headers=bearer("test-city-admin-token-0001"),
        )
        assert admin.status_code == 201
        middle = datetime.now(UTC)
        await client.put("/v1/party-orgs/PO4", json={"name": "x", "kind": "nonsense"})
        assert len(await trail(client, actor="李书记")) == 3
        assert [e["resource"] for e in await trail(client, resource="/v1/party-orgs/PO2")] == [
            "/v1/party-orgs/PO2"
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


async def test_only_city_admins_read_the_audit_trail(settings_for: Make) -> None:
    app = members_app(settings_for("members", api_tokens=TOKENS))
    async with running_app(app, token=READONLY) as client:
        r = await client.get("/v1/audit")
    assert r.status_code == 403
