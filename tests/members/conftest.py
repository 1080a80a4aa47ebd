"""Helpers for the members service tests: a running app against the real embedded broker and
database, a small region tree defined through real region.defined events, and event readers.

`service` is started once for the package: each test acts on members, units and organisations
of its own (fresh ids from `unique`, ID numbers from `id_number`), or on a community or street
no other test uses. A module that counts everything a service holds (the inbox) starts one of
its own with `serving`."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import (
    cloud_event,
    publish_raw,
    read_topic,
    running_app,
    settings_for_test,
    wait_until,
)
from services.members.domain.identity import id_check_digit
from services.members.main import create_app
from shared.events import REGION_DEFINED, CloudEvent, parse_envelope, validate_data
from shared.settings import Settings

COMMUNITY_TOKEN = "community-admin-token-0001"
OTHER_COMMUNITY_TOKEN = "community-admin-token-0002"
C3_TOKEN = "community-admin-token-0003"  # the admin of C3, a community only one test reports to
TOKENS = (
    "test-city-admin-token-0001:city_admin:*,test-readonly-token-00001:service:*,"
    f"{COMMUNITY_TOKEN}:community_admin:C1,{OTHER_COMMUNITY_TOKEN}:community_admin:C2,"
    f"{C3_TOKEN}:community_admin:C3"
)
READONLY_TOKEN = "test-readonly-token-00001"

REGIONS = [
    ("D1", "district", "荔城区", None),
    ("S1", "street", "镇海街道", "D1"),
    ("C1", "community", "东园社区", "S1"),
    ("C2", "community", "西园社区", "S1"),
    ("G1", "grid", "东园一网格", "C1"),
    ("G2", "grid", "西园一网格", "C2"),
]
# the shared service's tree adds communities and a street that single tests count alone: C3 (a
# community's lists), C4 (a reporting rate), S2 with C5 and C6 (the ranking of units)
SHARED_REGIONS = [
    *REGIONS,
    ("C3", "community", "北园社区", "S1"),
    ("C4", "community", "南园社区", "S1"),
    ("S2", "street", "拱辰街道", "D1"),
    ("C5", "community", "阔口社区", "S2"),
    ("C6", "community", "沟头社区", "S2"),
    ("G5", "grid", "阔口一网格", "C5"),
]


def unique(prefix: str) -> str:
    """An id no other test of the shared service uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def id_number() -> str:
    """A valid GB 11643 ID number no other test uses (a random birth date from 1950 on and a
    random sequence number)."""
    n = uuid.uuid4().int
    born = date(1950, 1, 1) + timedelta(days=n % 18_000)
    first17 = f"110105{born:%Y%m%d}{n // 18_000 % 1000:03d}"
    return first17 + id_check_digit(first17)


def region_event(region_id: str, level: str, name: str, parent: str | None, **kw: Any) -> dict:
    data: dict[str, Any] = {"region_id": region_id, "level": level, "name": name}
    if parent:
        data["parent_id"] = parent
    return cloud_event(REGION_DEFINED, data, subject=region_id, source="/test/civil-affairs", **kw)


@pytest.fixture
def members_settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(
        "members",
        api_tokens=TOKENS,
    )


