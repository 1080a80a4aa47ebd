"""SQL of scoring's set-based path (asyncpg): a batch of activity.logged is COPYed (binary)
into a session-local staging table and four statements derive everything else from it in the
batch's transaction — inbox claim and ledger; member rows and their locks; bucket sums and
extensions; member totals, region aggregates, rank counts, the points.changed outbox rows and
the newest event time.

One staging table only: PostgreSQL empties every ON COMMIT DELETE ROWS table at each commit
of a transaction that touched a temporary table, at about half a millisecond a table, so the
intermediate results travel in CTEs and arrays instead.

Keys compare in (time, source, id) order with source and id in code-point order (COLLATE "C"),
the order Python compares strings in, so a bucket is extended exactly when the exact path
would extend it. Multi-row writes are ordered the way the exact path sorts them, so two
replicas lock shared rows (region aggregates, rank counts) in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared.db import Conn
from shared.events import POINTS_CHANGED
from shared.outbox import NOTIFY_CHANNEL

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

# Session-local: created once per connection, emptied at every commit.
_STAGE_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS scoring_stage (
    seq int NOT NULL, source text NOT NULL, id text NOT NULL, digest bytea NOT NULL,
    member_id text NOT NULL, activity_type text NOT NULL, time timestamptz NOT NULL,
    month text NOT NULL, hours numeric(6,2)
) ON COMMIT DELETE ROWS;
"""


# A temporary table gets no statistics by itself. Without them the planner takes even a batch
# of ten for a thousand rows and hashes whole tables (members, buckets) to join them: a
# ten-event batch then costs 9 ms instead of 5 at 20,000 members, and more the more members
# there are. ANALYZE of the staging table costs a fifth of a millisecond, so every batch has it.
async def stage(conn: Conn, rows: Sequence[StageRow]) -> None:
    """Take the rules lock (shared) and COPY the batch into the staging table."""
    # one round trip: the lock, the staging table, the batch's sorts and hashes in memory
    await conn.execute(
        f"SELECT pg_advisory_xact_lock_shared({RULES_LOCK}); {_STAGE_TABLE} "
        "SET LOCAL work_mem = '64MB';"
    )
    await conn.copy_records_to_table("scoring_stage", records=rows, columns=STAGE_COLUMNS)
    await conn.execute("ANALYZE scoring_stage")


async def claim_and_record(conn: Conn, type_: str) -> list[tuple[int, bytes | None]]:
    """One statement: record the staged (source, id) pairs new to the inbox and insert those
    events into the ledger (revoked if their revocation came first). Returns (seq, stored
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
               ON CONFLICT DO NOTHING)
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


async def lock_members(conn: Conn) -> None:
    """Create missing member rows and lock the batch's members, in id order (one round trip:
    a query without parameters may hold several statements)."""
    await conn.execute(
        """INSERT INTO members (member_id)
           SELECT DISTINCT member_id FROM scoring_stage ORDER BY member_id
           ON CONFLICT DO NOTHING;
           SELECT 1 FROM members WHERE member_id IN (SELECT member_id FROM scoring_stage)
           ORDER BY member_id FOR UPDATE;"""
    )


@dataclass(frozen=True)
class BucketChange:
    """A bucket the batch adds to: extended in SQL (old and new points), or `slow` — for the
    exact path to recompute."""

    key: BucketKey
    slow: bool
    old_points: Decimal
    new_points: Decimal


# The batch's new ledger entries (staged, claimed, not revoked — read from the staging table,
# which holds what claim_and_record put in the ledger, rather than joined with the whole
# ledger) summed per bucket with the rule version in force at each entry. A bucket is
# extended set-based when every new entry comes after its last one and one rule version
# scores them all. With points p so far and new raw points s (all >= 0 under a capped rule),
# trimming entry by entry to the cap c in any order ends at p if p >= c, else min(p + s, c);
# uncapped and negative rules just add.
_EXTEND = """
WITH led AS (
    SELECT s.member_id, s.month, s.activity_type, s.time, s.source, s.id, s.hours
    FROM scoring_stage s
    WHERE s.seq <> ALL($1::int[]) AND NOT EXISTS (
        SELECT 1 FROM revocations rv WHERE rv.target_source = s.source AND rv.target_id = s.id)),
sb AS (
    SELECT l.member_id, l.month, l.activity_type, count(*) AS n,
           coalesce(sum(l.hours), 0) AS hours, min(l.time) AS first_time, max(l.time) AS last_time,
           (array_agg(l.source ORDER BY l.time DESC, l.source COLLATE "C" DESC,
                                        l.id COLLATE "C" DESC))[1] AS last_source,
           (array_agg(l.id ORDER BY l.time DESC, l.source COLLATE "C" DESC,
                                    l.id COLLATE "C" DESC))[1] AS last_id,
           count(DISTINCT r.version_id) AS versions,
           sum(CASE WHEN r.per = 'hour' THEN round(r.points * coalesce(l.hours, 0), 2)
                    ELSE r.points END) AS raw,
           min(r.points) AS rule_points, min(r.monthly_cap) AS cap, count(r.version_id) AS ruled
    FROM led l
    LEFT JOIN LATERAL (
        SELECT version_id, points, per, monthly_cap FROM rule_versions v
        WHERE v.activity_type = l.activity_type AND v.effective_from <= l.time
        ORDER BY v.effective_from DESC LIMIT 1) r ON true
    GROUP BY l.member_id, l.month, l.activity_type),
