"""What the use cases of the members service share: the clock, the refusals in the shape the
members API has always answered with ({field, rule}), the scope of a caller over a member,
the community check, and the member.registered event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.events import MEMBER_REGISTERED, CloudEvent, MemberRegistered, RegionLevel, new_event
from shared.refusals import Kind, Refusal, conflict, forbidden, invalid
from shared.regions import require_region

from ..domain.rules import next_time
from ..persistence import common as regions
from ..persistence import members as db
from ..persistence import party_orgs
from ..persistence.common import Conn

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def broken(field: str, rule: str) -> Refusal:
    """The request breaks a rule about one field (422)."""
    return invalid("invalid_request", f"{field}: {rule}", field=field, rule=rule)


def clash(field: str, rule: str) -> Refusal:
    """What is stored does not allow it now (409)."""
    return conflict("conflict", f"{field}: {rule}", field=field, rule=rule)


def missing(field: str, message: str, rule: str | None = None) -> Refusal:
    """What the request names does not exist (404)."""
    detail = {"field": field, "rule": rule} if rule else {"field": field}
    return Refusal(Kind.NOT_FOUND, "not_found", message, **detail)


async def require_member_scope(conn: Conn, caller: Principal, member: asyncpg.Record) -> None:
    """Scoped admins may act on members whose current or home community is in their region."""
    if caller.may_access([]):
        return
    for community in (member["cur_community_id"], member["address_community_id"]):
        if community and caller.may_access(await regions.region_path(conn, community)):
            return
    raise forbidden(
        "forbidden",
        f"a {caller.role} token for {caller.scope} may only access members reported to or "
        "living in its region",
    )


async def require_community_scope(conn: Conn, caller: Principal, community_id: str) -> None:
    caller.require_region(await regions.region_path(conn, community_id))


async def community(conn: Conn, community_id: str, field: str) -> asyncpg.Record:
    """A known, current community (422 naming `field` otherwise)."""
    return await require_region(conn, community_id, level=RegionLevel.COMMUNITY, field=field)


async def locked_registered(conn: Conn, member_id: str) -> asyncpg.Record:
    row = await db.lock_member(conn, member_id, create=False)
    if row is None or row["name"] is None:
        raise missing("member_id", f"no member {member_id}", "must be a registered member")
    return row


def registered_event(
    source: str, member_id: str, values: dict[str, Any], when: datetime
) -> CloudEvent:
    return new_event(
        type=MEMBER_REGISTERED,
        source=source,
        subject=member_id,
        time=when,
        data=MemberRegistered(
            member_id=member_id,
            name=values["name"],
            category=values["category"],
            party_org_id=values["party_org_id"],
            joined_on=values["joined_on"],
        ),
    )


def event_time(row: asyncpg.Record | None, now: Clock) -> datetime:
    """After the member's latest registry event, so the newest change always wins."""
    if row is None:
        return now()
    return next_time(now(), row["reg_time"], row["state_time"])


async def check_member_refs(
    conn: Conn, member_id: str, values: dict[str, Any], changed: set[str]
) -> None:
    """What a changed member row refers to exists: its Party organisation, its home community,
    and its ID number belongs to no one else."""
    if (
        "party_org_id" in changed
        and await party_orgs.get_party_org(conn, values["party_org_id"]) is None
    ):
        raise broken("party_org_id", "must be an existing Party organisation")
    if "address_community_id" in changed and values.get("address_community_id"):
        await community(conn, values["address_community_id"], "address_community_id")
    if "id_number" in changed and values.get("id_number"):
        owner = (await db.id_number_owners(conn, [values["id_number"]])).get(values["id_number"])
        if owner is not None and owner != member_id:
            raise clash("id_number", "is already registered to another member")
