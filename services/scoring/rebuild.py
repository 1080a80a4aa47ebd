"""Rebuild every derived table of scoring from the ledger and the rule versions, set-based.

What the consumer keeps up to date incrementally — buckets, member period totals, region
aggregates, region member counts and rank counts — is a function of the ledger, the rule
versions and the members' locations. This recomputes all of it with a few SQL statements:

- a bucket scored by one rule version (nearly all of them) is a closed form of its entries:
  the sum of their points, trimmed once to the monthly cap (trimming entry by entry in
  (time, source, id) order ends at the same value when the cap is the same for all); its last
  entry is the first row of a window over the bucket in descending key order;
- the few buckets in which a rule version takes effect mid-month are recomputed by the exact
  path's own code (domain.points.compute_bucket), entry by entry;
- the member_reported bonus goes to the month of each member's first report of the year.

It all happens in one transaction holding the rules lock exclusively: consumers and rule
changes wait, reads go on and see the old tables until the commit, never half a rebuild. The
tables it replaces are kept aside in the transaction and compared with the result (all-zero
rows, which the incremental path may leave, do not count); `check` rolls back instead of
committing, so it only reports.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.db import Conn

from .domain.points import Entry, compute_bucket
from .domain.rules import MEMBER_REPORTED
from .persistence import points as db

DERIVED = ("buckets", "member_points", "region_points", "region_members", "score_counts")
# a row that says nothing (the incremental path may leave these behind)
_EMPTY = {
    "buckets": "points = 0 AND events = 0",
    "member_points": "points = 0",
    "region_points": "total = 0 AND positive = 0",
    "region_members": "members = 0",
    "score_counts": "members = 0",
}
_COMPARED = {
    "buckets": "member_id, month, activity_type, points, events, hours, last_time, last_source, "
    "last_id",
    "member_points": "member_id, period, points",
    "region_points": "kind, region_id, period, total, positive",
    "region_members": "kind, region_id, members",
    "score_counts": "kind, region_id, period, points, members",
}


@dataclass
class RebuildReport:
    rows: dict[str, int] = field(default_factory=dict)
    differences: dict[str, int] = field(default_factory=dict)
    exact_buckets: int = 0
    seconds: float = 0.0


# The rule version in force over [effective_from, effective_to).
_RULE_RANGES = """
CREATE TEMP TABLE rb_rules ON COMMIT DROP AS
SELECT version_id, activity_type, points, per, monthly_cap, effective_from,
       coalesce(lead(effective_from) OVER (PARTITION BY activity_type ORDER BY effective_from),
                'infinity') AS effective_to
FROM rule_versions
"""

# Per activity bucket: count, hours, points by the closed form, the rule versions seen; the
# last entry by a window in descending (time, source, id) order.
_ACTIVITY_BUCKETS = """
CREATE TEMP TABLE rb_buckets ON COMMIT DROP AS
WITH e AS (
    SELECT l.member_id, l.month, l.activity_type, l.time, l.source, l.id, l.hours,
           r.version_id, r.points AS rule_points, r.monthly_cap AS cap,
           CASE WHEN r.per = 'hour' THEN round(r.points * coalesce(l.hours, 0), 2)
                ELSE r.points END AS raw,
           row_number() OVER (PARTITION BY l.member_id, l.month, l.activity_type
                              ORDER BY l.time DESC, l.source COLLATE "C" DESC,
                                       l.id COLLATE "C" DESC) AS from_last
    FROM ledger l
    LEFT JOIN rb_rules r ON r.activity_type = l.activity_type
                        AND l.time >= r.effective_from AND l.time < r.effective_to
    WHERE l.kind = 'activity' AND NOT l.revoked)