class Env:
    def __init__(self, client: httpx.AsyncClient, app: Any, bootstrap: str) -> None:
        self.client = client
        self.app = app
        self.bootstrap = bootstrap

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool

    def as_token(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def define_regions(
        self, regions: list[tuple[str, str, str, str | None]] = REGIONS
    ) -> None:
        await publish_raw(
            self.bootstrap,
            [(REGION_DEFINED, r[0].encode(), region_event(*r)) for r in regions],
        )

        async def known() -> bool:
            return await self.pool.fetchval("SELECT count(*) FROM regions") == len(regions)

        await wait_until(known)

    async def org(
        self,
        org_id: str = "P1",
        name: str = "市财政局机关党委",
        kind: str = "organ",
        parent: str | None = None,
    ) -> dict:
        body: dict[str, Any] = {"name": name, "kind": kind}
        if parent:
            body["parent_id"] = parent
        r = await self.client.put(f"/v1/party-orgs/{org_id}", json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def register(self, member_id: str, **fields: Any) -> httpx.Response:
        body = {
            "member_id": member_id,
            "name": f"党员{member_id}",
            "category": "in_service",
            "party_org_id": "P1",
            **fields,
        }
        return await self.client.post("/v1/members", json=body)

    async def events(
        self, topic: str, count: int, source: str = "/partygrid/members"
    ) -> list[CloudEvent]:
        """Read the events this service published on `topic` back from the broker (at least
        `count`) and validate each against the shared schemas."""
        events: list[CloudEvent] = []

        async def enough() -> bool:
            events.clear()
            for rec in await read_topic(self.bootstrap, topic, min_count=count, timeout=2):
                event = parse_envelope(rec.value)
                if event.source != source:
                    continue
                validate_data(event, rec.topic)
                assert rec.key == (event.subject.encode() if event.subject else None)
                events.append(event)
            return len(events) >= count

        await wait_until(enough, timeout=20)
        return list(events)

    async def events_about(self, topic: str, subject: str) -> list[CloudEvent]:
        """The events this service published on `topic` about `subject` (a member, a unit, an
        organisation), read back from the broker once the relay has sent every one the outbox
        recorded; each validates against the shared schema."""
        await self.settled()
        recorded = await self.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = $1 AND key = $2", topic, subject.encode()
        )
        if not recorded:
            return []
        total = await self.pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topic)
        events = [e for e in await self.events(topic, total) if e.subject == subject]
        assert len(events) == recorded, (recorded, [e.id for e in events])
        return events

    async def settled(self) -> None:
        """Wait until the outbox relay has handed every event to the broker."""

        async def empty() -> bool:
            return (
                await self.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
            )

        await wait_until(empty)

    async def published_about(self, subject: str) -> bytes:
        """Every message this service ever recorded about `subject` (its outbox rows)."""
        rows = await self.pool.fetch("SELECT value FROM outbox WHERE key = $1", subject.encode())
        return b"\n".join(bytes(r["value"]) for r in rows)

    async def broker_bytes(self) -> bytes:
        """Every message on every topic this service published to, read back from the broker
        (waits until at least as many as its outbox holds per topic have arrived)."""
        counts = await self.pool.fetch("SELECT topic, count(*) AS n FROM outbox GROUP BY topic")
        chunks = []
        for row in counts:
            records = await read_topic(self.bootstrap, row["topic"], min_count=row["n"])
            assert len(records) >= row["n"], row["topic"]
            chunks.extend(bytes(r.value) for r in records)
        return b"\n".join(chunks)


@contextlib.asynccontextmanager
async def serving(
    pg_server: EmbeddedPostgres, tmp: Path, regions: list[tuple[str, str, str, str | None]]
) -> AsyncIterator[Env]:
    """A members service on a broker of its own and a fresh database, with `regions`
    projected."""
    broker = start_kafka(free_port(), log_path=tmp / "tansu.log")
    try:
        settings = settings_for_test(pg_server.url, broker.bootstrap, "members", api_tokens=TOKENS)
        app = create_app(settings)
        async with running_app(app) as client:
            env = Env(client, app, broker.bootstrap)
            if regions:
                await env.define_regions(regions)
            yield env
    finally:
        broker.stop()


@pytest.fixture(scope="package")
async def service(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    """One members service for the package, with SHARED_REGIONS projected and the Party
    organisations P1 (市财政局机关党委) and P2 (市一中党总支) defined."""
    async with serving(pg_server, tmp_path_factory.mktemp("members"), SHARED_REGIONS) as env:
        await env.org()
        await env.org("P2", "市一中党总支", "school")
        yield env
