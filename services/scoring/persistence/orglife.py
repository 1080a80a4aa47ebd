"""Organisation life (组织生活) as a hard criterion (硬杠杠): which members missed it in a
period, by the rule the city sets (org_life_rule). A member who missed it is flagged in member
rankings, is left off a red board and is listed for follow-up.

Live figures ask about a page of members (a correlated query each); a period's close computes
the flag for everyone in one pass over the buckets and freezes it beside the closed points
(closed_members.org_life_missed). Both apply the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from ..domain.periods import Period

# A member missed organisation life if a quarter of the window has no organization_life
# entry (when the rule asks for one each quarter), or the period has too many absences.
_MISSED = """
    ((SELECT every_quarter FROM org_life_rule)
      AND (SELECT count(DISTINCT left(b.month, 4) || ((substr(b.month, 6, 2)::int + 2) / 3))
           FROM buckets b WHERE b.member_id = m.member_id
             AND b.activity_type = 'organization_life' AND b.events > 0
             AND b.month = ANY($1::text[])) < $2)
    OR coalesce((SELECT sum(b.events) FROM buckets b WHERE b.member_id = m.member_id
                   AND b.activity_type = 'organization_life_absent'
                   AND b.month = ANY($3::text[])), 0)
       > (SELECT max_absences FROM org_life_rule)"""


def window(period: Period) -> tuple[list[str], int]:
    """The months checked for attendance and how many quarters they make: a month is checked
    over its quarter, any longer period over its own quarters."""
    months = list(period.months)
    if period.kind == "month":
        q = (int(months[0][5:7]) - 1) // 3
        months = [f"{period.year:04d}-{3 * q + i:02d}" for i in (1, 2, 3)]
    return months, len(months) // 3


def missed_condition(period: Period) -> tuple[str, list[Any]]:
    """SQL over members aliased `m` (parameters $1-$3) and its arguments."""
    months, quarters = window(period)
    return _MISSED, [months, quarters, list(period.months)]


async def missed_among(
    conn: Any, period: Period, member_ids: Sequence[str], closed: bool
) -> set[str]:
    """Which of `member_ids` missed organisation life in the period (closed: as frozen)."""
    if not member_ids:
        return set()
    if closed:
        rows = await conn.fetch(
            """SELECT member_id FROM closed_members
               WHERE period = $1 AND member_id = ANY($2::text[]) AND org_life_missed""",
            period.label,
            list(member_ids),
        )
    else:
        cond, args = missed_condition(period)
        rows = await conn.fetch(
            f"""SELECT m.member_id FROM members m
                WHERE m.member_id = ANY($4::text[]) AND ({cond})""",
            *args,
            list(member_ids),
        )
    return {r["member_id"] for r in rows}


def attendance(period: Period, first_param: int) -> tuple[str, list[Any]]:
    """Set-based form for the close (one pass over the buckets, not one per member): per
    member, the quarters attended in the window and the absences in the period. Pair with
    MISSED_FROM_ATTENDANCE over `att a` LEFT JOINed to the members."""
    months, quarters = window(period)
    w, n, pm = first_param, first_param + 1, first_param + 2
    sql = f"""SELECT member_id,
                  count(DISTINCT left(month, 4) || ((substr(month, 6, 2)::int + 2) / 3))
                      FILTER (WHERE activity_type = 'organization_life' AND events > 0
                              AND month = ANY(${w}::text[])) >= ${n}::int AS attended,
                  coalesce(sum(events) FILTER (WHERE activity_type = 'organization_life_absent'
                                               AND month = ANY(${pm}::text[])), 0) AS absences
              FROM buckets
              WHERE activity_type IN ('organization_life', 'organization_life_absent')
                AND (month = ANY(${w}::text[]) OR month = ANY(${pm}::text[]))
              GROUP BY member_id"""
    return sql, [months, quarters, list(period.months)]


MISSED_FROM_ATTENDANCE = """(((SELECT every_quarter FROM org_life_rule)
                              AND NOT coalesce(a.attended, false))
                             OR coalesce(a.absences, 0) > (SELECT max_absences FROM org_life_rule))"""


async def rule(conn: Any) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM org_life_rule")
    assert row is not None  # seeded by the migration
    return row
