"""Helpers for the members service tests: a running app against the real embedded broker and
database, a small region tree defined through real region.defined events, and event readers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from dev.testing import cloud_event, publish_raw, read_topic, running_app, wait_until
from services.members.main import create_app
from shared.events import REGION_DEFINED, CloudEvent, parse_envelope, validate_data
from shared.settings import Settings

# A valid GB 11643 ID number and a phone number planted to prove they never leave the service.
ID_NUMBER = "11010519491231002X"
ID_NUMBER_2 = "110105198001011238"
PHONE = "13812345678"
COMMUNITY_TOKEN = "community-admin-token-0001"
OTHER_COMMUNITY_TOKEN = "community-admin-token-0002"

REGIONS = [
    ("D1", "district", "荔城区", None),
    ("S1", "street", "镇海街道", "D1"),
    ("C1", "community", "东园社区", "S1"),
    ("C2", "community", "西园社区", "S1"),
    ("G1", "grid", "东园一网格", "C1"),
    ("G2", "grid", "西园一网格", "C2"),
]


def region_event(region_id: str, level: str, name: str, parent: str | None, **kw: Any) -> dict:
    data: dict[str, Any] = {"region_id": region_id, "level": level, "name": name}
    if parent:
        data["parent_id"] = parent
    return cloud_event(REGION_DEFINED, data, subject=region_id, source="/test/civil-affairs", **kw)


@pytest.fixture
def members_settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(
        "members",
        api_tokens=(
            "test-city-admin-token-0001:city_admin:*,test-readonly-token-00001:service:*,"
            f"{COMMUNITY_TOKEN}:community_admin:C1,{OTHER_COMMUNITY_TOKEN}:community_admin:C2"
        ),
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

    async def define_regions(self) -> None:
        await publish_raw(
            self.bootstrap,
            [(REGION_DEFINED, r[0].encode(), region_event(*r)) for r in REGIONS],
        )

        async def known() -> bool:
            return await self.pool.fetchval("SELECT count(*) FROM regions") == len(REGIONS)

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

    async def outbox_count(self) -> int:
        return await self.pool.fetchval("SELECT count(*) FROM outbox")

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

    async def all_published_bytes(self) -> bytes:
        """Every message in the outbox (all that this service ever published)."""
        rows = await self.pool.fetch("SELECT value FROM outbox")
        return b"\n".join(bytes(r["value"]) for r in rows)


@pytest.fixture
async def env(members_settings: Settings, kafka: Any) -> AsyncIterator[Env]:
    app = create_app(members_settings)
    async with running_app(app) as client:
        yield Env(client, app, kafka.bootstrap)


def data_of(events: list[CloudEvent]) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(e.data)) for e in events]
