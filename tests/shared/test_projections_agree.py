"""The four services keep the same region tree and the same members from the same events,
even when two versions of a region or of a member happened at the same instant: the latest is
the greatest (time, source, id) with source and id compared by code point (docs/design.md
§3.3), never by the database's locale, where "b" < "B" and "a" < "Z" would pick the other one.

The events go through the real broker to the four real services; each test reads what every
service's own database ended with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import (
    cloud_event,
    publish_raw,
    running_app,
    settings_of_every_service,
    wait_until,
)
from services.activities.main import create_app as activities_app
from services.grids.main import create_app as grids_app
from services.members.main import create_app as members_app
from services.scoring.main import create_app as scoring_app
from shared.events import MEMBER_DEREGISTERED, MEMBER_REGISTERED, MEMBER_REPORTED, REGION_DEFINED

APPS = {
    "members": members_app,
    "grids": grids_app,
    "activities": activities_app,
    "scoring": scoring_app,
}
# Two sources and ids whose order by code point is the reverse of a locale's: "a" > "Z" and
# "b" > "B" by code point, "a" < "Z" and "b" < "B" in en_US.
LOWER, UPPER = "/test/projections/a", "/test/projections/Z"
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BEFORE = AT - timedelta(hours=1)


@dataclass(frozen=True)
class Sent:
    """One event published to every service."""

    type: str
    key: str
    data: dict[str, Any]
    time: datetime
    source: str
    id: str

    @property
    def version(self) -> tuple[datetime, str, str]:
        return (self.time, self.source, self.id)


def _region(region_id: str, level: str, parent: str | None, name: str) -> dict[str, Any]:
    data = {"region_id": region_id, "level": level, "name": name}
    return data | ({"parent_id": parent} if parent else {})


def _registered(member_id: str, category: str) -> dict[str, Any]:
    return {"member_id": member_id, "name": "党员", "category": category, "party_org_id": "P1"}


# Pairs at one instant; the first of each wins by code point. The service must keep the first
# when the second arrives later.
PAIRS = [
    # C1: same source, ids differing only in case
    (Sent(REGION_DEFINED, "C1", _region("C1", "community", "S1", "C1 b"), AT, LOWER, "c1-b"),
     Sent(REGION_DEFINED, "C1", _region("C1", "community", "S2", "C1 B"), AT, LOWER, "c1-B")),
    # C2: same id, sources differing in case
    (Sent(REGION_DEFINED, "C2", _region("C2", "community", "S1", "C2 a"), AT, LOWER, "c2"),
     Sent(REGION_DEFINED, "C2", _region("C2", "community", "S2", "C2 Z"), AT, UPPER, "c2")),
    # M1: two reports; a registration and a deregistration
    (Sent(MEMBER_REPORTED, "M1", {"member_id": "M1", "community_id": "C1", "grid_id": "G1"},
          AT, LOWER, "m1-report-b"),
     Sent(MEMBER_REPORTED, "M1", {"member_id": "M1", "community_id": "C2", "grid_id": "G2"},
          AT, LOWER, "m1-report-B")),
    (Sent(MEMBER_REGISTERED, "M1", _registered("M1", "in_service"), AT, LOWER, "m1-status-b"),
     Sent(MEMBER_DEREGISTERED, "M1", {"member_id": "M1", "reason": "transferred_out"},
          AT, LOWER, "m1-status-B")),
    # M2: the same told apart by the source, and here the deregistration wins
    (Sent(MEMBER_REPORTED, "M2", {"member_id": "M2", "community_id": "C1", "grid_id": "G1"},
          AT, LOWER, "m2-report"),
     Sent(MEMBER_REPORTED, "M2", {"member_id": "M2", "community_id": "C2", "grid_id": "G2"},
          AT, UPPER, "m2-report")),
    (Sent(MEMBER_DEREGISTERED, "M2", {"member_id": "M2", "reason": "transferred_out"},
          AT, LOWER, "m2-status"),
     Sent(MEMBER_REGISTERED, "M2", _registered("M2", "in_service"), AT, UPPER, "m2-status")),
    # M3: two registrations
    (Sent(MEMBER_REGISTERED, "M3", _registered("M3", "resident"), AT, LOWER, "m3-reg-b"),
     Sent(MEMBER_REGISTERED, "M3", _registered("M3", "retired"), AT, LOWER, "m3-reg-B")),
]  # fmt: skip
BASE = [
    Sent(REGION_DEFINED, r, _region(r, level, parent, r), BEFORE, LOWER, r.lower())
    for r, level, parent in (
        ("D1", "district", None),
        ("S1", "street", "D1"),
        ("S2", "street", "D1"),
    )
]
FIRST = BASE + [first for first, _ in PAIRS]
SECOND = [second for _, second in PAIRS]
EVENTS = FIRST + SECOND
REGIONS = ["C1", "C2"]
MEMBERS = ["M1", "M2", "M3"]


def _by_locale(e: Sent) -> tuple[Any, ...]:
    """A locale's order, roughly: case ignored first, then lower case before upper case."""
    return (e.time, e.source.casefold(), e.id.casefold(), e.source.swapcase(), e.id.swapcase())


def _latest(keep: Callable[[Sent], bool]) -> Sent:
    """The winner by code point (Python's string order); the data is built so that a locale's
    order would pick the other one."""
    candidates = [e for e in EVENTS if keep(e)]
    winner = max(candidates, key=lambda e: e.version)
    assert max(candidates, key=_by_locale) is not winner, "the data does not tell them apart"
    return winner


