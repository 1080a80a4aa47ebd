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


async def test_rule_history_kept_before_0006_becomes_chains_of_revisions(
    settings_for, tmp_path: Path
) -> None:
    """An installation that corrected rule versions in place (0004 kept each correction in
    rule_history) keeps every one as a revision naming the one it corrected."""
    url = settings_for("scoring").service_database_url
    await ensure_database(url)
    before = tmp_path / "scoring" / "migrations"  # same folder name: same migration keys
    before.mkdir(parents=True)
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < "0006":
            (before / path.name).write_text(path.read_text())
    pool = await create_pool(url, max_size=2)
    try:
        await migrate(pool, SHARED_MIGRATIONS, before)
        upsert = """INSERT INTO rule_versions (activity_type, points, per, effective_from, note)
                    VALUES ('study', $1, 'event', '2026-11-01T00:00:00Z', $2)
                    ON CONFLICT (activity_type, effective_from) DO UPDATE
                    SET points = excluded.points, note = excluded.note"""
        await pool.execute(upsert, 2, "more")
        await pool.execute(upsert, 3, "typo")
        await migrate(pool, SHARED_MIGRATIONS, MIGRATIONS)
        rows = await pool.fetch(
            """SELECT revision_id, points, note, corrects FROM rule_revisions
               WHERE activity_type = 'study' ORDER BY revision_id"""
        )
        default, original, correction = rows
        assert [(r["points"], r["note"]) for r in rows] == [
            (1, "default"),
            (2, "more"),
            (3, "typo"),
        ]
        assert (default["corrects"], original["corrects"]) == (None, None)
        assert correction["corrects"] == original["revision_id"]
        in_force = await pool.fetch(
            "SELECT points FROM rule_versions WHERE activity_type = 'study' ORDER BY effective_from"
        )
        assert [r["points"] for r in in_force] == [1, 3]
    finally:
        await pool.close()
