"""Use cases of Party organisations (所属党组织): define one (partygrid.party_org.defined), read
the tree, and list an organisation's members (the basis of the half-yearly feedback)."""

from __future__ import annotations

import asyncpg

from shared.auth import Principal
from shared.events import new_event
from shared.events.members import PARTY_ORG_DEFINED, PartyOrgDefined
from shared.events.types import MemberCategory
from shared.outbox import publish_own
from shared.refusals import Refusal

from ..domain.members import Member
from ..domain.party_orgs import PartyOrg
from ..models import PartyOrgIn
from ..persistence import members as member_db
from ..persistence import party_orgs as db
from .common import Clock, broken, missing, utcnow
from .members import shown


def _no_org(party_org_id: str) -> Refusal:
    return missing(
        "party_org_id",
        f"no Party organisation {party_org_id}",
        "must be an existing Party organisation",
    )


async def define_party_org(
    pool: asyncpg.Pool, source: str, party_org_id: str, body: PartyOrgIn, now: Clock = utcnow
) -> tuple[PartyOrg, bool]:
    """Create or change the organisation; returns it and whether it is new. Defining it
    again as it is publishes nothing."""
    async with pool.acquire() as conn, conn.transaction():
        await db.lock_party_org_tree(conn)
        if body.parent_id is not None:
            if body.parent_id == party_org_id:
                raise broken("parent_id", "an organisation cannot be its own parent")
            if await db.get_party_org(conn, body.parent_id) is None:
                raise broken("parent_id", "must be an existing Party organisation")
            if party_org_id in await db.party_org_ancestors(conn, body.parent_id):
                raise broken("parent_id", "would make a cycle (the parent is below this one)")
        current = await db.get_party_org(conn, party_org_id)
        wanted = (body.name, body.kind.value, body.parent_id)
        stored = (current["name"], current["kind"], current["parent_id"]) if current else None
        if current is not None and stored == wanted:
            return db.as_party_org(current), False
        await db.upsert_party_org(conn, party_org_id, *wanted)
        event = new_event(
            type=PARTY_ORG_DEFINED,
            source=source,
            subject=party_org_id,
            time=now(),
            data=PartyOrgDefined(
                party_org_id=party_org_id, name=body.name, kind=body.kind, parent_id=body.parent_id
            ),
        )
        await publish_own(conn, [event])
        row = await db.get_party_org(conn, party_org_id)
        assert row is not None
        return db.as_party_org(row), current is None


async def list_party_orgs(pool: asyncpg.Pool, parent_id: str | None) -> list[PartyOrg]:
    async with pool.acquire() as conn:
        return [db.as_party_org(r) for r in await db.list_party_orgs(conn, parent_id)]


async def get_party_org(pool: asyncpg.Pool, party_org_id: str) -> PartyOrg:
    async with pool.acquire() as conn:
        row = await db.get_party_org(conn, party_org_id)
    if row is None:
        raise _no_org(party_org_id)
    return db.as_party_org(row)


async def party_org_members(
    pool: asyncpg.Pool,
    caller: Principal,
    party_org_id: str,
    category: MemberCategory | None,
    include_sub_orgs: bool,
) -> list[Member]:
    """Active members of the organisation (and of those below it, if asked), by id, as the
    caller may see them."""
    async with pool.acquire() as conn:
        if await db.get_party_org(conn, party_org_id) is None:
            raise _no_org(party_org_id)
        ids = (
            (await db.party_org_subtree(conn, party_org_id)) if include_sub_orgs else [party_org_id]
        )
        rows = await member_db.members_of_party_org(conn, ids, category.value if category else None)
    return [shown(r, caller) for r in rows]
