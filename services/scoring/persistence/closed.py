"""The read side of a closed period: the same questions as `live`, answered from the figures
frozen when the period was closed (closed_members, closed_types, closed_regions), so a
published ranking reads the same however many events arrive for the period later.

Every function has the signature of its namesake in `live`, so the API picks one module or
the other per request and nothing else changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeAlias

import asyncpg

from shared.db import Conn

from ..domain.periods import Period
from ..domain.standing import FeedbackItem, ScoredMember
from .live import MemberScope, RegionRow, as_feedback_item, as_scored_member

Db: TypeAlias = "Conn | asyncpg.Pool"


async def member_exists(conn: Db, member_id: str, period: str) -> ScoredMember | None:
    """The member as they stood at the close (their community then is what they ranked in)."""
    row = await conn.fetchrow(
        "SELECT member_id, name, category, party_org_id, community_id, grid_id, deregistered, "
        "counted FROM closed_members WHERE period = $1 AND member_id = $2",
        period,
        member_id,
    )
    return None if row is None else as_scored_member(row)


async def member_points(
    conn: Db, member_id: str, period: Period
) -> tuple[Decimal, dict[str, Decimal]]:
    rows = await conn.fetch(
        """SELECT activity_type, points FROM closed_types WHERE period = $1 AND member_id = $2
           ORDER BY activity_type""",
        period.label,
        member_id,
    )
    total = await conn.fetchval(
        "SELECT points FROM closed_members WHERE period = $1 AND member_id = $2",
        period.label,
        member_id,
    )
    return (total or Decimal("0.00")), {r["activity_type"]: r["points"] for r in rows}


async def street_rows(conn: Db, period: str) -> list[RegionRow]:
    rows = await conn.fetch(
        """SELECT s.region_id, s.name, coalesce(sum(c.members), 0)::int AS members,
                  coalesce(sum(c.total), 0) AS total, coalesce(sum(c.positive), 0)::int AS positive
           FROM regions s LEFT JOIN closed_regions c
             ON c.period = $1 AND c.kind = 'community' AND c.parent_id = s.region_id
           WHERE s.level = 'street' AND NOT s.retired
           GROUP BY s.region_id, s.name""",
        period,
    )
    return [
        RegionRow(r["region_id"], r["name"], r["total"], r["members"], r["positive"]) for r in rows
    ]


async def child_rows(conn: Db, period: str, kind: str, parent_id: str | None) -> list[RegionRow]:
    rows = await conn.fetch(
        """SELECT region_id, name, members, total, positive FROM closed_regions
           WHERE period = $1 AND kind = $2 AND ($3::text IS NULL OR parent_id = $3)""",
        period,
        kind,
        parent_id,
    )
    return [
        RegionRow(r["region_id"], r["name"], r["total"], r["members"], r["positive"]) for r in rows
    ]


async def member_ranking(
    conn: Db,
    period: str,
    scope: MemberScope,
    limit: int,
    offset: int,
    ascending: bool = False,
) -> tuple[int, list[asyncpg.Record]]:
    cond, args = scope.sql(2)
    order = "points ASC, member_id DESC" if ascending else "points DESC, member_id"
    rows = await conn.fetch(
        f"""SELECT m.member_id, m.name, m.community_id, m.grid_id, m.points,
                   rank() OVER (ORDER BY m.points DESC) AS rank, count(*) OVER () AS total
            FROM closed_members m WHERE m.period = $1 AND m.counted AND {cond}
            ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}""",
        period,
        *args,
    )
    if rows:
        return int(rows[0]["total"]), list(rows)
    total = await conn.fetchval(
        f"SELECT count(*) FROM closed_members m WHERE m.period = $1 AND m.counted AND {cond}",
        period,
        *args,
    )
    return int(total), []


async def rank_in_scope(
    conn: Db, period: str, scope: MemberScope, points: Decimal
) -> tuple[int, int]:
    cond, args = scope.sql(3)
    row = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE m.points > $2) AS above, count(*) AS size
            FROM closed_members m WHERE m.period = $1 AND m.counted AND {cond}""",
        period,
        points,
        *args,
    )
    assert row is not None
    return int(row["above"]) + 1, int(row["size"])


async def zero_point_members(conn: Db, period: str, scope: MemberScope) -> list[asyncpg.Record]:
    cond, args = scope.sql(2)
    return list(
        await conn.fetch(
            f"""SELECT m.member_id, m.name, m.community_id, m.grid_id, m.points
                FROM closed_members m
                WHERE m.period = $1 AND m.counted AND {cond} AND m.points <= 0
                ORDER BY m.member_id""",
            period,
            *args,
        )
    )


async def missing_organization_life(
    conn: Db, period: Period, scope: MemberScope
) -> list[asyncpg.Record]:
    cond, args = scope.sql(2)
    return list(
        await conn.fetch(
            f"""SELECT m.member_id, m.name, m.community_id, m.grid_id FROM closed_members m
                WHERE m.period = $1 AND m.counted AND {cond} AND NOT EXISTS (
                    SELECT 1 FROM closed_types t WHERE t.period = $1
                      AND t.member_id = m.member_id
                      AND t.activity_type = 'organization_life' AND t.events > 0)
                ORDER BY m.member_id""",
            period.label,
            *args,
        )
    )


async def feedback_rows(conn: Db, party_org_ids: list[str], period: Period) -> list[FeedbackItem]:
    return [
        as_feedback_item(r)
        for r in await conn.fetch(
            """SELECT m.member_id, m.name, m.party_org_id, m.community_id,
                      c.name AS community_name, m.deregistered, m.points,
                      coalesce((SELECT jsonb_object_agg(t.activity_type, t.points)
                                FROM closed_types t WHERE t.period = $2
                                  AND t.member_id = m.member_id), '{}'::jsonb) AS by_type,
                      coalesce((SELECT sum(hours) FROM closed_types t WHERE t.period = $2
                                AND t.member_id = m.member_id
                                AND t.activity_type = 'volunteer_service'), 0) AS volunteer_hours,
                      coalesce((SELECT sum(events) FROM closed_types t WHERE t.period = $2
                                AND t.member_id = m.member_id
                                AND t.activity_type <> 'member_reported'), 0) AS activities
               FROM closed_members m LEFT JOIN regions c ON c.region_id = m.community_id
               WHERE m.period = $2 AND m.party_org_id = ANY($1::text[])
                 AND m.category = 'in_service'
               ORDER BY m.member_id""",
            party_org_ids,
            period.label,
        )
    ]
