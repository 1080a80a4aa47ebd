"""Use cases of the member registry: register (member.registered), read, change (member.registered
again only when name, category, Party organisation or joined date changed) and deregister
(member.deregistered). A scoped admin acts only on members reported to or living in its
region. Members are returned as the caller may see them (personal data masked for all but
city admins)."""

from __future__ import annotations

import asyncpg

from shared.auth import Principal
from shared.events import MEMBER_DEREGISTERED, MemberDeregistered, new_event
from shared.outbox import publish_own

from ..domain.members import Member, seen_by
from ..domain.registry import deregistration, event_fields_differ, registration
from ..models import DeregisterIn, MemberIn, MemberPatch
from ..persistence import members as db
from .common import (
    Clock,
    broken,
    check_member_refs,
    clash,
    community,
    event_time,
    locked_registered,
    missing,
    registered_event,
    require_community_scope,
    require_member_scope,
    utcnow,
)


def shown(row: asyncpg.Record, caller: Principal) -> Member:
    """The member of a row as the caller may see them."""
    return seen_by(db.as_member(row), city_admin=caller.role == "city_admin")


async def get_member(pool: asyncpg.Pool, caller: Principal, member_id: str) -> Member:
    """A registered member with their current report, if the caller's scope reaches them."""
    async with pool.acquire() as conn:
        row = await db.get_member(conn, member_id)
        if row is None:
            raise missing("member_id", f"no member {member_id}", "must be a registered member")
        await require_member_scope(conn, caller, row)
        return shown(row, caller)


async def register_member(
    pool: asyncpg.Pool, source: str, caller: Principal, body: MemberIn, now: Clock = utcnow
) -> Member:
    """Register a new member (or one deregistered before); returns the stored member."""
    async with pool.acquire() as conn, conn.transaction():
        if body.address_community_id and not caller.may_access([]):
            # a made-up community is bad input (422), not someone else's region (403)
            await community(conn, body.address_community_id, "address_community_id")
            await require_community_scope(conn, caller, body.address_community_id)
        row = await db.lock_member(conn, body.member_id, create=True)
        assert row is not None
        if row["active"]:
            raise clash("member_id", "is already registered (use PATCH to change it)")
        values = body.model_dump(exclude={"member_id"})
        values["category"] = body.category.value
        await check_member_refs(conn, body.member_id, values, set(values))
        when = event_time(row, now)
        event = registered_event(source, body.member_id, values, when)
        updates = registration(
            row,
            name=body.name,
            category=values["category"],
            party_org_id=body.party_org_id,
            joined_on=body.joined_on,
            version=(when, source, event.id),
        )
        updates.update(
            skills=body.skills,
            phone=body.phone,
            id_number=body.id_number,
            address_community_id=body.address_community_id,
        )
        await db.update_member(conn, body.member_id, updates)
        await publish_own(conn, [event])
        stored = await db.get_member(conn, body.member_id)
        assert stored is not None
        return shown(stored, caller)


async def update_member(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    member_id: str,
    patch: MemberPatch,
    now: Clock = utcnow,
) -> bool:
    """Apply the given fields; publish member.registered only if name, category, Party
    organisation or joined date changed. Returns whether anything changed."""
    async with pool.acquire() as conn, conn.transaction():
        await locked_registered(conn, member_id)
        full = await db.get_member(conn, member_id)
        assert full is not None
        await require_member_scope(conn, caller, full)
        if not full["active"]:
            raise clash("member_id", "is deregistered; register it again instead")
        given = patch.model_dump(exclude_unset=True)
        for key in ("name", "category", "party_org_id"):
            if key in given and given[key] is None:
                raise broken(key, "cannot be removed")
        if "skills" in given and given["skills"] is None:
            given["skills"] = []
        if "category" in given:
            given["category"] = patch.category.value if patch.category else None
        changed = {k for k, v in given.items() if full[k] != v}
        if not changed:
            return False
        values = {**dict(full), **given}
        await check_member_refs(conn, member_id, values, changed)
        updates = {k: values[k] for k in changed}
        events = []
        if event_fields_differ(full, values):
            when = event_time(full, now)
            event = registered_event(source, member_id, values, when)
            reg = registration(
                full,
                name=values["name"],
                category=values["category"],
                party_org_id=values["party_org_id"],
                joined_on=values["joined_on"],
                version=(when, source, event.id),
            )
            updates.update(reg)
            events.append(event)
        await db.update_member(conn, member_id, updates)
        await publish_own(conn, events)
        return True


async def deregister_member(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    member_id: str,
    body: DeregisterIn,
    now: Clock = utcnow,
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await locked_registered(conn, member_id)
        full = await db.get_member(conn, member_id)
        assert full is not None
        await require_member_scope(conn, caller, full)
        if not full["active"]:
            raise clash("member_id", "is already deregistered")
        when = event_time(full, now)
        event = new_event(
            type=MEMBER_DEREGISTERED,
            source=source,
            subject=member_id,
            time=when,
            data=MemberDeregistered(member_id=member_id, reason=body.reason),
        )
        updates = deregistration(full, reason=body.reason.value, version=(when, source, event.id))
        await db.update_member(conn, member_id, updates)
        await publish_own(conn, [event])
