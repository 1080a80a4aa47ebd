"""The counters of applied work (points given, events applied, the set-based path's step
times) move only once the batch's transaction committed (docs/design.md §4.9): a batch that
fails and is retried one message at a time counts each applied event once, a rolled-back batch
counts nothing — on both write paths, against the real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

import services.scoring as pkg
from services.scoring.bulk import decode
from services.scoring.handlers import make_apply
from services.scoring.metrics import WRITE_STEPS
from shared.db import Conn, create_pool, ensure_database, migrate
from shared.events import ACTIVITY_LOGGED
from shared.inbox import InboxConsumer, Incoming, parse_record
from shared.metrics import REGISTRY
from shared.service import SHARED_MIGRATIONS
from shared.settings import with_database

from .helpers import logged, records
from .reference import TZ

SOURCE = "/partygrid/scoring"
TYPE = "study"
POISON = "poison-event"
_TABLES = "inbox, outbox, dead_letters, ledger, buckets, member_points, members, score_counts"


@pytest.fixture(scope="module")
def url(pg_server) -> str:
    url = with_database(pg_server.url, "metrics_after_commit")

    async def setup() -> None:
        await ensure_database(url)
        pool = await create_pool(url)
        await migrate(pool, SHARED_MIGRATIONS, Path(pkg.__file__).parent / "migrations")
        await pool.close()

    asyncio.run(setup())
    return url


@pytest.fixture
async def pool(url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(url, max_size=2)
    async with pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {_TABLES}")
    yield pool
    await pool.close()


def _counters() -> tuple[float, float]:
    """(points awarded for TYPE, activity.logged applied) as Prometheus has them now."""
    points = REGISTRY.get_sample_value(
        "partygrid_scoring_points_awarded_total", {"activity_type": TYPE}
    )
    applied = REGISTRY.get_sample_value(
        "partygrid_events_applied_total", {"service": "scoring", "type": ACTIVITY_LOGGED}
    )
    return points or 0.0, applied or 0.0


def _step_counts() -> dict[str, float]:
    """How many batches each step of the set-based path has recorded."""
    return {
        step: REGISTRY.get_sample_value(
            "partygrid_scoring_write_step_seconds_count", {"step": step}
        )
        or 0.0
        for step in WRITE_STEPS
    }


async def _stored_points(pool: asyncpg.Pool) -> Decimal:
    return await pool.fetchval(
        "SELECT coalesce(sum(points), 0) FROM buckets WHERE activity_type = $1", TYPE
    )


def _batch(n: int, *, poison: bool = False) -> list[dict]:
    """n study events of n members (no cap reached); the last one the poison if asked."""
    events = [logged(f"M{i}", TYPE, "2026-11-02T10:00:00+08:00") for i in range(n)]
    if poison:
        events[-1]["id"] = POISON
    return events


class FailsOnPoison:
    """Scoring's exact apply that, once it has applied its batch, fails if the poison is in
    it: the batch rolls back and the inbox retries it one message at a time."""

    def __init__(self) -> None:
        self.scoring = make_apply(TZ, SOURCE, bulk=False)

    async def __call__(self, conn: Conn, events: list[Incoming]) -> None:
        await self.scoring(conn, events)
        if any(e.event.id == POISON for e in events):
            raise RuntimeError("poison")


async def test_a_batch_retried_one_message_at_a_time_counts_each_applied_event_once(
    pool: asyncpg.Pool,
) -> None:
    consumer = InboxConsumer(pool, FailsOnPoison(), service="scoring", source=SOURCE)
    points_before, applied_before = _counters()

    result = await consumer.handle(records(_batch(4, poison=True)))

    points_after, applied_after = _counters()
    assert (result.applied, result.dead_lettered) == (3, 1)
    assert applied_after - applied_before == result.applied
    assert Decimal(str(points_after - points_before)) == await _stored_points(pool)


async def test_a_rolled_back_batch_on_the_exact_path_counts_nothing(pool: asyncpg.Pool) -> None:
    consumer = InboxConsumer(
        pool, make_apply(TZ, SOURCE, bulk=False), service="scoring", source=SOURCE
    )
    items = [parse_record(r) for r in records(_batch(3))]
    before = _counters()

    with pytest.raises(RuntimeError):
        async with consumer.transaction() as conn:
            await consumer.apply(conn, items)
            assert await conn.fetchval("SELECT count(*) FROM ledger") == 3  # applied, then:
            raise RuntimeError("rolled back")

    assert _counters() == before


async def test_a_rolled_back_batch_on_the_set_based_path_counts_nothing(
    pool: asyncpg.Pool,
) -> None:
    apply = make_apply(TZ, SOURCE)
    consumer = InboxConsumer(pool, apply, service="scoring", source=SOURCE)
    staged = [decode(r, TZ, seq) for seq, r in enumerate(records(_batch(3)))]
    before, steps_before = _counters(), _step_counts()

    with pytest.raises(RuntimeError):
        async with consumer.transaction() as conn:
            applied, _ = await apply.bulk.apply(conn, staged)  # type: ignore[attr-defined]
            assert applied == 3  # applied, then:
            raise RuntimeError("rolled back")

    assert _counters() == before
    assert _step_counts() == steps_before  # no step times either


async def test_a_committed_batch_on_the_set_based_path_counts_once(pool: asyncpg.Pool) -> None:
    consumer = InboxConsumer(pool, make_apply(TZ, SOURCE), service="scoring", source=SOURCE)
    points_before, _ = _counters()

    await consumer.handle(records(_batch(3)))

    points_after, _ = _counters()
    assert Decimal(str(points_after - points_before)) == await _stored_points(pool)


async def test_a_committed_set_based_batch_records_the_time_of_each_step_it_ran(
    pool: asyncpg.Pool,
) -> None:
    consumer = InboxConsumer(pool, make_apply(TZ, SOURCE), service="scoring", source=SOURCE)
    before = _step_counts()

    await consumer.handle(records(_batch(3)))

    ran = {step: _step_counts()[step] - before[step] for step in WRITE_STEPS}
    # new events in time order: every step once, no bucket for the exact path
    assert ran == {step: 0.0 if step == "exact" else 1.0 for step in WRITE_STEPS}


async def test_a_set_based_batch_of_redeliveries_records_only_the_steps_it_ran(
    pool: asyncpg.Pool,
) -> None:
    consumer = InboxConsumer(pool, make_apply(TZ, SOURCE), service="scoring", source=SOURCE)
    batch = records(_batch(3))
    await consumer.handle(batch)
    before = _step_counts()

    await consumer.handle(batch)

    ran = {step: _step_counts()[step] - before[step] for step in WRITE_STEPS}
    assert ran == {step: 1.0 if step in ("stage", "claim") else 0.0 for step in WRITE_STEPS}


async def test_a_late_event_on_the_set_based_path_records_the_exact_recomputation(
    pool: asyncpg.Pool,
) -> None:
    consumer = InboxConsumer(pool, make_apply(TZ, SOURCE), service="scoring", source=SOURCE)
    await consumer.handle(records([logged("M1", TYPE, "2026-11-02T10:00:00+08:00")]))
    before = _step_counts()

    # older than the bucket's last entry: that bucket is recomputed from the ledger
    await consumer.handle(records([logged("M1", TYPE, "2026-11-02T09:00:00+08:00")]))

    assert _step_counts()["exact"] - before["exact"] == 1.0
