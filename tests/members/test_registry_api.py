"""Member registry and 双报到 through the HTTP API, against the real broker and database:
validation errors name the field and rule, personal data is masked for everyone but city
admins and never published, events validate against the shared schemas."""

from __future__ import annotations

import asyncio
import itertools
import logging

from shared.events import MEMBER_DEREGISTERED, MEMBER_REGISTERED, MEMBER_REPORTED
from shared.events.members import PARTY_ORG_DEFINED

from .conftest import COMMUNITY_TOKEN, ID_NUMBER, ID_NUMBER_2, OTHER_COMMUNITY_TOKEN, PHONE, Env


def _detail(response) -> dict:
    body = response.json()
    assert body["details"], body
    return body["details"][0]


async def test_party_orgs_validation_and_events(env: Env) -> None:
    c = env.client
    await env.org("P0", "市直机关工委", "organ")
    created = await c.put(
        "/v1/party-orgs/P1", json={"name": "财政局党委", "kind": "organ", "parent_id": "P0"}
    )
    assert created.status_code == 201 and created.json()["parent_id"] == "P0"
    same = await c.put(
        "/v1/party-orgs/P1", json={"name": "财政局党委", "kind": "organ", "parent_id": "P0"}
    )
    assert same.status_code == 200
    bad_kind = await c.put("/v1/party-orgs/P2", json={"name": "x", "kind": "church"})
    assert bad_kind.status_code == 422 and _detail(bad_kind)["field"] == "body.kind"
    unknown_parent = await c.put(
        "/v1/party-orgs/P2", json={"name": "x", "kind": "school", "parent_id": "NOPE"}
    )
    assert unknown_parent.status_code == 422
    assert _detail(unknown_parent) == {
        "field": "parent_id",
        "rule": "must be an existing Party organisation",
    }
    cycle = await c.put(
        "/v1/party-orgs/P0", json={"name": "市直机关工委", "kind": "organ", "parent_id": "P1"}
    )
    assert cycle.status_code == 422 and _detail(cycle)["field"] == "parent_id"
    readonly = env.as_token("test-readonly-token-00001")
    anonymous = env.as_token("not-a-known-token-000")
    async with readonly, anonymous:
        r = await readonly.put("/v1/party-orgs/P9", json={"name": "x", "kind": "school"})
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        for path in ("/v1/members/M1", "/v1/communities/C1/members", "/v1/party-orgs"):
            r = await anonymous.get(path)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert (await c.get("/v1/party-orgs/P9")).status_code == 404
    events = await env.events(PARTY_ORG_DEFINED, 2)
    assert sorted(e.subject for e in events) == ["P0", "P1"]  # the no-op PUT published nothing


