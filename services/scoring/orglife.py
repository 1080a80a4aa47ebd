"""Organisation life (组织生活) as a hard criterion (硬杠杠): which members missed it in a
period, by the rule the city sets (org_life_rule). A member who missed it is flagged in member
rankings, is left off a red board and is listed for follow-up.

The same SQL answers for live figures (over buckets) and is run at a period's close to freeze
the flag beside the closed points (closed_members.org_life_missed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from .domain.periods import Period

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


async def freeze(conn: Any, period: Period) -> None:
    """At the close: flag the closed members who missed it."""
    cond, args = missed_condition(period)
    await conn.execute(
        f"""UPDATE closed_members c SET org_life_missed = true FROM members m
            WHERE c.period = $4 AND c.member_id = m.member_id AND ({cond})""",
        *args,
        period.label,
    )


async def rule(conn: Any) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM org_life_rule")
    assert row is not None  # seeded by the migration
    return row
