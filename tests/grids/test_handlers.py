"""Consumed events: outside region.defined from the real broker (children before parents are
kept as orphans until the parent arrives, latest by (time, source, id) wins, bad ones are
dead-lettered), and the members-by-grid projection through FastStream's TestKafkaBroker on top
of the real database (latest report wins, deregistered members leave, categories counted)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import (
    Message,
    cloud_event,
    in_memory_broker,
    publish_raw,
    read_topic,
    running_app,
    settings_for_test,
    wait_until,
)
from services.grids.main import create_app
from shared.events import (
    DEADLETTER_TOPIC,
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
)

CIVIL = "/city/civil-affairs"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def region(
    rid: str, level: str, name: str, parent: str | None, *, at: datetime, id: str, **extra: object
) -> tuple[str, bytes, dict]:
    data = {"region_id": rid, "level": level, "name": name, **extra}
    if parent:
        data["parent_id"] = parent
    return (
        REGION_DEFINED,
        rid.encode(),
        cloud_event(REGION_DEFINED, data, subject=rid, source=CIVIL, id=id, time=at),
    )


async def test_outside_region_events_from_the_broker(settings_for, kafka) -> None:
    app = create_app(settings_for("grids"))
    async with running_app(app) as client:
        # the community arrives first: stored, flagged orphan
        await publish_raw(
            kafka.bootstrap,
            [
                region("C7", "community", "新社区", "S7", at=T0, id="ca-1"),
            ],
        )

        async def community_known() -> dict | None:
            r = await client.get("/v1/regions/C7")
            return r.json() if r.status_code == 200 else None

        c7 = await wait_until(community_known)
        assert c7["orphan"] is True and c7["defined_by"] == CIVIL
        orphans = (await client.get("/v1/regions", params={"orphans": "true"})).json()["items"]
        assert [r["region_id"] for r in orphans] == ["C7"]

        # then the parent chain, a newer rename, an older rename arriving late, a bad event
        await publish_raw(
            kafka.bootstrap,
            [
                region("S7", "street", "新街道", "D7", at=T0, id="ca-2"),
                region("D7", "district", "新区", None, at=T0, id="ca-3"),
                region(
                    "C7", "community", "新社区(改)", "S7", at=T0 + timedelta(hours=2), id="ca-4"
                ),
                region("C7", "community", "旧名", "S7", at=T0 + timedelta(hours=1), id="ca-5"),
                region("B7", "building", "错位楼", "S7", at=T0, id="ca-6"),
                (
                    REGION_DEFINED,
                    b"G7",
                    cloud_event(
                        REGION_DEFINED,
                        {"region_id": "G7", "level": "grid", "name": "no parent"},
                        source=CIVIL,
                    ),
                ),
            ],
        )

        async def settled() -> list | None:
            path = (await client.get("/v1/regions/C7/path")).json()
            items = path.get("items", [])
            return items if len(items) == 3 and items[0]["name"] == "新社区(改)" else None

        await wait_until(settled)
        letters = await read_topic(kafka.bootstrap, DEADLETTER_TOPIC, min_count=1)
        assert json.loads(letters[0].value)["data"]["reason"] == "invalid_data"
        pool = app.state.runtime.pool
        assert await pool.fetchval("SELECT count(*) FROM inbox WHERE source = $1", CIVIL) == 6
        c7 = (await client.get("/v1/regions/C7")).json()
        assert c7["orphan"] is False and c7["name"] == "新社区(改)"
        flagged = (await client.get("/v1/regions", params={"orphans": "true"})).json()["items"]
        # a building placed directly under a street by the outside system is kept but flagged
        assert [(r["region_id"], r["orphan"], r["misplaced"]) for r in flagged] == [
            ("B7", False, True)
        ]
        assert [
            r["region_id"] for r in (await client.get("/v1/regions/D7/subtree")).json()["items"]
        ] == ["D7", "S7", "B7", "C7"]

        # an API change on a region defined outside publishes a version that wins
        moved = await client.patch("/v1/regions/C7", json={"name": "API 改名"})
        assert moved.status_code == 200
        ours = [
            json.loads(r.value)
            for r in await read_topic(kafka.bootstrap, REGION_DEFINED, min_count=8)
        ]
        mine = [e for e in ours if e["source"] != CIVIL]
        assert len(mine) == 1 and mine[0]["data"]["name"] == "API 改名"
        assert mine[0]["time"] > (T0 + timedelta(hours=2)).isoformat()[:19]


def _member_event(type_: str, data: dict, at: datetime, id: str) -> dict:
    return cloud_event(type_, data, subject=data["member_id"], source="/org-dept", id=id, time=at)


def _reported(member: str, grid: str, at: datetime, id: str) -> tuple[str, dict]:
    data = {"member_id": member, "community_id": "C1", "grid_id": grid}
    return MEMBER_REPORTED, _member_event(MEMBER_REPORTED, data, at, id)


def _registered(member: str, name: str, category: str, id: str) -> tuple[str, dict]:
    data = {"member_id": member, "name": name, "category": category, "party_org_id": "PO1"}
    return MEMBER_REGISTERED, _member_event(MEMBER_REGISTERED, data, T0, id)


# M1 moved from G1 to G2: the later report arrives first
M1_IN_G1 = _reported("M1", "G1", T0, "r1")
MEMBER_EVENTS = [
    _reported("M1", "G2", T0 + timedelta(days=1), "r2"),
    M1_IN_G1,
    _reported("M2", "G2", T0, "r3"),
    _reported("M3", "G2", T0, "r4"),
    _registered("M1", "甲", "in_service", "g1"),
    _registered("M2", "乙", "retired", "g2"),
    _registered("M3", "丙", "retired", "g3"),
    # M3 leaves the registry
    (
        MEMBER_DEREGISTERED,
        _member_event(
            MEMBER_DEREGISTERED,
            {"member_id": "M3", "reason": "transferred_out"},
            T0 + timedelta(days=2),
            "x1",
        ),
    ),
]
REGIONS_CSV = (
    b"region_id,level,name,parent_id\nD1,district,d,\nS1,street,s,D1\n"
    b"C1,community,c,S1\nG1,grid,g1,C1\nG2,grid,g2,C1\n"
)


@dataclass
class Projection:
    app: Any
    client: httpx.AsyncClient
    publish: Callable[[list[Message]], Awaitable[None]]

    async def grid(self, grid_id: str) -> dict:
        return (await self.client.get(f"/v1/grids/{grid_id}/members")).json()

    async def redeliver_m1_in_g1(self) -> None:
        topic, body = M1_IN_G1
        await self.publish([(topic, b"M1", body)])


@pytest.fixture(scope="module")
async def projection(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Projection]:
    """The member events handled once through FastStream's TestKafkaBroker (one service for
    the module: it joins the broker in seconds), and the region tree of C1 imported."""
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    app = create_app(settings_for_test(pg_server.url, broker.bootstrap, "grids"))
    try:
        async with running_app(app) as client, in_memory_broker(app) as publish:
            await publish(
                [(topic, body["subject"].encode(), body) for topic, body in MEMBER_EVENTS]
            )
            await client.post(
                "/v1/regions/import", content=REGIONS_CSV, headers={"Content-Type": "text/csv"}
            )
            yield Projection(app, client, publish)
    finally:
        broker.stop()


async def test_a_grid_lists_registered_members_whose_latest_report_is_there(
    projection: Projection,
) -> None:
    g2 = await projection.grid("G2")
    assert [m["member_id"] for m in g2["members"]] == ["M1", "M2"]


async def test_an_older_report_arriving_later_does_not_move_a_member_back(
    projection: Projection,
) -> None:
    assert (await projection.grid("G1"))["total"] == 0


async def test_a_grid_counts_its_members_by_category(projection: Projection) -> None:
    assert (await projection.grid("G2"))["by_category"] == {"in_service": 1, "retired": 1}


async def test_member_counts_list_every_grid_within_a_region(projection: Projection) -> None:
    r = await projection.client.get("/v1/grids/member-counts", params={"within": "C1"})
    assert r.json()["items"] == [
        {"grid_id": "G1", "total": 0, "by_category": {}},
        {"grid_id": "G2", "total": 2, "by_category": {"in_service": 1, "retired": 1}},
    ]


async def test_a_redelivered_old_event_changes_nothing(projection: Projection) -> None:
    await projection.redeliver_m1_in_g1()
    assert (await projection.grid("G1"))["total"] == 0


async def test_a_redelivered_event_is_not_applied_twice(projection: Projection) -> None:
    await projection.redeliver_m1_in_g1()
    pool = projection.app.state.runtime.pool
    applied = await pool.fetchval("SELECT count(*) FROM inbox WHERE source = '/org-dept'")
    assert applied == len(MEMBER_EVENTS)
