"""Events from outside registries and civil affairs, consumed through the inbox: the same
rules as the API, latest by (time, source, id) wins whatever the arrival order, duplicates do
nothing, reports to communities not yet known are kept, bad events are dead-lettered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from dev.embedded import EmbeddedPostgres
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

from .conftest import Env, region_event, serving

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


@pytest.fixture(scope="module")
async def outside(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    """A fresh service (its inbox is counted) that has taken, from outside registries and civil
    affairs, events out of order, a redelivery and one invalid event:
    X registered twice and deregistered in between, delivered newest first; Y deregistered
    before its (older) registration arrives; Z reported to a community nobody defined yet, that
    report redelivered, then an older report arriving late; community C1 renamed, the newer
    name arriving first; W registered with an unknown category."""
    async with serving(pg_server, tmp_path_factory.mktemp("inbox"), []) as env:
        dup = reported("Z", "C404", T1, id="vp-1")
        messages = [
            (MEMBER_REGISTERED, b"X", registered("X", "P2", T3)),
            (MEMBER_DEREGISTERED, b"X", deregistered("X", T2)),
            (MEMBER_REGISTERED, b"X", registered("X", "P1", T1)),
            (MEMBER_DEREGISTERED, b"Y", deregistered("Y", T2, "transferred_out")),
            (MEMBER_REGISTERED, b"Y", registered("Y", "P1", T1)),
            (MEMBER_REGISTERED, b"Z", registered("Z", "P1", T1)),
            (MEMBER_REPORTED, b"Z", dup),
            (MEMBER_REPORTED, b"Z", dup),
            (MEMBER_REPORTED, b"Z", reported("Z", "C1", "2026-02-01T09:00:00+08:00")),
            (REGION_DEFINED, b"C1", region_event("C1", "community", "新名", "S1", time=T2)),
            (REGION_DEFINED, b"C1", region_event("C1", "community", "旧名", "S1", time=T1)),
            (MEMBER_REGISTERED, b"W", registered("W", "P1", T1, category="honorary")),
        ]
        await publish_raw(env.bootstrap, messages)

        async def settled() -> bool:
            return await env.pool.fetchval("SELECT count(*) FROM inbox") == 10

        await wait_until(settled)
        yield env


async def test_a_registration_newer_than_the_deregistration_wins_though_it_came_first(
    outside: Env,
) -> None:
    x = (await outside.client.get("/v1/members/X")).json()
    assert (x["status"], x["party_org_id"]) == ("active", "P2")


async def test_a_deregistration_newer_than_the_registration_wins_though_it_came_first(
    outside: Env,
) -> None:
    y = (await outside.client.get("/v1/members/Y")).json()
    assert (y["status"], y["deregistered_reason"], y["party_org_id"]) == (
        "deregistered",
        "transferred_out",
        "P1",
    )


async def test_reports_are_kept_once_each_and_the_latest_is_current(outside: Env) -> None:
    z = (await outside.client.get("/v1/members/Z/reports")).json()
    assert [h["community_id"] for h in z["history"]] == ["C1", "C404"]
    assert z["current"]["community_id"] == "C404"


async def test_a_community_not_yet_known_lists_the_members_reported_to_it(outside: Env) -> None:
    listed = (await outside.client.get("/v1/communities/C404/members")).json()
    assert [m["member_id"] for m in listed["items"]] == ["Z"]


async def test_the_newer_name_of_a_region_wins_though_it_came_first(outside: Env) -> None:
    name = await outside.pool.fetchval("SELECT name FROM regions WHERE region_id = 'C1'")
    assert name == "新名"


async def test_an_event_with_invalid_data_is_dead_lettered_and_not_applied(outside: Env) -> None:
    assert (await outside.client.get("/v1/members/W")).status_code == 404
    letters = await read_topic(outside.bootstrap, DEADLETTER_TOPIC, min_count=1)
    assert [json.loads(r.value)["data"]["reason"] for r in letters] == ["invalid_data"]


async def test_the_api_keeps_its_own_rule_for_a_community_the_inbox_accepted(
    outside: Env,
) -> None:
    r = await outside.client.post("/v1/members/X/reports", json={"community_id": "C404"})
    assert r.status_code == 422


async def test_an_api_change_after_an_outside_event_wins_and_is_published(outside: Env) -> None:
    r = await outside.client.patch("/v1/members/X", json={"category": "retired"})
    assert r.status_code == 200 and r.json()["category"] == "retired"
    [event] = await outside.events_about(MEMBER_REGISTERED, "X")
    assert event.data["category"] == "retired" and event.source == "/partygrid/members"


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