SELECT member_id, month, activity_type,
       CASE WHEN count(version_id) = 0 THEN 0
            WHEN min(cap) IS NULL OR min(rule_points) < 0 THEN sum(raw)
            ELSE least(sum(raw), min(cap)) END::numeric(12,2) AS points,
       count(*)::int AS events, coalesce(sum(hours), 0)::numeric(10,2) AS hours,
       max(time) AS last_time,
       min(source) FILTER (WHERE from_last = 1) AS last_source,
       min(id) FILTER (WHERE from_last = 1) AS last_id,
       NOT (count(version_id) = 0
            OR (count(version_id) = count(*) AND min(version_id) = max(version_id))) AS mixed
FROM e GROUP BY member_id, month, activity_type
"""

# The member_reported bonus: the rule's points in the month of the first report of the year
# (by time, source, id); every month with reports counts them.
_REPORT_BUCKETS = """
INSERT INTO rb_buckets (member_id, month, activity_type, points, events, hours, mixed)
WITH rep AS (
    SELECT member_id, month, time, source, id FROM ledger WHERE kind = 'reported'),
firsts AS (
    SELECT DISTINCT ON (member_id, left(month, 4)) member_id, month, time FROM rep
    ORDER BY member_id, left(month, 4), time, source COLLATE "C", id COLLATE "C")
SELECT rep.member_id, rep.month, $1,
       coalesce(max(r.points) FILTER (WHERE f.member_id IS NOT NULL), 0),
       count(*), 0, false
FROM rep
LEFT JOIN firsts f ON f.member_id = rep.member_id AND f.month = rep.month
LEFT JOIN rb_rules r ON r.activity_type = $1
                    AND f.time >= r.effective_from AND f.time < r.effective_to
