"""What changed a closed period's live figures after its close (docs/design.md §4.10): each
late arrival (an entry, a revocation, a rule revision reaching back into the period) with the
member and the delta it made, replayed in arrival order by `domain.adjustments`, and the
members whose points differ (live - closed). Reads the ledger of the members concerned (not the
aggregates): late arrivals are few. SQL in `persistence.periods`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from shared.refusals import conflict

from ..domain.adjustments import Held, Late, Revision, replay
from ..domain.periods import Period, period_bounds
from ..domain.points import Entry
from ..domain.rules import Rule
from ..persistence import periods as db


@dataclass(frozen=True)
class Found:
    closed_at: datetime
    members: list[asyncpg.Record]  # member_id, closed, live
    events: list[tuple[str, Late]]  # (member_id, the late entry or revocation), arrival order
    # each revision recorded after the close that reaches back before the period's end, its
    # rule_revisions row, and what it changed per member
    rules: list[tuple[Revision, asyncpg.Record, list[tuple[str, Decimal]]]]


def _held(r: Any) -> Held:
    entry = Entry(r["time"], r["source"], r["id"], r["activity_type"], r["hours"])
    return Held(entry, r["month"], r["kind"], r["received_at"], r["revoked_at"])


def _order(item: tuple[str, Late]) -> tuple[datetime, bool, str, str]:
    late = item[1]
    assert late.held is not None
    return (late.at, late.change != "event", late.held.entry.source, late.held.entry.id)


async def adjustments(pool: Any, p: Period, tz: ZoneInfo) -> Found:
    row = await db.status(pool, p.label)
    if row is None:
        raise conflict("not_closed", f"period {p.label} has never been closed")
    since: datetime = row.closed_at
    _, end = period_bounds(p, tz)
    async with pool.acquire() as conn:
        members = await db.late_members(conn, p, since)
        rows = await db.held_entries(conn, p, members)
        revisions = [
            (
                Revision(
                    r["revision_id"],
                    Rule(
                        r["activity_type"],
                        r["points"],
                        r["per"],
                        r["monthly_cap"],
                        r["effective_from"],
                    ),
                    r["recorded_at"],
                ),
                r,
            )
            for r in await db.rule_revisions(conn)
        ]
        deltas = await db.member_deltas(conn, p.label)
    held: dict[str, list[Held]] = {m: [] for m in members}
    for r in rows:
        held[r["member_id"]].append(_held(r))
    events: list[tuple[str, Late]] = []
    effects: dict[int, list[tuple[str, Decimal]]] = {}
    for member_id in members:
        _, lates = replay(held[member_id], [v for v, _ in revisions], p.months, since)
        for late in lates:
            if late.revision is not None:
                if late.delta:
                    effects.setdefault(late.revision.revision_id, []).append(
                        (member_id, late.delta)
                    )
            elif late.held is not None and (late.held.month in p.months or late.delta):
                # a report of another month of the year counts here only if it moved the bonus
                events.append((member_id, late))
    events.sort(key=_order)
    return Found(
        closed_at=since,
        members=deltas,
        events=events,
        rules=[
            (v, r, effects.get(v.revision_id, []))
            for v, r in revisions
            if v.recorded_at > since and v.rule.effective_from < end
        ],
    )
