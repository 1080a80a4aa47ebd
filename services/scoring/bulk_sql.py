"""SQL of scoring's set-based path (asyncpg): a batch of activity.logged is COPYed (binary)
into a session-local staging table and a handful of statements derive everything else from
it in the batch's transaction — inbox claim, ledger, buckets, member totals, region
aggregates, rank counts and the points.changed outbox rows.

Keys compare in (time, source, id) order with source and id in code-point order (COLLATE "C"),
the order Python compares strings in, so a bucket is extended exactly when the exact path
would extend it. Multi-row writes are ordered the way the exact path sorts them, so two
replicas lock shared rows (region aggregates, rank counts) in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from shared.db import Conn
from shared.events import POINTS_CHANGED
from shared.outbox import NOTIFY_CHANNEL

from .domain.points import BucketTotal
from .persistence import RULES_LOCK, BucketKey

STAGE_COLUMNS = (
    "seq",
    "source",
    "id",
    "digest",
    "member_id",
    "activity_type",
    "time",
    "month",
    "hours",
)
StageRow = tuple[int, str, str, bytes, str, str, datetime, str, Decimal | None]

# Session-local (temporary) tables, emptied at every commit: nothing in them outlives a batch.
_TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS scoring_stage (
    seq int NOT NULL, source text NOT NULL, id text NOT NULL, digest bytea NOT NULL,
    member_id text NOT NULL, activity_type text NOT NULL, time timestamptz NOT NULL,
    month text NOT NULL, hours numeric(6,2)
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS scoring_stage_buckets (
    member_id text, month text, activity_type text, n int, hours numeric, first_time timestamptz,
    last_time timestamptz, last_source text, last_id text, versions int, raw numeric,
    rule_points numeric, cap numeric, ruled int
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS scoring_changes (
    member_id text, month text, activity_type text, old_points numeric, new_points numeric
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS scoring_totals (
    member_id text, period text, points numeric, delta numeric
) ON COMMIT DELETE ROWS;
"""


# Temporary tables get no statistics by themselves; without them the planner takes a large
# batch for a few rows and joins it with nested loops. Below this many rows the plans are the
# same either way, and an ANALYZE per small batch would cost a round trip and catalog writes.
ANALYZE_FROM = 1000


def _analyze(table: str, rows: int) -> str:
    return f"ANALYZE {table};" if rows >= ANALYZE_FROM else ""


def _literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings, PostgreSQL's default), for the
    constants of a multi-statement query, which takes no parameters."""
    if "\x00" in text:
        raise ValueError("NUL in a SQL literal")
    return "'" + text.replace("'", "''") + "'"


async def stage(conn: Conn, rows: Sequence[StageRow]) -> None:
    """Take the rules lock (shared), and COPY the batch into the staging table."""
    # one round trip: the lock, the temporary tables (IF NOT EXISTS: they live as long as the
    # session) and the batch's sorts and hashes in memory
    await conn.execute(
        f"SELECT pg_advisory_xact_lock_shared({RULES_LOCK}); {_TEMP_TABLES} "
        "SET LOCAL work_mem = '64MB';"
    )
    await conn.copy_records_to_table("scoring_stage", records=rows, columns=STAGE_COLUMNS)
    if len(rows) >= ANALYZE_FROM:
        await conn.execute("ANALYZE scoring_stage")


async def claim_and_record(conn: Conn, type_: str) -> list[tuple[int, bytes | None]]:
    """One statement: record the staged (source, id) pairs new to the inbox, insert those
    events into the ledger (revoked if their revocation came first), and sum the ones that
    count per bucket with the rule version in force at each event. Returns (seq, stored
    digest) of the staged events that were not new (a redelivery or a conflicting reuse)."""
    rows = await conn.fetch(
        """WITH ins AS (
               INSERT INTO inbox (source, id, type, digest)
               SELECT source, id, $1, digest FROM scoring_stage
               ORDER BY source COLLATE "C", id COLLATE "C"
               ON CONFLICT DO NOTHING RETURNING source, id),
           led AS (
               INSERT INTO ledger (source, id, member_id, kind, activity_type, time, month,
                                   hours, revoked)
               SELECT s.source, s.id, s.member_id, 'activity', s.activity_type, s.time, s.month,
                      s.hours, rv.target_id IS NOT NULL
               FROM scoring_stage s
               JOIN ins ON ins.source = s.source AND ins.id = s.id
               LEFT JOIN revocations rv ON rv.target_source = s.source AND rv.target_id = s.id
               ON CONFLICT DO NOTHING
               RETURNING member_id, month, activity_type, time, source, id, hours, revoked),
           agg AS (
               INSERT INTO scoring_stage_buckets
               SELECT l.member_id, l.month, l.activity_type, count(*),
                      coalesce(sum(l.hours), 0), min(l.time),
                      max(l.time),
                      (array_agg(l.source ORDER BY l.time DESC, l.source COLLATE "C" DESC,
                                                   l.id COLLATE "C" DESC))[1],
                      (array_agg(l.id ORDER BY l.time DESC, l.source COLLATE "C" DESC,
                                               l.id COLLATE "C" DESC))[1],
                      count(DISTINCT r.version_id),
                      sum(CASE WHEN r.per = 'hour' THEN round(r.points * coalesce(l.hours, 0), 2)
                               ELSE r.points END),
                      min(r.points), min(r.monthly_cap), count(r.version_id)
               FROM led l
               LEFT JOIN LATERAL (
                   SELECT version_id, points, per, monthly_cap FROM rule_versions v
                   WHERE v.activity_type = l.activity_type AND v.effective_from <= l.time
                   ORDER BY v.effective_from DESC LIMIT 1) r ON true
               WHERE NOT l.revoked
               GROUP BY l.member_id, l.month, l.activity_type)
           SELECT s.seq FROM scoring_stage s
           WHERE NOT EXISTS (SELECT 1 FROM ins WHERE ins.source = s.source AND ins.id = s.id)""",
        type_,
    )
    if not rows:
        return []
    # the stored digests of those (already committed, by this or another consumer)
    stored = await conn.fetch(
        """SELECT s.seq, i.digest FROM scoring_stage s JOIN inbox i USING (source, id)
           WHERE s.seq = ANY($1::int[])""",
        [r["seq"] for r in rows],
    )
    found = {r["seq"]: bytes(r["digest"]) for r in stored}
    return [(r["seq"], found.get(r["seq"])) for r in rows]


async def lock_members(conn: Conn, rows: int) -> None:
    """Create missing member rows and lock the batch's members, in id order (one round trip,
    with the statistics of the batch's bucket sums when it is large)."""
    await conn.execute(
        f"""{_analyze("scoring_stage_buckets", rows)}
           INSERT INTO members (member_id)
           SELECT DISTINCT member_id FROM scoring_stage ORDER BY member_id
           ON CONFLICT DO NOTHING;
           SELECT 1 FROM members WHERE member_id IN (SELECT member_id FROM scoring_stage)
           ORDER BY member_id FOR UPDATE;"""
    )


