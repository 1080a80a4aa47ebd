"""`python -m services.scoring rebuild` recomputes from the ledger exactly the tables the
consumer maintains incrementally, and puts back a derived table that went wrong."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import services.scoring as pkg
from services.scoring.domain.rules import Rule
from services.scoring.handlers import make_apply
from services.scoring.rebuild import DERIVED, rebuild
from services.scoring.usecases import add_rule_version
from shared.db import create_pool, ensure_database, migrate
from shared.inbox import InboxConsumer, Record
from shared.service import SHARED_MIGRATIONS
from shared.settings import with_database

from .helpers import forget_rule_revisions
from .reference import TZ
from .test_properties import TABLES, event_sets, times

SOURCE = "/partygrid/scoring"


@pytest.fixture(scope="module")
def rebuild_db(pg_server) -> str:
    url = with_database(pg_server.url, "rebuild_scoring")

    async def setup() -> None:
        await ensure_database(url)
        pool = await create_pool(url)
        await migrate(pool, SHARED_MIGRATIONS, Path(pkg.__file__).parent / "migrations")
        await pool.close()

    asyncio.run(setup())
    return url


async def _deliver(url: str, events: list[dict], rule: Rule | None, seed: int) -> asyncpg.Pool:
    pool = await create_pool(url, max_size=2)
    async with pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        await forget_rule_revisions(conn, "note = 'test'")
    rnd = random.Random(seed)
    rnd.shuffle(events)
    consumer = InboxConsumer(pool, make_apply(TZ, SOURCE), service="scoring", source=SOURCE)
    records = [
        Record(e["type"], 0, i, e["subject"].encode(), json.dumps(e).encode())
        for i, e in enumerate(events)
    ]
    half = len(records) // 2
    await consumer.handle(records[:half])
    if rule is not None:  # a rule version taking effect inside the month, between batches
        async with pool.acquire() as conn, conn.transaction():
            await add_rule_version(conn, rule, "test", SOURCE)
    await consumer.handle(records[half:])
    return pool


async def _snapshot(conn: asyncpg.Connection) -> dict[str, set[tuple]]:
    return {t: {tuple(r) for r in await conn.fetch(f"SELECT * FROM {t}")} for t in DERIVED}


rules = st.none() | st.builds(
    Rule,
    st.sampled_from(["study", "volunteer_service", "wish_fulfilled", "member_reported"]),
    st.sampled_from([Decimal("1"), Decimal("3"), Decimal("0.5")]),
    st.just("event"),
    st.none(),
    times,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=event_sets(), rule=rules, seed=st.integers(0, 2**32 - 1))
def test_rebuild_equals_the_incremental_tables(
    rebuild_db: str, events: list[dict], rule: Rule | None, seed: int
) -> None:
    async def run() -> dict[str, int]:
        pool = await _deliver(rebuild_db, events, rule, seed)
        try:
            async with pool.acquire() as conn:
                report = await rebuild(conn, check_only=True, progress=lambda _: None)
                return report.differences
        finally:
            await pool.close()

    assert asyncio.run(run()) == {t: 0 for t in DERIVED}


def test_rebuild_reports_and_repairs_a_wrong_derived_table(rebuild_db: str) -> None:
    from hypothesis import find, settings

    # the same example every run, whatever an earlier run left in the example database
    events = find(
        event_sets(),
        lambda es: len(es) > 12,
        settings=settings(database=None, derandomize=True),
    )

    async def run() -> None:
        pool = await _deliver(rebuild_db, events, None, 1)
        try:
            async with pool.acquire() as conn:
                before = await _snapshot(conn)
                assert before["member_points"], "the events gave points"
                await conn.execute(
                    "UPDATE member_points SET points = points + 1 WHERE ctid = "
                    "(SELECT ctid FROM member_points WHERE points NOT IN (0, -1) LIMIT 1)"
                )
                await conn.execute("DELETE FROM score_counts")
                lines: list[str] = []
                report = await rebuild(conn, progress=lines.append)
                assert report.differences["member_points"] == 2  # one row out, one in
                assert report.differences["score_counts"] == len(
                    [r for r in before["score_counts"] if r[4] != 0]
                )
                assert any("committed" in line for line in lines)
                after = await _snapshot(conn)
                for t in DERIVED:
                    assert _said(t, after[t]) == _said(t, before[t]), t
        finally:
            await pool.close()

    asyncio.run(run())


def _said(table: str, rows: set[tuple]) -> set[tuple]:
    """The rows that say something: all-zero rows read the same as no row."""
    return {r for r in rows if not _empty(table, r)}


def _empty(table: str, row: tuple) -> bool:
    if table == "buckets":
        return row[3] == 0 and row[4] == 0
    if table == "region_points":
        return row[3] == 0 and row[4] == 0
    return row[-1] == 0
