"""Inbox apply for the events the grids service consumes (one transaction per batch, called
by shared.inbox.InboxConsumer after dedupe and schema validation).

- region.defined from outside systems (civil affairs) — and our own, which the inbox already
  skips: the latest by (time, source, id) wins per region. A region whose parent is not known
  yet is stored anyway (outside systems may deliver children first); the read side flags it as
  an orphan until the parent arrives, so the result does not depend on arrival order.
- member.reported / registered / deregistered feed the members-by-grid projection, each part
  latest-wins on its own, so any arrival order gives the same projection.
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

from . import persistence as db
from .domain.regions import Node

CONSUMES = (REGION_DEFINED, MEMBER_REPORTED, MEMBER_REGISTERED, MEMBER_DEREGISTERED)


async def apply(conn: Conn, events: list[Incoming]) -> None:
    regions = typed(events, RegionDefined)
    if regions:
        await db.lock_tree(conn)
        # one write per region: its latest version in this batch (the upsert compares it with
        # the stored one)
        latest: dict[str, tuple[Incoming, RegionDefined]] = {}
        for item, data in regions:
            key = data.region_id
            if key not in latest or _version(item) > _version(latest[key][0]):
                latest[key] = (item, data)
        await db.write_regions(
            conn,
            [
                db.RegionWrite(
                    Node(d.region_id, d.level, d.name, d.parent_id, d.retired), _version(i)
                )
                for i, d in latest.values()
            ],
        )
    await db.apply_reported(
        conn,
        [
            (d.member_id, d.community_id, d.grid_id, i.event.time, i.event.source, i.event.id)
            for i, d in typed(events, MemberReported)
        ],
    )
    await db.apply_registered(
        conn,
        [
            (d.member_id, d.category.value, i.event.time, i.event.source, i.event.id)
            for i, d in typed(events, MemberRegistered)
        ],
    )
    await db.apply_deregistered(
        conn, [(d.member_id, i.event.time) for i, d in typed(events, MemberDeregistered)]
    )


def _version(item: Incoming) -> db.Version:
    return (item.event.time, item.event.source, item.event.id)
