"""`shared.inbox.after_commit`: what a use case hands it inside an inbox transaction runs once
that transaction committed, in order, and never if it rolled back (docs/design.md §3.4).

The inbox runs on a real PostgreSQL database with the shared migrations."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from dev.testing import cloud_event
from shared.db import create_pool, migrate
from shared.events import ACTIVITY_LOGGED
from shared.inbox import InboxConsumer, Incoming, Record, after_commit, parse_record
from shared.service import SHARED_MIGRATIONS
from shared.settings import with_database

DUMMY_MIGRATIONS = Path(__file__).parent / "dummy_migrations"
POISON = "M-POISON"


@pytest.fixture
async def pool(pg_server: Any, db_name: str) -> AsyncIterator[asyncpg.Pool]:
    admin = await asyncpg.connect(pg_server.url)
    await admin.execute(f'CREATE DATABASE "{db_name}"')
    await admin.close()
    pool = await create_pool(with_database(pg_server.url, db_name))
    await migrate(pool, SHARED_MIGRATIONS, DUMMY_MIGRATIONS)
    yield pool
    await pool.close()


class Recording:
    """An apply that writes each event and hands `after_commit` a note of it; it fails (after
    writing and noting) on a batch holding the poison."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    async def __call__(self, conn: Any, events: list[Incoming]) -> None:
        await conn.executemany(
            "INSERT INTO seen VALUES ($1, $2, $3)",
            [(e.event.source, e.event.id, e.data.member_id) for e in events],
        )
        for e in events:
            after_commit(lambda member=e.data.member_id: self.ran.append(member))
        if any(e.data.member_id == POISON for e in events):
            raise ValueError("a bug in the use case")


def _records(*members: str) -> list[Record]:
    out = []
    for offset, member in enumerate(members):
        event = cloud_event(ACTIVITY_LOGGED, {"member_id": member, "activity_type": "study"})
        out.append(Record(ACTIVITY_LOGGED, 0, offset, None, json.dumps(event).encode()))
    return out


async def test_callbacks_run_after_the_commit_in_the_order_given(pool: asyncpg.Pool) -> None:
    apply = Recording()
    consumer = InboxConsumer(pool, apply, service="aftercommit", source="/test")

    await consumer.handle(_records("M1", "M2", "M3"))

    assert apply.ran == ["M1", "M2", "M3"]


async def test_callbacks_of_a_rolled_back_transaction_never_run(pool: asyncpg.Pool) -> None:
    apply = Recording()
    consumer = InboxConsumer(pool, apply, service="aftercommit", source="/test")

    with pytest.raises(RuntimeError):
        async with consumer.transaction() as conn:
            await apply(conn, [parse_record(r) for r in _records("M1")])
            raise RuntimeError("roll back")

    assert apply.ran == []
    assert await pool.fetchval("SELECT count(*) FROM seen") == 0


async def test_a_batch_retried_one_by_one_runs_each_applied_events_callbacks_once(
    pool: asyncpg.Pool,
) -> None:
    apply = Recording()
    consumer = InboxConsumer(pool, apply, service="aftercommit", source="/test")

    await consumer.handle(_records("M1", POISON, "M2"))

    assert apply.ran == ["M1", "M2"]


def test_after_commit_outside_an_inbox_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)
