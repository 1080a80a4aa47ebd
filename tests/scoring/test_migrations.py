"""Migration 0002 fills score_counts (and the city's member count) from the totals a database
already holds, for installations that ran before it, through `rebuild_rank_counts()`. The
rebuild must give exactly the rows the consumer maintains incrementally, or own ranks would be
off after an upgrade."""

from __future__ import annotations

from pathlib import Path

import services.scoring as scoring_pkg
from services.scoring.handlers import make_apply
from shared.db import create_pool, ensure_database, migrate
from shared.inbox import InboxConsumer
from shared.service import SHARED_MIGRATIONS

from .helpers import logged, records, region, reported

MIGRATIONS = Path(scoring_pkg.__file__).parent / "migrations"


async def test_backfill_equals_incremental_maintenance(settings_for) -> None:
    settings = settings_for("scoring")
    url = settings.service_database_url
    await ensure_database(url)
    pool = await create_pool(url, max_size=2)
    try:
        await migrate(pool, SHARED_MIGRATIONS, MIGRATIONS)
        events = [region("S1", "street", "D1"), region("C1", "community", "S1")]
        events += [region("C2", "community", "S1")]
        for i, (community, grid) in enumerate([("C1", "G1"), ("C1", "G2"), ("C2", None)] * 3):
            member = f"M{i}"
            events.append(reported(member, community, "2026-11-01T09:00:00+08:00", grid=grid))
            for k in range(i % 4):
                kind = "organization_life_absent" if k == 2 else "study"
                events.append(logged(member, kind, f"2026-11-0{k + 2}T10:00:00+08:00"))
        events.append(reported("M0", "C2", "2026-11-20T09:00:00+08:00"))  # a move
        consumer = InboxConsumer(
            pool, make_apply(settings.tz, settings.source), service="scoring", source="/s"
        )
        result = await consumer.handle(records(events))
        assert result.applied == len(events)

        query = "SELECT * FROM score_counts WHERE members <> 0 ORDER BY 1, 2, 3, 4"
        incremental = [tuple(r) for r in await pool.fetch(query)]
        city = await pool.fetchval("SELECT members FROM region_members WHERE kind = 'city'")
        assert city == 9 and len(incremental) > 10

        await pool.execute("UPDATE score_counts SET members = members + 1")  # spoil them
        await pool.execute("UPDATE region_members SET members = 0 WHERE kind = 'city'")
        await pool.execute("SELECT rebuild_rank_counts()")
        assert [tuple(r) for r in await pool.fetch(query)] == incremental
        assert await pool.fetchval("SELECT members FROM region_members WHERE kind = 'city'") == city
    finally:
        await pool.close()