async def test_register_update_deregister_and_personal_data(env: Env, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    c = env.client
    await env.define_regions()
    await env.org()
    await env.org("P2", "市一中党总支", "school")

    bad_id = await env.register("M1", id_number="110105194912310021")
    assert bad_id.status_code == 422
    assert _detail(bad_id)["field"] == "body.id_number"
    assert "check digit" in _detail(bad_id)["rule"]
    assert "110105194912310021" not in bad_id.text
    bad_phone = await env.register("M1", phone="12345")
    assert bad_phone.status_code == 422 and _detail(bad_phone)["field"] == "body.phone"
    bad_org = await env.register("M1", party_org_id="NOPE")
    assert bad_org.status_code == 422 and _detail(bad_org)["field"] == "party_org_id"
    bad_cat = await env.register("M1", category="honorary")
    assert bad_cat.status_code == 422 and _detail(bad_cat)["field"] == "body.category"
    bad_home = await env.register("M1", address_community_id="C404")
    assert bad_home.status_code == 422 and _detail(bad_home)["field"] == "address_community_id"
    assert await env.pool.fetchval("SELECT count(*) FROM members") == 0  # nothing half-written

    ok = await env.register(
        "M1",
        phone=PHONE,
        id_number=ID_NUMBER,
        joined_on="2001-07-01",
        skills=["法律咨询"],
        address_community_id="C1",
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["id_number"] == ID_NUMBER and ok.json()["phone"] == PHONE  # city admin
    again = await env.register("M1")
    assert again.status_code == 409 and _detail(again)["field"] == "member_id"
    twin = await env.register("M2", id_number=ID_NUMBER)
    assert twin.status_code == 409 and _detail(twin)["field"] == "id_number"

    readonly = env.as_token("test-readonly-token-00001")
    async with readonly:
        masked = (await readonly.get("/v1/members/M1")).json()
    assert masked["id_number"] == "110105********002X"
    assert masked["phone"] == "138****5678"

    # personal data only: stored, no event
    before = await env.outbox_count()
    r = await c.patch("/v1/members/M1", json={"phone": "13900000000"})
    assert r.status_code == 200 and r.json()["phone"] == "13900000000"
    assert await env.outbox_count() == before
    # an event field: member.registered again
    r = await c.patch("/v1/members/M1", json={"party_org_id": "P2", "id_number": ID_NUMBER_2})
    assert r.status_code == 200 and r.json()["party_org_id"] == "P2"
    bad = await c.patch("/v1/members/M1", json={"name": None})
    assert bad.status_code == 422 and _detail(bad)["field"] == "name"
    assert (await c.patch("/v1/members/NOPE", json={"name": "x"})).status_code == 404

    bad_reason = await c.post("/v1/members/M1/deregister", json={"reason": "bored"})
    assert bad_reason.status_code == 422 and _detail(bad_reason)["field"] == "body.reason"
    gone = await c.post("/v1/members/M1/deregister", json={"reason": "transferred_out"})
    assert gone.status_code == 200 and gone.json()["status"] == "deregistered"
    twice = await c.post("/v1/members/M1/deregister", json={"reason": "other"})
    assert twice.status_code == 409
    no_report = await c.post("/v1/members/M1/reports", json={"community_id": "C1"})
    assert no_report.status_code == 409
    back = await env.register("M1", party_org_id="P2")
    assert back.status_code == 201 and back.json()["status"] == "active"

    registered = await env.events(MEMBER_REGISTERED, 3)
    assert [e.data["party_org_id"] for e in sorted(registered, key=lambda e: e.time)] == [
        "P1",
        "P2",
        "P2",
    ]
    assert registered[0].data["joined_on"] == "2001-07-01"
    deregistered = await env.events(MEMBER_DEREGISTERED, 1)
    assert deregistered[0].data == {"member_id": "M1", "reason": "transferred_out"}
    assert max(e.time for e in registered) > deregistered[0].time

    published = await env.all_published_bytes()
    on_broker = await env.broker_bytes()
    assert b"M1" in on_broker and b"transferred_out" in on_broker
    assert (
        "/v1/members" in caplog.text
    )  # the logs were captured, so the check below means something
    for secret in (PHONE, "13900000000", ID_NUMBER, ID_NUMBER_2, "19491231"):
        assert secret.encode() not in published
        assert secret.encode() not in on_broker
        assert secret not in caplog.text


async def test_reports_moves_queries_and_scopes(env: Env) -> None:
    c = env.client
    await env.define_regions()
    await env.org()
    for mid, cat, home in (
        ("M1", "in_service", "C1"),
        ("M2", "in_service", "C1"),
        ("M3", "retired", None),
        ("M4", "in_service", "C2"),
    ):
        body = {"category": cat, "skills": ["理发"]}
        if home:
            body["address_community_id"] = home
        assert (await env.register(mid, **body)).status_code == 201

    unknown = await c.post("/v1/members/M1/reports", json={"community_id": "C404"})
    assert unknown.status_code == 422
    assert _detail(unknown)["field"] == "community_id"
    wrong_grid = await c.post(
        "/v1/members/M1/reports", json={"community_id": "C1", "grid_id": "G2"}
    )
    assert wrong_grid.status_code == 422 and _detail(wrong_grid)["field"] == "grid_id"
    street = await c.post("/v1/members/M1/reports", json={"community_id": "S1"})
    assert street.status_code == 422
    assert (
        await c.post("/v1/members/M404/reports", json={"community_id": "C1"})
    ).status_code == 404

    first = await c.post("/v1/members/M1/reports", json={"community_id": "C2", "grid_id": "G2"})
    assert first.status_code == 201, first.text
    assert first.json()["current_report"]["skills"] == ["理发"]  # the member's skills
    same = await c.post("/v1/members/M1/reports", json={"community_id": "C2", "grid_id": "G2"})
    assert same.status_code == 200
    moved = await c.post("/v1/members/M1/reports", json={"community_id": "C1", "skills": ["维修"]})
    assert moved.status_code == 201
    history = (await c.get("/v1/members/M1/reports")).json()
    assert [h["community_id"] for h in history["history"]] == ["C2", "C1"]
    assert history["history"][1]["moved_from"] == "C2"
    assert history["current"]["community_id"] == "C1"
    assert history["current"]["skills"] == ["维修"]
    for mid in ("M3", "M4"):
        assert (
            await c.post(f"/v1/members/{mid}/reports", json={"community_id": "C1"})
        ).status_code == 201

    # scoped tokens: a C2 admin may not report into C1 nor read C1's lists
    other = env.as_token(OTHER_COMMUNITY_TOKEN)
    mine = env.as_token(COMMUNITY_TOKEN)
    async with other, mine:
        denied = await other.post("/v1/members/M2/reports", json={"community_id": "C1"})
        assert denied.status_code == 403
        assert (await other.get("/v1/communities/C1/members")).status_code == 403
        assert (await other.get("/v1/members/M1")).status_code == 403
        allowed = await mine.post("/v1/members/M2/reports", json={"community_id": "C1"})
        assert allowed.status_code == 201
        listed = (
            await mine.get("/v1/communities/C1/members", params={"category": "in_service"})
        ).json()
        rate = (await mine.get("/v1/communities/C1/reporting-rate")).json()
    assert [m["member_id"] for m in listed["items"]] == ["M1", "M2", "M4"]

    all_c1 = (await c.get("/v1/communities/C1/members")).json()
    assert [m["member_id"] for m in all_c1["items"]] == ["M1", "M2", "M3", "M4"]
    # M1, M2 live in C1 and reported there; M4 lives in C2 but reported to C1
    assert rate == {
        "community_id": "C1",
        "in_service_residents": 2,
        "reported_residents": 2,
        "reported_here": 3,
        "rate": 1.0,
    }
    assert (await c.post("/v1/members/M2/reports", json={"community_id": "C2"})).status_code == 201
    rate = (await c.get("/v1/communities/C1/reporting-rate")).json()
    assert rate["reported_residents"] == 1 and rate["rate"] == 0.5

    org = (await c.get("/v1/party-orgs/P1/members", params={"category": "in_service"})).json()
    assert [(m["member_id"], m["current_report"]["community_id"]) for m in org["items"]] == [
        ("M1", "C1"),
        ("M2", "C2"),
        ("M4", "C1"),
    ]

    reports = await env.events(MEMBER_REPORTED, 6)
    m1 = sorted((e for e in reports if e.subject == "M1"), key=lambda e: e.time)
    assert [e.data["community_id"] for e in m1] == ["C2", "C1"]
    assert m1[0].data["grid_id"] == "G2"


async def test_two_reports_at_once_leave_one_consistent_history(env: Env) -> None:
    await env.define_regions()
    await env.org()
    assert (await env.register("M1")).status_code == 201
    for _ in range(3):
        a, b = await asyncio.gather(
            env.client.post("/v1/members/M1/reports", json={"community_id": "C1"}),
            env.client.post("/v1/members/M1/reports", json={"community_id": "C2"}),
        )
        assert {a.status_code, b.status_code} <= {200, 201}, (a.text, b.text)
    history = (await env.client.get("/v1/members/M1/reports")).json()
    items = history["history"]
    times = [h["reported_at"] for h in items]
    assert len(set(times)) == len(times)  # strictly ordered, no ties
    # each entry differs from the one before (a no-op report records nothing)
    assert all(x["community_id"] != y["community_id"] for x, y in itertools.pairwise(items))
    assert history["current"]["community_id"] == items[-1]["community_id"]
    stored = await env.pool.fetchval("SELECT community_id FROM current_reports")
    assert stored == items[-1]["community_id"]
    events = await env.events(MEMBER_REPORTED, len(items))
    latest = max(events, key=lambda e: (e.time, e.source, e.id))
    assert len(events) == len(items)
    assert latest.data["community_id"] == stored
