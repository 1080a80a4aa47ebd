"""Follow-up of members who missed organisation life or have zero points (批评教育 of 零分
党员, docs/design.md §4.10): the city sets the organisation-life rule; a member is due when they
missed organisation life or have zero points in the period (the closed figures once it is
closed); community admins record the talks they held with members due. SQL in
`persistence.followups` and `persistence.orglife`; a refused request raises
`shared.refusals.Refusal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.refusals import Kind, Refusal, invalid

from ..domain.periods import Period
from ..persistence import followups as db
from ..persistence import live as q
from ..persistence import orglife
from .figures import Figures, choose
from .reads import check_scope


async def set_rule(pool: Any, every_quarter: bool, max_absences: int) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await db.set_org_life_rule(conn, every_quarter, max_absences)


@dataclass(frozen=True)
class Due:
    figures: Figures
    members: list[Any]  # the ranking rows of the members due, by member id
    missed: set[str]  # of them, who missed organisation life
    talks: dict[str, list[asyncpg.Record]]  # the talks held with them, by member


async def due(pool: Any, p: Period, scope: q.MemberScope, figures: Figures | None) -> Due:
    src, fig = await choose(pool, p.label, figures)
    _, everyone = await src.member_ranking(pool, p.label, scope, 1_000_000, 0)
    missed = await orglife.missed_among(
        pool, p, [r["member_id"] for r in everyone], fig == "closed"
    )
    rows = [r for r in everyone if r["member_id"] in missed or r["points"] <= 0]
    by_member: dict[str, list[asyncpg.Record]] = {}
    for t in await db.talks(pool, p.label, [r["member_id"] for r in rows]):
        by_member.setdefault(t["member_id"], []).append(t)
    return Due(fig, sorted(rows, key=lambda r: r["member_id"]), missed, by_member)


async def record_talk(
    pool: Any,
    caller: Principal,
    p: Period,
    member_id: str,
    kind: str,
    held_on: date,
    note: str | None,
) -> asyncpg.Record:
    member = await q.member_exists(pool, member_id)
    if member is None:
        raise Refusal(Kind.NOT_FOUND, "not_found", f"no events about member {member_id}")
    await check_scope(pool, caller, member["community_id"] or "-")
    src, fig = await choose(pool, p.label, None)
    points, _ = await src.member_points(pool, member_id, p)
    missed = await orglife.missed_among(pool, p, [member_id], fig == "closed")
    if points > 0 and not missed:
        raise invalid(
            "not_due",
            f"member {member_id} has {points} points and did not miss organisation life "
            f"in {p.label}",
            field="member_id",
            rule="a member who missed organisation life or has zero points in the period",
        )
    async with pool.acquire() as conn, conn.transaction():
        return await db.insert(
            conn, member_id, p.label, kind, held_on, note, member["community_id"]
        )
