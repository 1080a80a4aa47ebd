"""Events from outside registries and civil affairs, consumed through the inbox: the same
rules as the API, latest by (time, source, id) wins whatever the arrival order, duplicates do
nothing, reports to communities not yet known are kept, bad events are dead-lettered."""

from __future__ import annotations

import json

from dev.testing import (
    cloud_event,
    in_memory_broker,
    publish_raw,
    read_topic,
    running_app,
    wait_until,
)
from services.members.main import create_app
from shared.events import (
    DEADLETTER_TOPIC,
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
)
from shared.settings import Settings

from .conftest import Env, region_event

REGISTRY = "/city/organisation-department"


def registered(member: str, org: str, t: str, category: str = "in_service", **kw) -> dict:
    return cloud_event(
        MEMBER_REGISTERED,
        {"member_id": member, "name": f"党员{member}", "category": category, "party_org_id": org},
        subject=member,
        source=REGISTRY,
        time=t,
        **kw,
    )


def deregistered(member: str, t: str, reason: str = "deceased") -> dict:
    return cloud_event(
        MEMBER_DEREGISTERED,
        {"member_id": member, "reason": reason},
        subject=member,
        source=REGISTRY,
        time=t,
    )


def reported(member: str, community: str, t: str, **kw) -> dict:
    return cloud_event(
        MEMBER_REPORTED,
        {"member_id": member, "community_id": community},
        subject=member,
        source="/city/volunteer-platform",
        time=t,
        **kw,
    )


T1, T2, T3 = "2026-03-01T09:00:00+08:00", "2026-04-01T09:00:00+08:00", "2026-05-01T09:00:00+08:00"


async def test_outside_events_any_order(env: Env) -> None:
    c = env.client
    dup = reported("Z", "C404", T1, id="vp-1")
    messages = [
        # X: registered twice and deregistered in between, delivered newest first
        (MEMBER_REGISTERED, b"X", registered("X", "P2", T3)),
        (MEMBER_DEREGISTERED, b"X", deregistered("X", T2)),
        (MEMBER_REGISTERED, b"X", registered("X", "P1", T1)),
        # Y: deregistered before its (older) registration arrives
        (MEMBER_DEREGISTERED, b"Y", deregistered("Y", T2, "transferred_out")),
        (MEMBER_REGISTERED, b"Y", registered("Y", "P1", T1)),
        # Z: reports to a community nobody defined yet, once redelivered, then an older
        # report arriving late
        (MEMBER_REGISTERED, b"Z", registered("Z", "P1", T1)),
        (MEMBER_REPORTED, b"Z", dup),
        (MEMBER_REPORTED, b"Z", dup),
        (MEMBER_REPORTED, b"Z", reported("Z", "C1", "2026-02-01T09:00:00+08:00")),
        # a region renamed: the newer name wins though it arrives first
        (REGION_DEFINED, b"C1", region_event("C1", "community", "新名", "S1", time=T2)),
        (REGION_DEFINED, b"C1", region_event("C1", "community", "旧名", "S1", time=T1)),
        # a bad event: unknown category
        (MEMBER_REGISTERED, b"W", registered("W", "P1", T1, category="honorary")),
    ]
    await publish_raw(env.bootstrap, messages)

    async def settled() -> bool:
        return await env.pool.fetchval("SELECT count(*) FROM inbox") == 10

    await wait_until(settled)
    x = (await c.get("/v1/members/X")).json()
    assert (x["status"], x["party_org_id"]) == ("active", "P2")
    y = (await c.get("/v1/members/Y")).json()
    assert (y["status"], y["deregistered_reason"], y["party_org_id"]) == (
        "deregistered",
        "transferred_out",
        "P1",
    )
    z = (await c.get("/v1/members/Z/reports")).json()
    assert [h["community_id"] for h in z["history"]] == ["C1", "C404"]
    assert z["current"]["community_id"] == "C404"
    listed = (await c.get("/v1/communities/C404/members")).json()
    assert [m["member_id"] for m in listed["items"]] == ["Z"]
    assert await env.pool.fetchval("SELECT name FROM regions WHERE region_id = 'C1'") == "新名"
    assert (await c.get("/v1/members/W")).status_code == 404
    letters = await read_topic(env.bootstrap, DEADLETTER_TOPIC, min_count=1)
    assert [json.loads(r.value)["data"]["reason"] for r in letters] == ["invalid_data"]

    # the API keeps its own rule: an unknown community is refused there
    await env.org("P2", "某机关党委", "organ")
    r = await c.post("/v1/members/X/reports", json={"community_id": "C404"})
    assert r.status_code == 422
    # an API change after an outside event wins and is published after it
    r = await c.patch("/v1/members/X", json={"category": "retired"})
    assert r.status_code == 200 and r.json()["category"] == "retired"
    events = await env.events(MEMBER_REGISTERED, 1)
    assert events[0].data["category"] == "retired" and events[0].source == "/partygrid/members"


async def test_handler_with_test_broker(members_settings: Settings) -> None:
    """The inbox handler through FastStream's in-memory TestKafkaBroker, on the real
    database: the same outcome whatever the order, and a redelivery changes nothing."""
    app = create_app(members_settings)
    runtime = app.state.runtime
    async with in_memory_broker(app) as publish, running_app(app) as client:
        pool = runtime.pool
        await publish(
            [
                (MEMBER_DEREGISTERED, b"Q", deregistered("Q", T3)),
                (MEMBER_REGISTERED, b"Q", registered("Q", "P1", T1)),
                (MEMBER_REGISTERED, b"Q", registered("Q", "P9", T2)),
                (REGION_DEFINED, b"C7", region_event("C7", "community", "七社区", "S1", id="r7")),
                (REGION_DEFINED, b"C7", region_event("C7", "community", "七社区", "S1", id="r7")),
            ]
        )
        q = (await client.get("/v1/members/Q")).json()
        assert (q["status"], q["party_org_id"]) == ("deregistered", "P9")
        assert await pool.fetchval("SELECT count(*) FROM regions") == 1
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 4
