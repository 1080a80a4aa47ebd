"""Follow-up of members who missed organisation life or have zero points (批评教育 of 零分
党员, docs/design.md §4.10): the city sets the organisation-life rule; a member is due when they
missed organisation life or have zero points in the period (the closed figures once it is
closed); community admins record the talks they held with members due. SQL in
`persistence.followups` and `persistence.orglife`; a refused request raises
`shared.refusals.Refusal`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.auth import Principal
from shared.refusals import Kind, Refusal, invalid

from ..domain.followups import DueList, Followup, OrgLifeRule, TalkKind, due_list, is_due
from ..domain.periods import Period
from ..persistence import followups as db
from ..persistence import live as q
from ..persistence import orglife
from .figures import Figures, choose
from .reads import check_scope


async def set_rule(pool: Any, every_quarter: bool, max_absences: int) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await db.set_org_life_rule(conn, every_quarter, max_absences)


async def rule(pool: Any) -> OrgLifeRule:
    return await db.org_life_rule(pool)


async def due(pool: Any, p: Period, scope: q.MemberScope, figures: Figures | None) -> DueList:
    """Who is due in the period (the closed figures once it is closed, unless live ones are
    asked for) and the talks held with them."""
    src, fig = await choose(pool, p.label, figures)
    _, everyone = await src.member_ranking(pool, p.label, scope, 1_000_000, 0)
    members = [db.as_candidate(r) for r in everyone]
    missed = await orglife.missed_among(pool, p, [m.member_id for m in members], fig == "closed")
    due_ids = [m.member_id for m in members if is_due(m.points, m.member_id in missed)]
    return due_list(p.label, fig, members, missed, await db.talks(pool, p.label, due_ids))


async def record_talk(
    pool: Any,
    caller: Principal,
    p: Period,
    member_id: str,
    kind: TalkKind,
    held_on: date,
    note: str | None,
) -> Followup:
    member = await q.member_exists(pool, member_id)
    if member is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", f"no events about member {member_id}")
    await check_scope(pool, caller, member.community_id or "-")
    src, fig = await choose(pool, p.label, None)
    points, _ = await src.member_points(pool, member_id, p)
    missed = await orglife.missed_among(pool, p, [member_id], fig == "closed")
    if not is_due(points, bool(missed)):
        raise invalid(
            "not_due",
            f"member {member_id} has {points} points and did not miss organisation life "
            f"in {p.label}",
            field="member_id",
            rule="a member who missed organisation life or has zero points in the period",
        )
    async with pool.acquire() as conn, conn.transaction():
        return await db.insert(conn, member_id, p.label, kind, held_on, note, member.community_id)
