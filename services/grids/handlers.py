"""Inbox apply for the events the grids service consumes (one transaction per batch, called
by shared.inbox.InboxConsumer after dedupe and schema validation).

- region.defined from outside systems (civil affairs) — and our own, which the inbox already
  skips: the latest by (time, source, id) wins per region. A region whose parent is not known
  yet is stored anyway (outside systems may deliver children first); the read side flags it as
  an orphan until the parent arrives, so the result does not depend on arrival order.
- member.reported / registered / deregistered feed the members-by-grid projection, each part
  (report, registration, status) latest-wins on its own, so any arrival order gives the same
  projection. Both are written by shared.projections, as in every service.
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
from shared.inbox import Incoming, typed
from shared.projections import version_of

from .domain.regions import Node
from .persistence import members as members_db
from .persistence import regions as regions_db

CONSUMES = (REGION_DEFINED, MEMBER_REPORTED, MEMBER_REGISTERED, MEMBER_DEREGISTERED)


async def apply(conn: Conn, events: list[Incoming]) -> None:
    regions = typed(events, RegionDefined)
    if regions:
        await regions_db.lock_tree(conn)
        await regions_db.write_regions(
            conn,
            [
                regions_db.RegionWrite(
                    Node(d.region_id, d.level, d.name, d.parent_id, d.retired),
                    version_of(i.event),
                )
                for i, d in regions
            ],
        )
    await members_db.apply_reported(
        conn,
        [
            (d.member_id, d.community_id, d.grid_id, version_of(i.event))
            for i, d in typed(events, MemberReported)
        ],
    )
    await members_db.apply_registered(
        conn,
        [
            (d.member_id, d.category.value, version_of(i.event))
            for i, d in typed(events, MemberRegistered)
        ],
    )
    await members_db.apply_status(
        conn,
        [
            (d.member_id, "deregistered", version_of(i.event))
            for i, d in typed(events, MemberDeregistered)
        ],
    )
