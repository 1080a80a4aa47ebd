"""Helpers for the activities tests: feed the member/unit/region projections through the real
broker (as the members and grids services would) and read back and validate what the service
published."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import (
    cloud_event,
    publish_raw,
    read_topic,
    running_app,
    settings_for_test,
    wait_until,
)
from services.activities.main import create_app
from shared.events import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    REGION_DEFINED,
    UNIT_REPORTED,
    CloudEvent,
    parse_envelope,
    validate_data,
)
from shared.settings import Settings

STREET = "350302001"
COMMUNITY = "350302001001"
SOURCE = "/partygrid/activities"

# tokens of the shared `service`: a community's admin, its street's, another community's
COMMUNITY_ADMIN = "community-admin-token-0001"
STREET_ADMIN = "street-admin-token-00000001"
OTHER_ADMIN = "community-admin-token-0002"
TOKENS = (
    "test-city-admin-token-0001:city_admin:*,test-readonly-token-00001:service:*,"
    f"{COMMUNITY_ADMIN}:community_admin:{COMMUNITY},{OTHER_ADMIN}:community_admin:OTHER,"
    f"{STREET_ADMIN}:street_admin:350302001"
)


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


def region_defined(
    region_id: str,
    level: str,
    parent_id: str | None,
    *,
    retired: bool = False,
    time: datetime | None = None,
) -> tuple[str, bytes, dict[str, Any]]:
    data: dict[str, Any] = {"region_id": region_id, "level": level, "name": f"Region {region_id}"}
    if parent_id is not None:
        data["parent_id"] = parent_id
    if retired:
        data["retired"] = True
    event = cloud_event(REGION_DEFINED, data, subject=region_id, time=time)
    return (REGION_DEFINED, region_id.encode(), event)


# The region tree most tests act in: a street and its community.
TREE = (
    ("350302", "district", None),
    (STREET, "street", "350302"),
    (COMMUNITY, "community", STREET),
)


async def seed_regions(
    bootstrap: str, pool: asyncpg.Pool, *extra: tuple[str, bytes, dict[str, Any]]
) -> None:
    """Define TREE (and `extra` region.defined events) through Kafka, as the grids service
    would, and wait until the region projection holds each as its latest event says."""
    events = [region_defined(*r) for r in TREE] + list(extra)
    await publish_raw(bootstrap, events)
    wanted = {e[2]["data"]["region_id"]: e[2]["data"].get("retired", False) for e in events}

    async def known() -> bool:
        rows = await pool.fetch(
            "SELECT region_id, retired FROM regions WHERE region_id = ANY($1::text[])",
            list(wanted),
        )
        return {r["region_id"]: r["retired"] for r in rows} == wanted

    await wait_until(known)


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


async def seed_units(bootstrap: str, pool: asyncpg.Pool, units: dict[str, str]) -> None:
    """Report resident units through Kafka and wait until the projection has them all."""
    await publish_raw(bootstrap, [unit_reported(u, c) for u, c in units.items()])

    async def known() -> bool:
        n = await pool.fetchval(
            "SELECT count(*) FROM unit_projection WHERE unit_id = ANY($1::text[])", list(units)
        )
        return bool(n == len(units))

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


@dataclass
class Service:
    """One activities service for a whole test module (started once: a module's tests act on
    their own wishes, activities or posts, so they do not need a fresh database each)."""

    app: FastAPI
    client: httpx.AsyncClient
    bootstrap: str

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool

    @property
    def settings(self) -> Settings:
        return self.app.state.runtime.settings


@contextlib.asynccontextmanager
async def serving(
    pg_server: EmbeddedPostgres,
    tmp: Path,
    *member_ids: str,
    units: dict[str, str] | None = None,
    **overrides: Any,
) -> AsyncIterator[Service]:
    """A running activities service on its own broker, with TREE, `member_ids` and `units`
    (unit id: community id) projected."""
    broker = start_kafka(free_port(), log_path=tmp / "tansu.log")
    try:
        settings = settings_for_test(pg_server.url, broker.bootstrap, "activities", **overrides)
        app = create_app(settings)
        async with running_app(app) as client:
            service = Service(app, client, broker.bootstrap)
            await seed_regions(broker.bootstrap, service.pool)
            if member_ids:
                await seed_members(broker.bootstrap, service.pool, *member_ids)
            if units:
                await seed_units(broker.bootstrap, service.pool, units)
            yield service
    finally:
        broker.stop()


async def with_id(
    service: Service, topic: str, event_id: str, *, prefix: bool = False
) -> list[CloudEvent]:
    """The events on `topic` with this id (or, with `prefix`, an id starting with it), read
    back from the broker once the relay has drained the outbox; the outbox must have recorded
    as many (so a test sharing the service with others counts only its own)."""
    await settled(service.pool)
    recorded = await service.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = $1 "
        "AND convert_from(value, 'UTF8')::jsonb ->> 'id' LIKE $2",
        topic,
        event_id.replace("%", r"\%").replace("_", r"\_") + ("%" if prefix else ""),
    )
    total = await service.pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic)
    if total == 0:
        return []
    events = [
        e
        for e in await published(service.bootstrap, topic, total)
        if e.id == event_id or (prefix and e.id.startswith(event_id))
    ]
    assert len(events) == recorded, (recorded, [e.id for e in events])
    return events


async def about(service: Service, topic: str, subject: str) -> list[CloudEvent]:
    """The events on `topic` keyed by this subject (an account, a member), read back from the
    broker once the outbox is drained; the outbox must have recorded as many."""
    await settled(service.pool)
    recorded = await service.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = $1 AND key = $2", topic, subject.encode()
    )
    total = await service.pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic)
    if total == 0:
        return []
    events = [e for e in await published(service.bootstrap, topic, total) if e.subject == subject]
    assert len(events) == recorded, (recorded, [e.id for e in events])
    return events


def unique(prefix: str) -> str:
    """An id no other test of the shared service uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
