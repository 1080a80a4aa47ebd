"""The inbox `apply` of the activities service: local projections of members, resident units
and regions, fed by events the members and grids services (and outside registries) publish.

Participants are checked against the member projection (registered or reported, and not
deregistered), resources against the unit projection, communities named in requests and token
scopes against the region tree (with `retired`, so a retired community takes nothing new).
Every upsert keeps the (time, source, id) of the event that set the row and only lets a later
one replace it, so the result is the same whatever order the events arrive in; the member and
region projections are written by shared.projections, as in every service.
"""

from __future__ import annotations

from shared import projections
from shared.db import Conn
from shared.events import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
    UNIT_REPORTED,
    MemberDeregistered,
    MemberRegistered,
    MemberReported,
    RegionDefined,
    UnitReported,
)
from shared.inbox import Incoming
from shared.projections import RegionVersion, version_of

from .persistence import units
from .usecases.banking import CONSUMES as TIMEBANK_CONSUMES

# ... and volunteer records of other systems for the time bank (applied by `timebank.apply`)
CONSUMES: tuple[str, ...] = (
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    MEMBER_DEREGISTERED,
    UNIT_REPORTED,
    REGION_DEFINED,
    *TIMEBANK_CONSUMES,
)

MEMBERS = "member_projection"


async def apply(conn: Conn, events: list[Incoming]) -> None:
    """Apply one batch inside the inbox transaction (dedupe is already done)."""
    status_rows, report_rows, unit_rows, regions = [], [], [], []
    for item in events:
        e, d = item.event, item.data
        version = version_of(e)
        if isinstance(d, MemberRegistered):
            status_rows.append((d.member_id, ("registered",), version))
        elif isinstance(d, MemberDeregistered):
            status_rows.append((d.member_id, ("deregistered",), version))
        elif isinstance(d, MemberReported):
            report_rows.append((d.member_id, (d.community_id, d.grid_id), version))
        elif isinstance(d, UnitReported):
            unit_rows.append((d.unit_id, d.name, d.community_id, *version))
        elif isinstance(d, RegionDefined):
            regions.append(
                RegionVersion(d.region_id, d.level.value, d.name, d.parent_id, d.retired, version)
            )
    await projections.upsert_members(conn, MEMBERS, projections.STATUS, status_rows)
    await projections.upsert_members(conn, MEMBERS, projections.REPORT, report_rows)
    await projections.upsert_regions(conn, regions)
    await units.upsert(conn, unit_rows)
