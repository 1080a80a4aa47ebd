"""Inbox handler: events from outside systems (and from the grids service) applied to the
members service's own state.

Consumed: region.defined (the local projection of communities and grids that 双报到 needs),
member.registered, member.reported and member.deregistered published directly by outside
registries. The same rules as the API apply (the schema already validated the data), with
"latest by (time, source, id) wins" for registry state, so any arrival order of the same events
gives the same registry. A report for a community not (yet) known is still recorded: outside
systems may be ahead of the region events. Events this service published itself are already in
its inbox (publish_own) and never reach this function.
"""

from __future__ import annotations

from shared.db import Conn
from shared.events import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
    MemberDeregistered,
    MemberRegistered,
    MemberReported,
    RegionDefined,
)
from shared.events.scoring import POINTS_CHANGED
from shared.inbox import Incoming

from .domain.registry import deregistration, registration
from .persistence import common as regions
from .persistence import members as db
from .usecases.evaluation import apply_points

# points.changed: the participation of units' in-service members (`evaluation.apply_points`)
CONSUMES = (
    REGION_DEFINED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    MEMBER_DEREGISTERED,
    POINTS_CHANGED,
)


async def apply(conn: Conn, events: list[Incoming]) -> None:
    await apply_points(conn, events)

    # Regions first, then members in member-id order: one lock order for every transaction.
    def key(item: Incoming) -> tuple[int, str]:
        data = item.data
        if isinstance(data, RegionDefined):
            return (0, data.region_id)
        return (1, getattr(data, "member_id", ""))

    for item in sorted(events, key=key):
        e, data = item.event, item.data
        version = (e.time, e.source, e.id)
        if isinstance(data, RegionDefined):
            await regions.upsert_region(
                conn,
                data.region_id,
                data.level.value,
                data.name,
                data.parent_id,
                data.retired,
                version,
            )
        elif isinstance(data, MemberRegistered):
            row = await db.lock_member(conn, data.member_id, create=True)
            updates = registration(
                row,
                name=data.name,
                category=data.category.value,
                party_org_id=data.party_org_id,
                joined_on=data.joined_on,
                version=version,
            )
            await db.update_member(conn, data.member_id, updates)
        elif isinstance(data, MemberDeregistered):
            row = await db.lock_member(conn, data.member_id, create=True)
            updates = deregistration(row, reason=data.reason.value, version=version)
            await db.update_member(conn, data.member_id, updates)
        elif isinstance(data, MemberReported):
            await db.record_report(
                conn, data.member_id, data.community_id, data.grid_id, data.skills, version
            )