# A bucket is extended set-based when every new entry comes after its last one and one rule
# version scores them all. With points p so far and new raw points s (all >= 0 under a capped
# rule), trimming entry by entry to the cap c in any order ends at p if p >= c, else
# min(p + s, c); uncapped and negative rules just add.
_EXTEND = """
WITH cur AS (
    SELECT sb.*, coalesce(b.points, 0) AS old_points, coalesce(b.events, 0) AS old_events,
           coalesce(b.hours, 0) AS old_hours, b.last_time AS prev_time, b.member_id IS NULL AS is_new
    FROM scoring_stage_buckets sb
    LEFT JOIN buckets b USING (member_id, month, activity_type)),
fast AS (
    SELECT *, CASE WHEN ruled = 0 THEN old_points
                   WHEN cap IS NULL OR rule_points < 0 THEN old_points + raw
                   WHEN old_points >= cap THEN old_points
                   ELSE least(old_points + raw, cap) END AS new_points
    FROM cur
    WHERE (versions = 0 OR (versions = 1 AND ruled = n))
      AND (is_new OR (prev_time IS NULL AND old_events = 0) OR coalesce(first_time > prev_time, false))),
up AS (
    INSERT INTO buckets AS b (member_id, month, activity_type, points, events, hours,
                              last_time, last_source, last_id)
    SELECT member_id, month, activity_type, new_points, old_events + n, old_hours + hours,
           last_time, last_source, last_id
    FROM fast ORDER BY member_id, month, activity_type
    ON CONFLICT (member_id, month, activity_type) DO UPDATE SET
        points = excluded.points, events = excluded.events, hours = excluded.hours,
        last_time = excluded.last_time, last_source = excluded.last_source,
        last_id = excluded.last_id),
changed AS (
    INSERT INTO scoring_changes
    SELECT member_id, month, activity_type, old_points, new_points FROM fast
    WHERE new_points <> old_points)
SELECT member_id, month, activity_type FROM cur
WHERE NOT ((versions = 0 OR (versions = 1 AND ruled = n)) AND (is_new OR (prev_time IS NULL AND old_events = 0)
                              OR coalesce(first_time > prev_time, false)))
"""


async def extend_buckets(conn: Conn) -> list[BucketKey]:
    """Extend the buckets the new entries append to; return the others (out of order, or a
    rule version taking effect among the new entries), which the exact path recomputes."""
    rows = await conn.fetch(_EXTEND)
    return [(r["member_id"], r["month"], r["activity_type"]) for r in rows]


async def add_changes(
    conn: Conn, changes: dict[BucketKey, tuple[BucketTotal, BucketTotal]]
) -> None:
    items = sorted((k, v) for k, v in changes.items() if v[0].points != v[1].points)
    if not items:
        return
    await conn.execute(
        """INSERT INTO scoring_changes
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::numeric[])""",
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [k[2] for k, _ in items],
        [o.points for _, (o, _n) in items],
        [n.points for _, (_o, n) in items],
    )


