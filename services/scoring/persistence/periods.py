"""SQL of period close: the snapshot (set-based INSERT ... SELECT from the live tables, in the
closing transaction), the period's status and history, and the adjustments found afterwards.

The close holds the rules lock exclusively, like a rule change: no batch is scored meanwhile,
and a batch that waited for it stamps its ledger rows (received_at = clock_timestamp()) after
the close, so "arrived after the close" is exactly "not in the snapshot".
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg

from shared.db import Conn, from_jsonb

from ..domain.adjustments import Held, MemberDelta, Revision, member_delta
from ..domain.periods import Closing, HistoryItem, Period, Summary
from ..domain.points import Entry
from ..domain.rules import Rule
from . import orglife
from .points import lock_rules

Db: TypeAlias = "Conn | asyncpg.Pool"


async def lock(conn: Conn, period: str) -> None:
    """Serialises the closes and reopens of one period (until the transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('period:' || $1))", period)


def _summary(value: Any) -> Summary | None:
    """The summary stored as jsonb (its total as text)."""
    s = from_jsonb(value)
    if s is None:
        return None
    return Summary(
        period=s["period"],
        members=s["members"],
        total_points=Decimal(str(s["total_points"])),
        active_members=s["active_members"],
        zero_point_members=s["zero_point_members"],
    )


async def status(conn: Db, period: str) -> Closing | None:
    """The period's last close, None if it was never closed."""
    row = await conn.fetchrow("SELECT * FROM periods WHERE period = $1", period)
    if row is None:
        return None
    return Closing(
        status=row["status"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        summary=_summary(row["summary"]),
    )


async def is_closed(conn: Db, period: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM periods WHERE period = $1 AND status = 'closed'", period
        )
    )


async def listed(conn: Db, status: str | None) -> list[str]:
    """Periods ever closed (a few a month: the caller orders them by their end)."""
    rows = await conn.fetch(
        "SELECT period FROM periods WHERE $1::text IS NULL OR status = $1", status
    )
    return [r["period"] for r in rows]


async def history(conn: Db, period: str) -> tuple[HistoryItem, ...]:
    rows = await conn.fetch(
        "SELECT action, at, by_name, reason FROM period_history WHERE period = $1 ORDER BY seq",
        period,
    )
    return tuple(
        HistoryItem(action=h["action"], at=h["at"], by=h["by_name"], reason=h["reason"])
        for h in rows
    )


async def snapshot(conn: Conn, period: Period) -> datetime:
    """Freeze the period's figures; returns the moment of the close."""
    await lock_rules(conn, exclusive=True)
    closed_at: datetime = await conn.fetchval("SELECT clock_timestamp()")
    for table in ("closed_members", "closed_types", "closed_regions"):
        await conn.execute(f"DELETE FROM {table} WHERE period = $1", period.label)
    attendance, args = orglife.attendance(period, first_param=2)
    await conn.execute(
        f"""WITH att AS ({attendance})
           INSERT INTO closed_members (period, member_id, name, category, party_org_id,
                                       community_id, grid_id, street_id, counted, deregistered,
                                       points, org_life_missed)
           SELECT $1, m.member_id, m.name, m.category, m.party_org_id, m.community_id,
                  m.grid_id, c.parent_id, m.counted, m.deregistered, coalesce(p.points, 0),
                  {orglife.MISSED_FROM_ATTENDANCE}
           FROM members m
           LEFT JOIN member_points p ON p.member_id = m.member_id AND p.period = $1
           LEFT JOIN regions c ON c.region_id = m.community_id
           LEFT JOIN att a ON a.member_id = m.member_id""",
        period.label,
        *args,
    )
    await conn.execute(
        """INSERT INTO closed_types (period, member_id, activity_type, points, events, hours)
           SELECT $1, member_id, activity_type, sum(points), sum(events), sum(hours)
           FROM buckets WHERE month = ANY($2::text[]) AND (events > 0 OR points <> 0)
           GROUP BY member_id, activity_type""",
        period.label,
        list(period.months),
    )
    await conn.execute(
        """INSERT INTO closed_regions (period, kind, region_id, name, parent_id, members, total,
                                       positive)
           SELECT $1, c.level, c.region_id, c.name, c.parent_id, coalesce(rm.members, 0),
                  coalesce(rp.total, 0), coalesce(rp.positive, 0)
           FROM regions c
           LEFT JOIN region_members rm ON rm.kind = c.level AND rm.region_id = c.region_id
           LEFT JOIN region_points rp ON rp.kind = c.level AND rp.region_id = c.region_id
                                       AND rp.period = $1
           WHERE c.level IN ('community', 'grid') AND NOT c.retired""",
        period.label,
    )
    return closed_at


