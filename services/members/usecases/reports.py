"""Use cases of 双报到 of members: report (or move) a member to the community where they live
(member.reported), a member's report history, and what a community sees of it: the members
reported there and its reporting rate."""

from __future__ import annotations

import asyncpg

from shared.auth import Principal
from shared.events import MEMBER_REPORTED, MemberReported, RegionLevel, new_event
from shared.events.types import MemberCategory
from shared.outbox import publish_own
from shared.regions import require_region

from ..domain import units as unit_rules
from ..domain.members import Member, ReportHistory, with_moves
from ..domain.rules import next_time
from ..models import ReportIn
from ..persistence import members as db
from .common import (
    Clock,
    clash,
    community,
    locked_registered,
    require_community_scope,
    utcnow,
)
from .members import get_member, shown


async def report_member(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    member_id: str,
    body: ReportIn,
    now: Clock = utcnow,
) -> bool:
    """双报到: report (or move) the member to a community. Returns False when the member is
    already reported there with the same grid and skills (nothing is published)."""
    async with pool.acquire() as conn, conn.transaction():
        await community(conn, body.community_id, "community_id")
        await require_community_scope(conn, caller, body.community_id)
        if body.grid_id is not None:
            await require_region(
                conn,
                body.grid_id,
                level=RegionLevel.GRID,
                field="grid_id",
                parent_id=body.community_id,
            )
        await locked_registered(conn, member_id)
        member = await db.get_member(conn, member_id)
        assert member is not None
        if not member["active"]:
            raise clash("member_id", "is deregistered and cannot report")
        skills = list(body.skills) if body.skills is not None else list(member["skills"])
        if (
            member["cur_community_id"] == body.community_id
            and member["cur_grid_id"] == body.grid_id
            and list(member["cur_skills"]) == skills
        ):
            return False
        when = next_time(now(), member["cur_time"])
        event = new_event(
            type=MEMBER_REPORTED,
            source=source,
            subject=member_id,
            time=when,
            data=MemberReported(
                member_id=member_id,
                community_id=body.community_id,
                grid_id=body.grid_id,
                skills=skills,
            ),
        )
        await db.record_report(
            conn, member_id, body.community_id, body.grid_id, skills, (when, source, event.id)
        )
        await publish_own(conn, [event])
        return True


async def report_history(pool: asyncpg.Pool, caller: Principal, member_id: str) -> ReportHistory:
    """The member's current report and every report, oldest first; a report to another
    community than the one before is a move and names where it moved from."""
    member = await get_member(pool, caller, member_id)
    async with pool.acquire() as conn:
        rows = await db.report_history(conn, member_id)
    return ReportHistory(
        member_id=member_id,
        current=member.current_report,
        history=with_moves([db.as_report(r) for r in rows]),
    )


async def community_members(
    pool: asyncpg.Pool, caller: Principal, community_id: str, category: MemberCategory | None
) -> list[Member]:
    """Active members currently reported to the community, by id, as the caller may see them."""
    async with pool.acquire() as conn:
        await require_community_scope(conn, caller, community_id)
        rows = await db.members_of_community(
            conn, community_id, category.value if category else None
        )
    return [shown(r, caller) for r in rows]


async def reporting_rate(
    pool: asyncpg.Pool, caller: Principal, community_id: str
) -> unit_rules.ReportingRate:
    """In-service members living in the community (by their home community) against those of
    them reported there; and everyone in service reported there."""
    async with pool.acquire() as conn:
        await require_community_scope(conn, caller, community_id)
        row = await db.reporting_rate(conn, community_id)
    return unit_rules.reporting_rate(
        community_id,
        int(row["residents"]),
        int(row["reported_residents"]),
        int(row["reported_here"]),
    )