# What each service keeps of a member: active, category (None where not kept), community, grid.
MEMBER_STATE = {
    "members": """SELECT m.active, m.category, c.community_id, c.grid_id
                  FROM members m LEFT JOIN current_reports c USING (member_id)
                  WHERE m.member_id = $1""",
    "grids": """SELECT status IS DISTINCT FROM 'deregistered' AS active, category, community_id,
                       grid_id FROM grid_members WHERE member_id = $1""",
    "activities": """SELECT status = 'registered' AS active, NULL AS category, community_id,
                            grid_id FROM member_projection WHERE member_id = $1""",
    "scoring": """SELECT NOT deregistered AS active, category, community_id, grid_id
                  FROM members WHERE member_id = $1""",
}
# one text for every service: the region projection has the same columns everywhere
REGION_STATE = "SELECT name, parent_id, ev_source, ev_id FROM regions WHERE region_id = $1"


@pytest.fixture(scope="module")
async def pools(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    """The four services, each on its own database, after they consumed EVENTS."""
    kafka = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    db = uuid.uuid4().hex[:10]
    try:
        async with AsyncExitStack() as stack:
            pools = {}
            every = settings_of_every_service(pg_server.url, kafka.bootstrap, f"pa_{db}")
            for name, settings in every.items():
                app = APPS[name](settings)
                await stack.enter_async_context(running_app(app))
                pools[name] = app.state.runtime.pool
            # the winners are applied first; the losers, arriving after, must change nothing
            await publish_raw(kafka.bootstrap, [_message(e) for e in FIRST])
            await wait_until(lambda: _consumed(pools, len(FIRST)), timeout=60)
            await publish_raw(kafka.bootstrap, [_message(e) for e in SECOND])
            await wait_until(lambda: _consumed(pools, len(EVENTS)), timeout=60)
            yield pools
    finally:
        kafka.stop()


async def _consumed(pools: dict[str, asyncpg.Pool], n: int) -> bool:
    """Every service has taken `n` of the events into its inbox (and applied them)."""
    counts = [
        await pool.fetchval(
            "SELECT count(*) FROM inbox WHERE source = ANY($1::text[])", [LOWER, UPPER]
        )
        for pool in pools.values()
    ]
    return all(c == n for c in counts)


def _message(e: Sent) -> tuple[str, bytes, dict[str, Any]]:
    event = cloud_event(e.type, e.data, subject=e.key, source=e.source, id=e.id, time=e.time)
    return (e.type, e.key.encode(), event)


async def _each(pools: dict[str, asyncpg.Pool], sql: str, *args: Any) -> dict[str, Any]:
    return {name: dict(await pool.fetchrow(sql, *args) or {}) for name, pool in pools.items()}


@pytest.mark.parametrize("region_id", REGIONS)
async def test_every_service_keeps_the_same_latest_region_version(
    pools: dict[str, asyncpg.Pool], region_id: str
) -> None:
    won = _latest(lambda e: e.type == REGION_DEFINED and e.key == region_id)
    expected = {
        "name": won.data["name"],
        "parent_id": won.data["parent_id"],
        "ev_source": won.source,
        "ev_id": won.id,
    }
    assert await _each(pools, REGION_STATE, region_id) == {name: expected for name in APPS}


@pytest.mark.parametrize("member_id", ["M1", "M2"])
async def test_every_service_keeps_the_same_latest_report(
    pools: dict[str, asyncpg.Pool], member_id: str
) -> None:
    won = _latest(lambda e: e.type == MEMBER_REPORTED and e.key == member_id)
    got = {
        name: {k: row[k] for k in ("community_id", "grid_id")}
        for name, row in (await _member_states(pools, member_id)).items()
    }
    expected = {"community_id": won.data["community_id"], "grid_id": won.data["grid_id"]}
    assert got == {name: expected for name in APPS}


@pytest.mark.parametrize("member_id", ["M1", "M2"])
async def test_every_service_takes_the_same_latest_of_registration_and_deregistration(
    pools: dict[str, asyncpg.Pool], member_id: str
) -> None:
    won = _latest(
        lambda e: e.type in (MEMBER_REGISTERED, MEMBER_DEREGISTERED) and e.key == member_id
    )
    got = {name: row["active"] for name, row in (await _member_states(pools, member_id)).items()}
    assert got == {name: won.type == MEMBER_REGISTERED for name in APPS}


async def test_every_service_that_keeps_the_category_keeps_the_same_latest_registration(
    pools: dict[str, asyncpg.Pool],
) -> None:
    won = _latest(lambda e: e.type == MEMBER_REGISTERED and e.key == "M3")
    got = {name: row["category"] for name, row in (await _member_states(pools, "M3")).items()}
    kept = {"members", "grids", "scoring"}  # activities keeps no category
    assert {n: c for n, c in got.items() if n in kept} == {n: won.data["category"] for n in kept}


async def test_every_version_source_and_id_column_compares_by_code_point(
    pools: dict[str, asyncpg.Pool],
) -> None:
    """Declared COLLATE "C" too, so even a comparison written without it cannot take the
    database's locale (the test server's own locale sorts by code point already)."""
    columns = """SELECT table_name || '.' || column_name AS col, collation_name
                 FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = ANY($1::text[])
                   AND column_name ~ '^(ev|reg|status|state|report)_(source|id|event_id)$'"""
    tables = ["regions", "member_projection", "grid_members", "current_reports", "members"]
    found = {
        name: {r["col"]: r["collation_name"] for r in await pool.fetch(columns, tables)}
        for name, pool in pools.items()
    }
    assert all(found.values()), found  # every service has such columns
    assert {n: {c: "C" for c in cols} for n, cols in found.items()} == found


async def _member_states(pools: dict[str, asyncpg.Pool], member_id: str) -> dict[str, Any]:
    return {
        name: dict(await pool.fetchrow(MEMBER_STATE[name], member_id) or {})
        for name, pool in pools.items()
    }
