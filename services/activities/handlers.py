"""The inbox `apply` of the activities service: local projections of members, resident units
and regions, fed by events the members and grids services (and outside registries) publish.

Participants are checked against the member projection (registered or reported, and not
deregistered), resources against the unit projection, communities named in requests and token
scopes against the region tree (with `retired`, so a retired community takes nothing new).
Every upsert keeps the (time, source, id) of the event that set the row and only lets a later
one replace it, so the result is the same whatever order the events arrive in.
"""

from __future__ import annotations

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

_STATUS = """
INSERT INTO member_projection AS m (member_id, status, status_time, status_source, status_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (member_id) DO UPDATE SET
    status = excluded.status, status_time = excluded.status_time,
    status_source = excluded.status_source, status_id = excluded.status_id
WHERE m.status_time IS NULL
   OR (excluded.status_time, excluded.status_source, excluded.status_id)
      > (m.status_time, m.status_source, m.status_id)
"""

_REPORT = """
INSERT INTO member_projection AS m (member_id, community_id, report_time, report_source, report_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (member_id) DO UPDATE SET
    community_id = excluded.community_id, report_time = excluded.report_time,
    report_source = excluded.report_source, report_id = excluded.report_id
WHERE m.report_time IS NULL
   OR (excluded.report_time, excluded.report_source, excluded.report_id)
      > (m.report_time, m.report_source, m.report_id)
"""

_REGION = """
INSERT INTO region_projection AS r (region_id, parent_id, level, retired, v_time, v_source, v_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (region_id) DO UPDATE SET
    parent_id = excluded.parent_id, level = excluded.level, retired = excluded.retired,
    v_time = excluded.v_time, v_source = excluded.v_source, v_id = excluded.v_id
WHERE (excluded.v_time, excluded.v_source, excluded.v_id) > (r.v_time, r.v_source, r.v_id)
"""


async def apply(conn: Conn, events: list[Incoming]) -> None:
    """Apply one batch inside the inbox transaction (dedupe is already done)."""
    status_rows, report_rows, unit_rows, region_rows = [], [], [], []
    for item in events:
        e, d = item.event, item.data
        version = (e.time, e.source, e.id)
        if isinstance(d, MemberRegistered):
            status_rows.append((d.member_id, "registered", *version))
        elif isinstance(d, MemberDeregistered):
            status_rows.append((d.member_id, "deregistered", *version))
        elif isinstance(d, MemberReported):
            report_rows.append((d.member_id, d.community_id, *version))
        elif isinstance(d, UnitReported):
            unit_rows.append((d.unit_id, d.name, d.community_id, *version))
        elif isinstance(d, RegionDefined):
            region_rows.append((d.region_id, d.parent_id, d.level.value, d.retired, *version))
    # executemany runs the rows in order; each guarded upsert keeps the latest version, so
    # several events for one key in one batch also end with the latest.
    for sql, rows in (
        (_STATUS, status_rows),
        (_REPORT, report_rows),
        (_REGION, region_rows),
    ):
        if rows:
            await conn.executemany(sql, rows)
    await units.upsert(conn, unit_rows)
