"""Scoring's read use cases: which regions and members a caller may see, a member's points and
ranks, whose half-yearly feedback a caller may read. HTTP-free: they take the database, the
caller and parsed values, return domain values and raise `shared.refusals.Refusal`, so the routes
only parse and answer, and the rules can be tested without a web framework.

A closed period is answered from the figures frozen at its close (services.scoring.usecases.figures);
the caller passes the query module `choose` picked (`src`), live or closed. They return the
values of `domain.standing`.
"""

from __future__ import annotations

from types import ModuleType
from typing import TypeAlias

import asyncpg

from shared.auth import Principal
from shared.db import Conn
from shared.events import RegionLevel
from shared.refusals import Kind, Refusal, forbidden, invalid
from shared.regions import require_region

from ..domain.periods import Period
from ..domain.standing import (
    Feedback,
    Figures,
    MemberStanding,
    ScopeName,
    ScopeRank,
    ScoredMember,
)
from ..persistence import closed as cq
from ..persistence import live as q
from ..persistence.partyorgs import subtree

DB: TypeAlias = "Conn | asyncpg.Pool"


async def known_region(db: DB, region_id: str | None, level: RegionLevel, field: str) -> None:
    """A filter must name a region defined by region.defined, of that level; a retired one is
    fine (its past periods stay readable)."""
    if region_id:
        await require_region(db, region_id, level=level, field=field, retired_ok=True)


async def check_scope(db: DB, caller: Principal, region_id: str | None) -> None:
    """Street and community admins see their own region's subtree; a community admin must
    always name it (a city-wide list is not theirs)."""
    if region_id and caller.role in ("street_admin", "community_admin"):
        caller.require_region(await q.region_path(db, region_id))
    elif not region_id and caller.role == "community_admin":
        raise forbidden("forbidden", "a community_admin token must name its community_id")


async def visible_member(db: DB, caller: Principal, member_id: str) -> ScoredMember:
    """The member as scoring knows it, if the caller may see them."""
    member = await q.member_exists(db, member_id)
    if member is None:
        raise Refusal(
            Kind.NOT_FOUND,
            "not_found",
            f"no events about member {member_id} have been received",
            field="member_id",
        )
    await check_scope(db, caller, member.community_id or "-")
    return member


async def member_standing(
    db: DB, caller: Principal, member_id: str, period: Period, src: ModuleType, *, ranks: bool
) -> MemberStanding:
    """A member's points in the period and, with `ranks`, their competition rank in each scope
    they count in (grid, community, street, city) — where they counted at the close for closed
    figures."""
    m = await visible_member(db, caller, member_id)
    if ranks and src is cq:
        m = await cq.member_exists(db, member_id, period.label) or m
    total, by_type = await src.member_points(db, member_id, period)
    found: list[ScopeRank] = []
    if ranks and m.counted:
        path = await q.region_path(db, m.community_id)
        street = path[1] if len(path) > 1 else None
        scopes: list[tuple[ScopeName, str | None, q.MemberScope]] = []
        if m.grid_id:
            scopes.append(("grid", m.grid_id, q.MemberScope(grid_id=m.grid_id)))
        scopes.append(("community", m.community_id, q.MemberScope(community_id=m.community_id)))
        if street:
            scopes.append(("street", street, q.MemberScope(street_id=street)))
        scopes.append(("city", None, q.MemberScope()))
        for name, sid, scope in scopes:
            rank, size = await src.rank_in_scope(db, period.label, scope, total)
            found.append(ScopeRank(name, sid, rank, size))
    return MemberStanding(
        member_id=member_id,
        period=period.label,
        points=total,
        by_type=by_type,
        counted=m.counted,
        ranks=tuple(found),
        figures="closed" if src is cq else "live",
    )


FEEDBACK_ROLES = ("city_admin", "service", "party_org")


async def feedback_orgs(
    db: DB, caller: Principal, party_org_id: str | None
) -> tuple[str, list[str]]:
    """The organisation a feedback report is for (a party_org token's own by default) and its
    subtree, if the caller may read it."""
    if caller.role not in FEEDBACK_ROLES:
        raise forbidden(
            "forbidden", "feedback reports are for city_admin, service and party_org tokens"
        )
    party_org_id = party_org_id or (caller.scope if caller.role == "party_org" else None)
    if party_org_id is None:
        raise invalid("missing_party_org", "give party_org_id", field="party_org_id")
    orgs = await subtree(db, party_org_id)
    if caller.role == "party_org" and party_org_id not in await subtree(db, caller.scope):
        raise forbidden(
            "forbidden", f"a party_org token for {caller.scope} may not read {party_org_id}"
        )
    return party_org_id, orgs


async def feedback(
    db: DB, party_org_id: str, orgs: list[str], period: Period, src: ModuleType, fig: Figures
) -> Feedback:
    """The feedback of the organisation `feedback_orgs` allowed: the in-service members of
    `orgs` (its subtree) with their half, by the figures `src` reads."""
    members = await src.feedback_rows(db, orgs, period)
    return Feedback(party_org_id, period.label, tuple(members), fig)
