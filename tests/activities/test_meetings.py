"""Organisation-life meetings (三会一课) over HTTP, the real database and the real broker: the
roll confirmed logs organization_life for those present and organization_life_absent for
unexcused absences, an excused member logs nothing, a correction revokes and re-logs exactly
the difference, and confirming the same roll again publishes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED, parse_envelope

from .helpers import (
    COMMUNITY,
    COMMUNITY_ADMIN,
    OTHER_ADMIN,
    SOURCE,
    STREET_ADMIN,
    Service,
    at,
    error,
    published,
    settled,
)

OWN_ADMIN = COMMUNITY_ADMIN
READ_ONLY = "test-readonly-token-00001"


@dataclass
class Env:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    bootstrap: str

    async def meeting(self, **overrides: Any) -> str:
        body = {
            "kind": "branch_general_meeting",
            "branch_id": "PO-BRANCH-1",
            "community_id": COMMUNITY,
            "title": "Quarterly branch general meeting",
            "held_at": at(-60),
            **overrides,
        }
        r = await self.client.post("/v1/meetings", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["meeting_id"])

    async def roll(self, meeting_id: str, *entries: tuple[str, str, str | None]) -> httpx.Response:
        lines = [
            {"member_id": m, "status": s, **({"reason": why} if why else {})}
            for m, s, why in entries
        ]
        return await self.client.put(f"/v1/meetings/{meeting_id}/roll", json={"entries": lines})

    async def outbox(self, topic: str, meeting_id: str) -> list[tuple[str, str, str]]:
        """(event id, member, activity_type or the revoked id) of every event the outbox holds
        on `topic` for the meeting; each one also arrived on the broker, schema-valid."""
        await settled(self.pool)
        rows = await self.pool.fetch("SELECT value FROM outbox WHERE topic = $1", topic)
        prefix = f"meeting/{meeting_id}/"
        mine = [e for e in (parse_envelope(r["value"]) for r in rows) if e.id.startswith(prefix)]
        sent = {e.id for e in await published(self.bootstrap, topic, len(rows))}
        assert {e.id for e in mine} <= sent
        return sorted(
            (e.id, e.data["member_id"], e.data.get("activity_type") or e.data["revokes"]["id"])
            for e in mine
        )

    async def events_of(self, meeting_id: str) -> int:
        """How many events the outbox holds for the meeting (any topic)."""
        rows = await self.pool.fetch("SELECT value FROM outbox")
        return sum(parse_envelope(r["value"]).id.startswith(f"meeting/{meeting_id}/") for r in rows)


@pytest.fixture
def env(service: Service) -> Env:
    """The shared activities service (each test has its own meetings)."""
    return Env(service.client, service.pool, service.bootstrap)


def logged_id(meeting_id: str, member: str, kind: str, version: int) -> str:
    return f"meeting/{meeting_id}/member/{member}/{kind}/v{version}"


async def test_confirming_the_roll_logs_presence_and_unexcused_absence(env: Env) -> None:
    mid = await env.meeting()
    r = await env.roll(
        mid, ("M1", "present", None), ("M2", "present", None), ("M3", "absent", None)
    )
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True and r.json()["version"] == 1

    assert await env.outbox(ACTIVITY_LOGGED, mid) == [
        (logged_id(mid, "M1", "organization_life", 1), "M1", "organization_life"),
        (logged_id(mid, "M2", "organization_life", 1), "M2", "organization_life"),
        (logged_id(mid, "M3", "organization_life_absent", 1), "M3", "organization_life_absent"),
    ]
    [event] = [
        e
        for e in await published(env.bootstrap, ACTIVITY_LOGGED, 3)
        if e.id == logged_id(mid, "M3", "organization_life_absent", 1)
    ]
    assert event.source == SOURCE and event.subject == "M3"
    assert event.data["activity_id"] == mid and event.data["community_id"] == COMMUNITY


async def test_an_excused_member_logs_nothing(env: Env) -> None:
    mid = await env.meeting(kind="party_lecture")
    r = await env.roll(mid, ("M1", "present", None), ("M4", "excused", "in hospital"))
    assert r.status_code == 200, r.text
    assert [lg["member_id"] for lg in r.json()["logged"]] == ["M1"]
    assert await env.outbox(ACTIVITY_LOGGED, mid) == [
        (logged_id(mid, "M1", "organization_life", 1), "M1", "organization_life")
    ]
    roll = {
        line["member_id"]: line
        for line in (await env.client.get(f"/v1/meetings/{mid}")).json()["roll"]
    }
    assert roll["M4"]["status"] == "excused" and roll["M4"]["reason"] == "in hospital"
    assert roll["M4"]["logged_event_id"] is None


async def test_excused_without_a_reason_is_refused(env: Env) -> None:
    mid = await env.meeting()
    for reason in (None, "   "):
        r = await env.roll(mid, ("M1", "present", None), ("M2", "excused", reason))
        assert (r.status_code, error(r)) == (422, "reason_required"), r.text
        assert r.json()["details"] == [{"field": "entries.1.reason"}]
        assert "M2" in r.json()["message"]
    assert await env.events_of(mid) == 0
    assert (await env.client.get(f"/v1/meetings/{mid}")).json()["roll_version"] == 0


async def test_a_correction_revokes_and_relogs_exactly_the_difference(env: Env) -> None:
    mid = await env.meeting(kind="party_group_meeting")
    first = await env.roll(
        mid,
        ("M1", "present", None),
        ("M2", "absent", None),
        ("M3", "absent", None),
        ("M4", "present", None),
    )
    assert first.status_code == 200, first.text
    # M2 was there after all, M3 had asked for leave, M4 was not there; M1 unchanged
    second = await env.roll(
        mid,
        ("M1", "present", None),
        ("M2", "present", None),
        ("M3", "excused", "family emergency"),
        ("M4", "absent", None),
    )
    assert second.status_code == 200, second.text
    assert second.json()["version"] == 2

    kinds_v1 = {
        "M1": "organization_life",
        "M2": "organization_life_absent",
        "M3": "organization_life_absent",
        "M4": "organization_life",
    }
    v1 = {m: logged_id(mid, m, kind, 1) for m, kind in kinds_v1.items()}
    assert await env.outbox(ACTIVITY_REVOKED, mid) == sorted(
        (f"{v1[m]}/revoked", m, v1[m]) for m in ("M2", "M3", "M4")
    )
    assert await env.outbox(ACTIVITY_LOGGED, mid) == sorted(
        [
            *((v1[m], m, kind) for m, kind in kinds_v1.items()),
            (logged_id(mid, "M2", "organization_life", 2), "M2", "organization_life"),
            (
                logged_id(mid, "M4", "organization_life_absent", 2),
                "M4",
                "organization_life_absent",
            ),
        ]
    )
    roll = {line["member_id"]: line for line in second.json()["meeting"]["roll"]}
    assert (roll["M1"]["version"], roll["M1"]["logged_event_id"]) == (1, v1["M1"])


async def test_confirming_the_same_roll_twice_changes_nothing(env: Env) -> None:
    mid = await env.meeting(kind="branch_committee_meeting")
    lines = (("M1", "present", None), ("M2", "absent", None), ("M3", "excused", "on duty"))
    assert (await env.roll(mid, *lines)).status_code == 200

    again = await env.roll(mid, *reversed(lines))  # the order of the lines does not matter
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False and again.json()["version"] == 1
    assert again.json()["logged"] == [] and again.json()["revoked"] == []
    assert await env.events_of(mid) == 2
    versions = (await env.client.get(f"/v1/meetings/{mid}/roll/versions")).json()["items"]
    assert [v["version"] for v in versions] == [1]


async def test_meetings_follow_token_scopes_like_other_activities(env: Env) -> None:
    def as_(token: str) -> dict[str, dict[str, str]]:
        return {"headers": {"Authorization": f"Bearer {token}"}}

    body = {
        "kind": "party_lecture",
        "branch_id": "PO-BRANCH-1",
        "community_id": COMMUNITY,
        "title": "党课",
        "held_at": at(-30),
    }
    r = await env.client.post("/v1/meetings", json=body, **as_(OTHER_ADMIN))
    assert (r.status_code, error(r)) == (403, "forbidden")
    r = await env.client.post("/v1/meetings", json=body, **as_(READ_ONLY))
    assert (r.status_code, error(r)) == (403, "forbidden")
    r = await env.client.post("/v1/meetings", json=body, **as_(STREET_ADMIN))
    assert r.status_code == 201, r.text
    mid = r.json()["meeting_id"]

    roll = {"entries": [{"member_id": "M1", "status": "present"}]}
    url = f"/v1/meetings/{mid}"
    assert (await env.client.get(url, **as_(OTHER_ADMIN))).status_code == 403
    assert (await env.client.put(f"{url}/roll", json=roll, **as_(OTHER_ADMIN))).status_code == 403
    assert (await env.client.put(f"{url}/roll", json=roll, **as_(READ_ONLY))).status_code == 403
    r = await env.client.get("/v1/meetings", **as_(OWN_ADMIN))  # must name its community
    assert (r.status_code, error(r)) == (403, "forbidden")
    assert await env.events_of(mid) == 0

    r = await env.client.put(f"{url}/roll", json=roll, **as_(OWN_ADMIN))
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    r = await env.client.get("/v1/meetings", params={"community_id": COMMUNITY}, **as_(OWN_ADMIN))
    items = r.json()["items"]
    assert mid in {m["meeting_id"] for m in items}
    assert {m["community_id"] for m in items} == {COMMUNITY}


async def test_a_roll_names_only_known_members_who_are_not_deregistered(env: Env) -> None:
    mid = await env.meeting()
    r = await env.roll(mid, ("M1", "present", None), ("NOBODY", "absent", None))
    assert (r.status_code, error(r)) == (422, "unknown_member"), r.text
    assert r.json()["details"][0]["members"] == [{"member_id": "NOBODY", "reason": "unknown"}]
    assert await env.events_of(mid) == 0


async def test_a_roll_cannot_be_confirmed_before_the_meeting_is_held(env: Env) -> None:
    mid = await env.meeting(held_at=at(60))
    r = await env.roll(mid, ("M1", "present", None))
    assert (r.status_code, error(r)) == (409, "meeting_not_held"), r.text
    assert await env.events_of(mid) == 0
