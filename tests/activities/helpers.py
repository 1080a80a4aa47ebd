"""Helpers for the activities tests: feed the member/unit projections through the real broker
(as the members service would) and read back and validate what the service published."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from shared.events import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    UNIT_REPORTED,
    CloudEvent,
    parse_envelope,
    validate_data,
)
from shared.testing import cloud_event, publish_raw, read_topic, wait_until

COMMUNITY = "350302001001"
SOURCE = "/partygrid/activities"


def registered(
    member_id: str, *, time: datetime | None = None, id: str | None = None
) -> tuple[str, bytes, dict[str, Any]]:
    data = {
        "member_id": member_id,
        "name": f"Member {member_id}",
        "category": "resident",
        "party_org_id": "PO-1",
    }
    return (
        MEMBER_REGISTERED,
        member_id.encode(),
        cloud_event(MEMBER_REGISTERED, data, subject=member_id, time=time, id=id),
    )


def deregistered(
    member_id: str, *, time: datetime | None = None
) -> tuple[str, bytes, dict[str, Any]]:
    data = {"member_id": member_id, "reason": "transferred_out"}
    return (
        MEMBER_DEREGISTERED,
        member_id.encode(),
        cloud_event(MEMBER_DEREGISTERED, data, subject=member_id, time=time),
    )


def unit_reported(unit_id: str, community_id: str = COMMUNITY) -> tuple[str, bytes, dict[str, Any]]:
    data = {
        "unit_id": unit_id,
        "name": f"Unit {unit_id}",
        "party_org_id": "PO-U",
        "community_id": community_id,
    }
    return (UNIT_REPORTED, unit_id.encode(), cloud_event(UNIT_REPORTED, data, subject=unit_id))


async def seed_members(bootstrap: str, pool: asyncpg.Pool, *member_ids: str) -> None:
    """Register members through Kafka and wait until the projection has them all."""
    await publish_raw(bootstrap, [registered(m) for m in member_ids])

    async def known() -> bool:
        n = await pool.fetchval(
            "SELECT count(*) FROM member_projection WHERE member_id = ANY($1::text[]) "
            "AND status = 'registered'",
            list(member_ids),
        )
        return n == len(member_ids)

    await wait_until(known)


async def published(
    bootstrap: str, topic: str, min_count: int, *, wait: float = 10.0
) -> list[CloudEvent]:
    """Read `topic` from the real broker; every event must validate against the shared
    schema for that topic."""
    records = await read_topic(bootstrap, topic, min_count=min_count, timeout=wait)
    events = []
    for r in records:
        event = parse_envelope(r.value)
        validate_data(event, topic)
        assert r.key == (event.subject.encode() if event.subject else None)
        events.append(event)
    return events


def at(delta_minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=delta_minutes)).isoformat()


def error(response: Any) -> str:
    body = response.json()
    assert set(body) >= {"error", "message"}, body
    return body["error"]


def dumps(x: Any) -> str:
    return json.dumps(x, default=str)


async def settled(pool: asyncpg.Pool) -> None:
    """Wait until the outbox relay has handed every event to the broker."""

    async def empty() -> bool:
        return await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0

    await wait_until(empty)


async def exactly(bootstrap: str, pool: asyncpg.Pool, topic: str, n: int) -> list[CloudEvent]:
    """Exactly `n` events on `topic`, each schema-valid: the outbox recorded `n` and the broker
    holds `n` (read back from the beginning once the relay has drained the outbox)."""
    await settled(pool)
    recorded = await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic)
    assert recorded == n, f"{recorded} events recorded for {topic}, expected {n}"
    events = await published(bootstrap, topic, n, wait=10.0 if n else 0.5)
    assert len(events) == n, [(e.id, e.data) for e in events]
    return events