# month 'YYYY-MM' → itself, 'YYYY-Qn', 'YYYY-Hn', 'YYYY' (domain.periods.periods_of_month)
_PERIODS = """(VALUES (md.month),
        (left(md.month, 4) || '-Q' || ((substr(md.month, 6, 2)::int - 1) / 3 + 1)),
        (left(md.month, 4) || '-H' || CASE WHEN substr(md.month, 6, 2)::int <= 6 THEN 1 ELSE 2 END),
        (left(md.month, 4))) AS p(period)"""


async def propagate(conn: Conn, source: str, rows: int, newest: datetime) -> dict[str, Decimal]:
    """Bucket changes → member period totals → region aggregates and rank counts → one
    points.changed per (member, month) whose total moved, in one round trip; then the newest
    event time and the change per type (returned) in another."""
    analyze_changes, analyze_totals = (
        _analyze("scoring_changes", rows),
        _analyze("scoring_totals", rows),
    )
    await conn.execute(
        f"""{analyze_changes}
            WITH md AS (
                SELECT member_id, month, sum(new_points - old_points) AS delta
                FROM scoring_changes GROUP BY member_id, month),
            pd AS (
                SELECT md.member_id, p.period, sum(md.delta) AS delta
                FROM md CROSS JOIN LATERAL {_PERIODS}
                GROUP BY md.member_id, p.period HAVING sum(md.delta) <> 0),
            up AS (
                INSERT INTO member_points AS mp (member_id, period, points)
                SELECT member_id, period, delta FROM pd
                ORDER BY member_id COLLATE "C", period COLLATE "C"
                ON CONFLICT (member_id, period) DO UPDATE SET points = mp.points + excluded.points
                RETURNING member_id, period, points)
            INSERT INTO scoring_totals
            SELECT up.member_id, up.period, up.points, pd.delta
            FROM up JOIN pd USING (member_id, period);
            {analyze_totals}
            {_REGIONS};
            {_outbox(source)};
            SELECT pg_notify({_literal(NOTIFY_CHANNEL)}, '');"""
    )
    by_type = await conn.fetch(
        """WITH newest AS (
               UPDATE scoring_state SET newest_event = greatest(newest_event, $1))
           SELECT activity_type, sum(new_points - old_points) AS delta FROM scoring_changes
           GROUP BY activity_type""",
        newest,
    )
    return {r["activity_type"]: r["delta"] for r in by_type}


_REGIONS = """WITH t AS (
                SELECT st.period, st.points AS new_total, st.points - st.delta AS old_total,
                       st.delta, m.community_id, m.grid_id
                FROM scoring_totals st JOIN members m USING (member_id) WHERE m.counted),
            scoped AS (
                SELECT 'community' AS kind, community_id AS region_id, t.* FROM t
                UNION ALL
                SELECT 'grid', grid_id, t.* FROM t WHERE coalesce(grid_id, '') <> ''
                UNION ALL
                SELECT 'city', '', t.* FROM t),
            rp AS (
                INSERT INTO region_points AS r (kind, region_id, period, total, positive)
                SELECT kind, region_id, period, sum(delta),
                       sum((new_total > 0)::int - (old_total > 0)::int)
                FROM scoped WHERE kind <> 'city'
                GROUP BY kind, region_id, period
                HAVING sum(delta) <> 0 OR sum((new_total > 0)::int - (old_total > 0)::int) <> 0
                ORDER BY kind COLLATE "C", region_id COLLATE "C", period COLLATE "C"
                ON CONFLICT (kind, region_id, period) DO UPDATE SET
                    total = r.total + excluded.total, positive = r.positive + excluded.positive)
            INSERT INTO score_counts AS s (kind, region_id, period, points, members)
            SELECT kind, region_id, period, points, sum(n) FROM (
                SELECT kind, region_id, period, old_total AS points, -1 AS n
                FROM scoped WHERE old_total <> 0
                UNION ALL
                SELECT kind, region_id, period, new_total, 1 FROM scoped WHERE new_total <> 0
            ) h
            GROUP BY kind, region_id, period, points HAVING sum(n) <> 0
            ORDER BY kind COLLATE "C", region_id COLLATE "C", period COLLATE "C", points
            ON CONFLICT (kind, region_id, period, points) DO UPDATE SET
                members = s.members + excluded.members"""


def _outbox(source: str) -> str:
    """points.changed, byte for byte the shape encode_event gives (compact JSON, 'Z' time)."""
    topic, src = _literal(POINTS_CHANGED), _literal(source)
    return f"""INSERT INTO outbox (topic, key, value)
           SELECT {topic}, convert_to(member_id, 'UTF8'), convert_to(
               '{{"specversion":"1.0","id":"' || gen_random_uuid() || '","source":'
               || to_json({src}::text) || ',"type":"' || {topic} || '","time":"'
               || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
               || '","subject":' || to_json(member_id) || ',"datacontenttype":"application/json",'
               || '"data":{{"member_id":' || to_json(member_id) || ',"period":' || to_json(period)
               || ',"points":"' || points::text || '","delta":"' || delta::text || '"}}}}',
               'UTF8')
           FROM scoring_totals WHERE period ~ '^[0-9]{{4}}-[0-9]{{2}}$'
           ORDER BY member_id COLLATE "C", period COLLATE "C"
           """
