"""The metrics the alert rules need (deploy/prometheus/alerts.yml) say what happened: a failed
batch is counted by how it was handled, the newest applied event's time only moves forward, and
/metrics reports whether the service is ready.

The inbox runs on a real PostgreSQL database with the shared migrations."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from dev.embedded import free_port
from dev.testing import cloud_event
from services.scoring.main import create_app
from shared.db import create_pool, migrate
from shared.events import ACTIVITY_LOGGED
from shared.inbox import InboxConsumer, Incoming, Record
from shared.metrics import REGISTRY
from shared.service import SHARED_MIGRATIONS
from shared.settings import with_database

DUMMY_MIGRATIONS = Path(__file__).parent / "dummy_migrations"
SERVICE = "alertmetrics"  # a label of its own, so other tests' counts do not mix in
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


async def _apply(conn: Any, events: list[Incoming]) -> None:
    if any(e.data.member_id == POISON for e in events):
        raise ValueError("a bug in the use case")
    await conn.executemany(
        "INSERT INTO seen VALUES ($1, $2, $3)",
        [(e.event.source, e.event.id, e.data.member_id) for e in events],
    )


def _record(offset: int, member: str, when: datetime) -> Record:

    event = cloud_event(
        ACTIVITY_LOGGED,
        {"member_id": member, "activity_type": "study"},
        subject=member,
        id=f"am-{offset}",
        time=when,
    )
    return Record(ACTIVITY_LOGGED, 0, offset, member.encode(), json.dumps(event).encode())


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": SERVICE, **labels}) or 0.0


async def test_failed_batch_is_counted_as_retried_one_by_one(pool: asyncpg.Pool) -> None:
    consumer = InboxConsumer(pool, _apply, service=SERVICE, source="/test")
    failures = "partygrid_consumer_batch_failures_total"
    before = _sample(failures, handling="one_by_one")
    assert REGISTRY.get_sample_value(failures, {"service": SERVICE, "handling": "reconsumed"}) == 0
    now = datetime.now(UTC)
    result = await consumer.handle([_record(1, "M1", now), _record(2, POISON, now)])
    assert (result.applied, result.dead_lettered) == (1, 1)
    assert _sample(failures, handling="one_by_one") == before + 1
    await consumer.handle([_record(3, "M2", now)])  # a good batch counts nothing
    assert _sample(failures, handling="one_by_one") == before + 1


async def test_newest_applied_event_time_only_moves_forward(pool: asyncpg.Pool) -> None:
    consumer = InboxConsumer(pool, _apply, service=SERVICE, source="/test")
    newest = "partygrid_events_newest_applied_timestamp_seconds"
    later = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    earlier = later - timedelta(days=3)
    await consumer.handle([_record(10, "M10", earlier), _record(11, "M11", later)])
    assert _sample(newest) == later.timestamp()
    await consumer.handle([_record(12, "M12", earlier - timedelta(days=1))])
    assert _sample(newest) == later.timestamp()
    # a poison event that was not applied does not count as applied
    await consumer.handle([_record(13, POISON, later + timedelta(hours=1))])
    assert _sample(newest) == later.timestamp()


async def test_metrics_say_not_ready_while_kafka_is_away(settings_for: Any) -> None:
    settings = settings_for("scoring", kafka_bootstrap_servers=f"127.0.0.1:{free_port()}")
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/readyz")).status_code == 503
        text = (await client.get("/metrics")).text
    assert 'partygrid_service_ready{service="scoring"} 0.0' in text