GROUP BY rep.member_id, rep.month
"""

_PERIODS = """(VALUES (b.month),
        (left(b.month, 4) || '-Q' || ((substr(b.month, 6, 2)::int - 1) / 3 + 1)),
        (left(b.month, 4) || '-H' || CASE WHEN substr(b.month, 6, 2)::int <= 6 THEN 1 ELSE 2 END),
        (left(b.month, 4))) AS p(period)"""

_STEPS: tuple[tuple[str, str], ...] = (
    (
        "buckets",
        """INSERT INTO buckets (member_id, month, activity_type, points, events, hours,
                                last_time, last_source, last_id)
           SELECT member_id, month, activity_type, points, events, hours, last_time,
                  last_source, last_id
           FROM rb_buckets WHERE NOT (points = 0 AND events = 0)""",
    ),
    (
        "member_points",
        f"""INSERT INTO member_points (member_id, period, points)
            SELECT b.member_id, p.period, sum(b.points)
            FROM rb_buckets b CROSS JOIN LATERAL {_PERIODS}
            GROUP BY b.member_id, p.period HAVING sum(b.points) <> 0""",
    ),
    (
        "region_members",
        """INSERT INTO region_members (kind, region_id, members)
           SELECT 'community', community_id, count(*) FROM members WHERE counted
           GROUP BY community_id
           UNION ALL
           SELECT 'grid', grid_id, count(*) FROM members
           WHERE counted AND coalesce(grid_id, '') <> '' GROUP BY grid_id""",
    ),
    (
        "region_points",
        """INSERT INTO region_points (kind, region_id, period, total, positive)
           SELECT 'community', m.community_id, p.period, sum(p.points),
                  count(*) FILTER (WHERE p.points > 0)
           FROM members m JOIN member_points p USING (member_id) WHERE m.counted
           GROUP BY m.community_id, p.period
           UNION ALL
           SELECT 'grid', m.grid_id, p.period, sum(p.points),
                  count(*) FILTER (WHERE p.points > 0)
           FROM members m JOIN member_points p USING (member_id)
           WHERE m.counted AND coalesce(m.grid_id, '') <> ''
           GROUP BY m.grid_id, p.period""",
    ),
    # score_counts and the city's member count: the migration's own definition
    ("score_counts", "SELECT rebuild_rank_counts()"),
)


async def rebuild(
    conn: Conn, *, check_only: bool = False, progress: Callable[[str], None] = print
) -> RebuildReport:
    """Recompute every derived table in one transaction (see the module docstring)."""
    report = RebuildReport()
    started = time.perf_counter()

    def say(msg: str) -> None:
        progress(f"[{time.perf_counter() - started:7.1f}s] {msg}")

    tx = conn.transaction()
    await tx.start()
    try:
        await db.lock_rules(conn, exclusive=True)
        say("rules locked; consumers wait, reads go on against the current tables")
        ledger = await conn.fetchval("SELECT count(*) FROM ledger")
        say(f"ledger: {ledger:,} events")
        await conn.execute(_RULE_RANGES)
        await conn.execute(_ACTIVITY_BUCKETS)
        n = await conn.fetchval("SELECT count(*) FROM rb_buckets")
        say(f"activity buckets: {n:,} (closed form, last entry by a window)")
        report.exact_buckets = await _exact_buckets(conn)
        say(f"buckets with a rule version taking effect inside: {report.exact_buckets:,} (exact)")
        await conn.execute(_REPORT_BUCKETS, MEMBER_REPORTED)
        for table in DERIVED:
            await conn.execute(
                f"CREATE TEMP TABLE rb_old_{table} ON COMMIT DROP AS SELECT * FROM {table}"
            )
            await conn.execute(f"DELETE FROM {table}")
        say("current tables set aside (in this transaction)")
        for table, statement in _STEPS:
            await conn.execute(statement)
            report.rows[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
            say(f"{table}: {report.rows[table]:,} rows")
        report.rows["region_members"] = await conn.fetchval("SELECT count(*) FROM region_members")
        for table in DERIVED:
            report.differences[table] = await _differences(conn, table)
        say(
            "compared with the tables replaced: "
            + ", ".join(f"{t} {d:,} rows differ" for t, d in report.differences.items())
        )
    except BaseException:
        await tx.rollback()
        raise
    if check_only:
        await tx.rollback()
        say("check only: rolled back, nothing changed")
    else:
        await tx.commit()
        say("committed: reads see the rebuilt tables from now on")
    report.seconds = time.perf_counter() - started
    return report


async def _exact_buckets(conn: Conn) -> int:
    """Buckets scored by more than one rule version: entry by entry, the exact path's way."""
    rows = await conn.fetch(
        """SELECT l.member_id, l.month, l.activity_type, l.time, l.source, l.id, l.hours
           FROM ledger l JOIN rb_buckets b USING (member_id, month, activity_type)
           WHERE b.mixed AND l.kind = 'activity' AND NOT l.revoked"""
    )
    if not rows:
        return 0
    entries: dict[db.BucketKey, list[Entry]] = defaultdict(list)
    for r in rows:
        entries[(r["member_id"], r["month"], r["activity_type"])].append(
            Entry(r["time"], r["source"], r["id"], r["activity_type"], r["hours"])
        )
    rules = await db.load_rules(conn)
    totals = {k: compute_bucket(v, rules) for k, v in entries.items()}
    items = sorted(totals.items())
    await conn.execute(
        """UPDATE rb_buckets b SET points = u.points
           FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[])
             AS u(member_id, month, activity_type, points)
           WHERE (b.member_id, b.month, b.activity_type) = (u.member_id, u.month, u.activity_type)""",
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [k[2] for k, _ in items],
        [t.points for _, t in items],
    )
    return len(items)


async def _differences(conn: Conn, table: str) -> int:
    cols, empty = _COMPARED[table], _EMPTY[table]
    return int(
        await conn.fetchval(
            f"""SELECT count(*) FROM (
                    (SELECT {cols} FROM {table} WHERE NOT ({empty})
                     EXCEPT ALL SELECT {cols} FROM rb_old_{table} WHERE NOT ({empty}))
                    UNION ALL
                    (SELECT {cols} FROM rb_old_{table} WHERE NOT ({empty})
                     EXCEPT ALL SELECT {cols} FROM {table} WHERE NOT ({empty}))) d"""
        )
    )