async def summary(conn: Conn, period: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE counted) AS members,
                  coalesce(sum(points) FILTER (WHERE counted), 0) AS total_points,
                  count(*) FILTER (WHERE counted AND points > 0) AS active_members,
                  count(*) FILTER (WHERE counted AND points <= 0) AS zero_point_members
           FROM closed_members WHERE period = $1""",
        period,
    )
    assert row is not None
    return {
        "period": period,
        "members": int(row["members"]),
        "total_points": row["total_points"],
        "active_members": int(row["active_members"]),
        "zero_point_members": int(row["zero_point_members"]),
    }


async def record_close(conn: Conn, period: str, closed_at: datetime, summ: dict) -> None:
    await conn.execute(
        """INSERT INTO periods (period, status, closed_at, summary)
           VALUES ($1, 'closed', $2, $3::jsonb)
           ON CONFLICT (period) DO UPDATE SET status = 'closed', closed_at = excluded.closed_at,
               closed_by = partygrid_actor(), summary = excluded.summary""",
        period,
        closed_at,
        json.dumps(summ, default=str),
    )
    await conn.execute(
        "INSERT INTO period_history (period, action, at) VALUES ($1, 'closed', $2)",
        period,
        closed_at,
    )


async def record_reopen(conn: Conn, period: str, reason: str) -> None:
    await conn.execute("UPDATE periods SET status = 'reopened' WHERE period = $1", period)
    await conn.execute(
        "INSERT INTO period_history (period, action, reason) VALUES ($1, 'reopened', $2)",
        period,
        reason,
    )


async def org_feedback(conn: Conn, period: str) -> list[asyncpg.Record]:
    """Per Party organisation, the closed figures of the in-service members of it and of its
    sub-organisations (the tree from partygrid.party_org.defined): the half's feedback, as the
    feedback read gives it. Every organisation with such members has a row."""
    return list(
        await conn.fetch(
            """WITH RECURSIVE orgs AS (
                   SELECT party_org_id FROM party_orgs
                   UNION SELECT party_org_id FROM closed_members
                         WHERE period = $1 AND party_org_id IS NOT NULL),
               down(ancestor, party_org_id, depth) AS (
                   SELECT party_org_id, party_org_id, 0 FROM orgs
                   UNION
                   SELECT d.ancestor, o.party_org_id, d.depth + 1 FROM party_orgs o
                   JOIN down d ON o.parent_id = d.party_org_id WHERE d.depth < 20),
               pairs AS (SELECT DISTINCT ancestor, party_org_id FROM down)
               SELECT p.ancestor AS party_org_id, count(*) AS members,
                      sum(m.points) AS total_points,
                      count(*) FILTER (WHERE m.points <= 0) AS zero_point_members
               FROM pairs p
               JOIN closed_members m ON m.period = $1 AND m.party_org_id = p.party_org_id
               WHERE m.category = 'in_service'
               GROUP BY p.ancestor ORDER BY p.ancestor""",
            period,
        )
    )


# A ledger entry of the period: an activity of its months, or a member.reported of its years
# (the yearly bonus goes to the year's first report, wherever in the year it falls).
_OF_PERIOD = """(l.month = ANY($1::text[])
                 OR (l.kind = 'reported' AND left(l.month, 4) = ANY($2::text[])))"""


async def late_members(conn: Db, period: Period, since: datetime) -> list[str]:
    """Members whose points in the period may have changed since `since`: an entry of theirs
    or its revocation arrived later, or a rule revision recorded later applies to an entry."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT l.member_id FROM ledger l
            LEFT JOIN revocations r ON r.target_source = l.source AND r.target_id = l.id
            WHERE {_OF_PERIOD}
              AND (l.received_at > $3 OR r.received_at > $3
                   OR EXISTS (SELECT 1 FROM rule_revisions v
                              WHERE v.recorded_at > $3 AND v.activity_type = l.activity_type
                                AND v.effective_from <= l.time))
            ORDER BY 1""",
        list(period.months),
        sorted({m[:4] for m in period.months}),
        since,
    )
    return [r["member_id"] for r in rows]


async def held_entries(conn: Db, period: Period, members: list[str]) -> dict[str, list[Held]]:
    """The ledger entries of the period of these members, with when they and their
    revocations arrived, by member (every one of `members`, possibly with none)."""
    held: dict[str, list[Held]] = {m: [] for m in members}
    for r in await conn.fetch(
        f"""SELECT l.member_id, l.kind, l.month, l.time, l.source, l.id, l.activity_type,
                       l.hours, l.received_at, r.received_at AS revoked_at
                FROM ledger l
                LEFT JOIN revocations r ON r.target_source = l.source AND r.target_id = l.id
                WHERE {_OF_PERIOD} AND l.member_id = ANY($3::text[])""",
        list(period.months),
        sorted({m[:4] for m in period.months}),
        members,
    ):
        entry = Entry(r["time"], r["source"], r["id"], r["activity_type"], r["hours"])
        held[r["member_id"]].append(
            Held(entry, r["month"], r["kind"], r["received_at"], r["revoked_at"])
        )
    return held


async def rule_revisions(conn: Db) -> list[Revision]:
    """Every rule revision, in order, with its note and author."""
    return [
        Revision(
            r["revision_id"],
            Rule(r["activity_type"], r["points"], r["per"], r["monthly_cap"], r["effective_from"]),
            r["recorded_at"],
            corrects=r["corrects"],
            note=r["note"],
            created_by=r["created_by"],
        )
        for r in await conn.fetch("SELECT * FROM rule_revisions ORDER BY revision_id")
    ]


async def member_deltas(conn: Db, period: str) -> list[MemberDelta]:
    """Members whose live points differ from the closed ones."""
    return [
        member_delta(r["member_id"], Decimal(r["closed"]), Decimal(r["live"]))
        for r in await conn.fetch(
            """SELECT coalesce(c.member_id, p.member_id) AS member_id,
                      coalesce(c.points, 0) AS closed, coalesce(p.points, 0) AS live
               FROM (SELECT member_id, points FROM closed_members WHERE period = $1) c
               FULL JOIN (SELECT member_id, points FROM member_points WHERE period = $1) p
                 ON p.member_id = c.member_id
               WHERE coalesce(c.points, 0) <> coalesce(p.points, 0)
               ORDER BY 1""",
            period,
        )
    ]
