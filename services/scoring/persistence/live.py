"""The read side: every query reads the maintained aggregates (buckets, member_points,
region_points, region_members), never the ledger, so no read recomputes a ranking."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from shared import projections
from shared.db import Conn, from_jsonb

from ..domain.periods import Period
from ..domain.ranking import Standing, competition_ranks, region_score
from ..domain.standing import FeedbackItem, ScoredMember


@dataclass(frozen=True)
class MemberScope:
    """Which counted members a member query covers; at most one of the ids is set."""

    community_id: str | None = None
    grid_id: str | None = None
    street_id: str | None = None

    def sql(self, param: int) -> tuple[str, list[str]]:
        if self.community_id:
            return f"m.community_id = ${param}", [self.community_id]
        if self.grid_id:
            return f"m.grid_id = ${param}", [self.grid_id]
        if self.street_id:
            return (
                f"m.community_id IN (SELECT region_id FROM regions WHERE parent_id = ${param} "
                "AND level = 'community')",
                [self.street_id],
            )
        return "true", []


def as_scored_member(row: asyncpg.Record) -> ScoredMember:
    """The member of a row of `members` or `closed_members`."""
    return ScoredMember(
        member_id=row["member_id"],
        name=row["name"],
        category=row["category"],
        party_org_id=row["party_org_id"],
        community_id=row["community_id"],
        grid_id=row["grid_id"],
        deregistered=bool(row["deregistered"]),
        counted=bool(row["counted"]),
    )


async def member_exists(conn: Conn | asyncpg.Pool, member_id: str) -> ScoredMember | None:
    row = await conn.fetchrow(
        "SELECT member_id, name, category, party_org_id, community_id, grid_id, deregistered, "
        "counted FROM members WHERE member_id = $1",
        member_id,
    )
    return None if row is None else as_scored_member(row)


async def member_points(
    conn: Conn | asyncpg.Pool, member_id: str, period: Period
) -> tuple[Decimal, dict[str, Decimal]]:
    rows = await conn.fetch(
        """SELECT activity_type, sum(points) AS points FROM buckets
           WHERE member_id = $1 AND month = ANY($2::text[]) AND (events > 0 OR points <> 0)
           GROUP BY activity_type ORDER BY activity_type""",
        member_id,
        list(period.months),
    )
    total = await conn.fetchval(
        "SELECT points FROM member_points WHERE member_id = $1 AND period = $2",
        member_id,
        period.label,
    )
    return (total or Decimal("0.00")), {r["activity_type"]: r["points"] for r in rows}


async def region_path(conn: Conn | asyncpg.Pool, region_id: str | None) -> list[str]:
    """The region and its ancestors, nearest first (for token scope checks)."""
    if not region_id:
        return []
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as c:
            return await projections.region_path(c, region_id)
    return await projections.region_path(conn, region_id)


@dataclass(frozen=True)
class RegionRow:
    region_id: str
    name: str
    total: Decimal
    members: int
    positive: int


async def street_rows(conn: Conn | asyncpg.Pool, period: str) -> list[RegionRow]:
    """Streets sum their communities' rows. Communities are aggregated per street first, so
    the planner hashes the few thousand community rows instead of looking each one up."""
    rows = await conn.fetch(
        """WITH per_street AS (
               SELECT c.parent_id AS street_id,
                      coalesce(sum(rm.members), 0)::int AS members,
                      coalesce(sum(rp.total), 0) AS total,
                      coalesce(sum(rp.positive), 0)::int AS positive
               FROM regions c
               LEFT JOIN region_members rm ON rm.kind = 'community' AND rm.region_id = c.region_id
               LEFT JOIN region_points rp ON rp.kind = 'community' AND rp.region_id = c.region_id
                                           AND rp.period = $1
               WHERE c.level = 'community' AND NOT c.retired
               GROUP BY c.parent_id)
           SELECT s.region_id, s.name, coalesce(a.members, 0) AS members,
                  coalesce(a.total, 0) AS total, coalesce(a.positive, 0) AS positive
           FROM regions s LEFT JOIN per_street a ON a.street_id = s.region_id
           WHERE s.level = 'street' AND NOT s.retired""",
        period,
    )
    return [
        RegionRow(r["region_id"], r["name"], r["total"], r["members"], r["positive"]) for r in rows
    ]


async def child_rows(
    conn: Conn | asyncpg.Pool, period: str, kind: str, parent_id: str | None
) -> list[RegionRow]:
    """Communities (of a street, or all) or grids (of a community, or all)."""
    rows = await conn.fetch(
        """SELECT c.region_id, c.name,
                  coalesce(rm.members, 0) AS members,
                  coalesce(rp.total, 0) AS total,
                  coalesce(rp.positive, 0) AS positive
           FROM regions c
           LEFT JOIN region_members rm ON rm.kind = $2 AND rm.region_id = c.region_id
           LEFT JOIN region_points rp ON rp.kind = $2 AND rp.region_id = c.region_id
                                       AND rp.period = $1
           WHERE c.level = $2 AND NOT c.retired AND ($3::text IS NULL OR c.parent_id = $3)""",
        period,
        kind,
        parent_id,
    )
    return [
        RegionRow(r["region_id"], r["name"], r["total"], r["members"], r["positive"]) for r in rows
    ]


def rank_regions(rows: list[RegionRow], metric: str) -> list[tuple[int, RegionRow, Decimal]]:
    by_id = {r.region_id: r for r in rows}
    scored = [
        Standing(r.region_id, region_score(metric, r.total, r.members, r.positive)) for r in rows
    ]
    return [(rank, by_id[s.id], s.score) for rank, s in competition_ranks(scored)]


async def member_ranking(
    conn: Conn | asyncpg.Pool,
    period: str,
    scope: MemberScope,
    limit: int,
    offset: int,
    ascending: bool = False,
) -> tuple[int, list[asyncpg.Record]]:
    cond, args = scope.sql(2)
    order = "points ASC, member_id DESC" if ascending else "points DESC, member_id"
    rows = await conn.fetch(
        f"""WITH scoped AS (
                SELECT m.member_id, m.name, m.community_id, m.grid_id,
                       coalesce(p.points, 0) AS points
                FROM members m
                LEFT JOIN member_points p ON p.member_id = m.member_id AND p.period = $1
                WHERE m.counted AND {cond})
            SELECT *, rank() OVER (ORDER BY points DESC) AS rank, count(*) OVER () AS total
            FROM scoped ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}""",
        period,
        *args,
    )
    total = rows[0]["total"] if rows else await _scope_size(conn, scope)
    return int(total), list(rows)


async def _scope_size(conn: Conn | asyncpg.Pool, scope: MemberScope) -> int:
    cond, args = scope.sql(1)
    return int(
        await conn.fetchval(f"SELECT count(*) FROM members m WHERE m.counted AND {cond}", *args)
    )


async def rank_in_scope(
    conn: Conn | asyncpg.Pool, period: str, scope: MemberScope, points: Decimal
) -> tuple[int, int]:
    """(competition rank of a member with `points`, members in scope), from score_counts:
    a sum over the distinct points values of the scope, whatever its size. Members without
    points (not in score_counts) sit at zero, above a member with negative points."""
    if scope.street_id:
        cond = (
            "kind = 'community' AND region_id IN "
            "(SELECT region_id FROM regions WHERE parent_id = $3 AND level = 'community')"
        )
        args: list[str] = [scope.street_id]
    elif scope.community_id or scope.grid_id:
        cond = "kind = $3 AND region_id = $4"
        args = (
            ["community", scope.community_id]
            if scope.community_id
            else ["grid", scope.grid_id or ""]
        )
    else:
        cond, args = "kind = 'city' AND region_id = ''", []
    row = await conn.fetchrow(
        f"""SELECT (SELECT coalesce(sum(members), 0) FROM region_members WHERE {cond}) AS size,
                   coalesce(sum(members) FILTER (WHERE points > $2), 0) AS above,
                   coalesce(sum(members), 0) AS nonzero
            FROM score_counts WHERE period = $1 AND {cond}""",
        period,
        points,
        *args,
    )
    assert row is not None  # aggregates without GROUP BY always return one row
    size = int(row["size"])
    above = int(row["above"]) + (size - int(row["nonzero"]) if points < 0 else 0)
    return above + 1, size


async def zero_point_members(
    conn: Conn | asyncpg.Pool, period: str, scope: MemberScope
) -> list[asyncpg.Record]:
    cond, args = scope.sql(2)
    return list(
        await conn.fetch(
            f"""SELECT m.member_id, m.name, m.community_id, m.grid_id,
                       coalesce(p.points, 0) AS points
                FROM members m
                LEFT JOIN member_points p ON p.member_id = m.member_id AND p.period = $1
                WHERE m.counted AND {cond} AND coalesce(p.points, 0) <= 0
                ORDER BY m.member_id""",
            period,
            *args,
        )
    )


async def missing_organization_life(
    conn: Conn | asyncpg.Pool, period: Period, scope: MemberScope
) -> list[asyncpg.Record]:
    cond, args = scope.sql(2)
    return list(
        await conn.fetch(
            f"""SELECT m.member_id, m.name, m.community_id, m.grid_id FROM members m
                WHERE m.counted AND {cond} AND NOT EXISTS (
                    SELECT 1 FROM buckets b WHERE b.member_id = m.member_id
                      AND b.activity_type = 'organization_life' AND b.events > 0
                      AND b.month = ANY($1::text[]))
                ORDER BY m.member_id""",
            list(period.months),
            *args,
        )
    )


def as_feedback_item(row: asyncpg.Record) -> FeedbackItem:
    """The feedback of a member of a `feedback_rows` row, live or closed (by type as jsonb)."""
    by_type = from_jsonb(row["by_type"])
    return FeedbackItem(
        member_id=row["member_id"],
        party_org_id=row["party_org_id"],
        name=row["name"],
        community_id=row["community_id"],
        community_name=row["community_name"],
        points=row["points"],
        by_type={k: Decimal(str(v)) for k, v in by_type.items()},
        volunteer_hours=row["volunteer_hours"],
        activities=row["activities"],
        deregistered=row["deregistered"],
    )


async def feedback_rows(
    conn: Conn | asyncpg.Pool, party_org_ids: list[str], period: Period
) -> list[FeedbackItem]:
    return [
        as_feedback_item(r)
        for r in await conn.fetch(
            """SELECT m.member_id, m.party_org_id, m.name, m.community_id,
                      c.name AS community_name,
                      m.deregistered,
                      coalesce((SELECT jsonb_object_agg(t.activity_type, t.points)
                                FROM (SELECT activity_type, sum(points) AS points FROM buckets b
                                      WHERE b.member_id = m.member_id
                                        AND b.month = ANY($2::text[])
                                        AND (b.events > 0 OR b.points <> 0)
                                      GROUP BY activity_type) t), '{}'::jsonb) AS by_type,
                      coalesce((SELECT sum(points) FROM buckets b WHERE b.member_id = m.member_id
                                AND b.month = ANY($2::text[])), 0) AS points,
                      coalesce((SELECT sum(hours) FROM buckets b WHERE b.member_id = m.member_id
                                AND b.month = ANY($2::text[])
                                AND b.activity_type = 'volunteer_service'), 0) AS volunteer_hours,
                      coalesce((SELECT sum(events) FROM buckets b WHERE b.member_id = m.member_id
                                AND b.month = ANY($2::text[])
                                AND b.activity_type <> 'member_reported'), 0) AS activities
               FROM members m LEFT JOIN regions c ON c.region_id = m.community_id
               WHERE m.party_org_id = ANY($1::text[]) AND m.category = 'in_service'
               ORDER BY m.member_id""",
            party_org_ids,
            list(period.months),
        )
    ]