cur AS (
    SELECT sb.*, coalesce(b.points, 0) AS old_points, coalesce(b.events, 0) AS old_events,
           coalesce(b.hours, 0) AS old_hours,
           (sb.versions = 0 OR (sb.versions = 1 AND sb.ruled = sb.n))
           AND (b.member_id IS NULL OR (b.last_time IS NULL AND coalesce(b.events, 0) = 0)
                OR coalesce(sb.first_time > b.last_time, false)) AS fast
    FROM sb LEFT JOIN buckets b USING (member_id, month, activity_type)),
ext AS (
    SELECT *, CASE WHEN ruled = 0 THEN old_points
                   WHEN cap IS NULL OR rule_points < 0 THEN old_points + raw
                   WHEN old_points >= cap THEN old_points
                   ELSE least(old_points + raw, cap) END AS new_points
    FROM cur),
up AS (
    INSERT INTO buckets AS b (member_id, month, activity_type, points, events, hours,
                              last_time, last_source, last_id)
    SELECT member_id, month, activity_type, new_points, old_events + n, old_hours + hours,
           last_time, last_source, last_id
    FROM ext WHERE fast ORDER BY member_id, month, activity_type
    ON CONFLICT (member_id, month, activity_type) DO UPDATE SET
        points = excluded.points, events = excluded.events, hours = excluded.hours,
        last_time = excluded.last_time, last_source = excluded.last_source,
        last_id = excluded.last_id)
SELECT member_id, month, activity_type, NOT fast AS slow, old_points, new_points FROM ext
WHERE NOT fast OR new_points <> old_points
"""


async def extend_buckets(conn: Conn, stale: Sequence[int]) -> list[BucketChange]:
    """Extend the buckets the batch's new entries (the staged ones but `stale`, the seqs that
    were not new) append to; return the changed ones and the others (out of order, or a rule
    version taking effect among the new entries), which the exact path recomputes."""
    rows = await conn.fetch(_EXTEND, list(stale))
    return [
        BucketChange(
            (r["member_id"], r["month"], r["activity_type"]),
            r["slow"],
            r["old_points"],
            r["new_points"],
        )
        for r in rows
    ]


# month 'YYYY-MM' → itself, 'YYYY-Qn', 'YYYY-Hn', 'YYYY' (domain.periods.periods_of_month)
_PERIODS = """(VALUES (md.month),
        (left(md.month, 4) || '-Q' || ((substr(md.month, 6, 2)::int - 1) / 3 + 1)),
        (left(md.month, 4) || '-H' || CASE WHEN substr(md.month, 6, 2)::int <= 6 THEN 1 ELSE 2 END),
        (left(md.month, 4))) AS p(period)"""

_PROPAGATE = f"""
WITH md AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[]) AS md(member_id, month, delta)),
pd AS (
    SELECT md.member_id, p.period, sum(md.delta) AS delta
    FROM md CROSS JOIN LATERAL {_PERIODS}
    GROUP BY md.member_id, p.period HAVING sum(md.delta) <> 0),
up AS (
    INSERT INTO member_points AS mp (member_id, period, points)
    SELECT member_id, period, delta FROM pd
    ORDER BY member_id COLLATE "C", period COLLATE "C"
    ON CONFLICT (member_id, period) DO UPDATE SET points = mp.points + excluded.points
    RETURNING member_id, period, points),
totals AS (
    SELECT up.member_id, up.period, up.points, pd.delta
    FROM up JOIN pd USING (member_id, period)),
t AS (
    SELECT st.period, st.points AS new_total, st.points - st.delta AS old_total,
           st.delta, m.community_id, m.grid_id
    FROM totals st JOIN members m USING (member_id) WHERE m.counted),
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
        total = r.total + excluded.total, positive = r.positive + excluded.positive),
sc AS (
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
        members = s.members + excluded.members),
-- points.changed, byte for byte the shape encode_event gives (compact JSON, 'Z' time)
ob AS (
    INSERT INTO outbox (topic, key, value)
    SELECT $4, convert_to(member_id, 'UTF8'), convert_to(
        '{{"specversion":"1.0","id":"' || gen_random_uuid() || '","source":'
        || to_json($5::text) || ',"type":"' || $4 || '","time":"'
        || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || '","subject":' || to_json(member_id) || ',"datacontenttype":"application/json",'
        || '"data":{{"member_id":' || to_json(member_id) || ',"period":' || to_json(period)
        || ',"points":"' || points::text || '","delta":"' || delta::text || '"}}}}',
        'UTF8')
    FROM totals WHERE period ~ '^[0-9]{{4}}-[0-9]{{2}}$'
    ORDER BY member_id COLLATE "C", period COLLATE "C"),
newest AS (
    UPDATE scoring_state SET newest_event = greatest(newest_event, $6))
SELECT pg_notify($7, '')
"""


async def propagate(
    conn: Conn, source: str, month_deltas: dict[tuple[str, str], Decimal], newest: datetime
) -> None:
    """Bucket changes summed per (member, month) → member period totals → region aggregates
    and rank counts → one points.changed per (member, month) whose total moved; and the newest
    event time. One statement (its parts see one snapshot: each writes a table of its own)."""
    items = sorted(month_deltas.items())
    await conn.execute(
        _PROPAGATE,
        [m for (m, _), _ in items],
        [mo for (_, mo), _ in items],
        [d for _, d in items],
        POINTS_CHANGED,
        source,
        newest,
        NOTIFY_CHANNEL,
    )
