"""GET /v1/periods/{period}/adjustments: what changed a closed period's live figures after its
close, so the next report can show it — each member whose points differ (live - closed), and
each late arrival (an entry, a revocation, a rule revision reaching back into the period) with
the member, the delta it made, the event and when it arrived. A member's deltas add up to their
live - closed (domain.adjustments replays them in arrival order).

Reads the ledger of the members concerned (not the aggregates): late arrivals are few.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, ApiError, Pool
from shared.auth import Caller

from ..domain.adjustments import Held, Late, Revision, replay
from ..domain.periods import period_bounds
from ..domain.points import Entry
from ..domain.rules import Rule
from ..persistence import periods as db
from .params import Points
from .params import period_of as _period

router = APIRouter(prefix="/v1/periods", tags=["periods"], responses=ERROR_RESPONSES)


class AdjustedEvent(BaseModel):
    change: Literal["event", "revocation"] = Field(
        description="event: an entry that arrived after the close; revocation: an entry "
        "revoked after the close."
    )
    member_id: str = Field(description="The member.")
    delta: Points = Field(description="What it changed in the member's points of the period.")
    source: str = Field(description="CloudEvent source of the entry.")
    id: str = Field(description="CloudEvent id of the entry.")
    kind: str = Field(description="activity (activity.logged) or reported (member.reported).")
    activity_type: str = Field(description="Its activity type, or member_reported.")
    time: datetime = Field(description="When it happened.")
    arrived_at: datetime = Field(description="When the entry or the revocation arrived.")


class RuleEffect(BaseModel):
    member_id: str = Field(description="A member whose points of the period it changed.")
    delta: Points = Field(description="By how much.")


class AdjustedRule(BaseModel):
    revision_id: int = Field(description="The rule revision (GET /v1/rules/history).")
    corrects: int | None = Field(description="The revision it corrects, null for a version.")
    activity_type: str = Field(description="The rule's activity type.")
    points: Points = Field(description="Its points.")
    effective_from: datetime = Field(description="Effective from (before the period's end).")
    note: str | None = Field(description="Why it changed.")
    created_by: str | None = Field(description="Who added it.")
    recorded_at: datetime = Field(description="When it was recorded (after the close).")
    members: list[RuleEffect] = Field(description="What it changed, per member.")


class MemberDelta(BaseModel):
    member_id: str = Field(description="The member.")
    closed: Points = Field(description="Points as closed.")
    live: Points = Field(description="Points now.")
    delta: Points = Field(description="live - closed: the sum of the member's late deltas.")


class Adjustments(BaseModel):
    period: str = Field(description="The period.")
    closed_at: datetime = Field(description="The close they are after.")
    members: list[MemberDelta] = Field(description="Members whose points changed since.")
    events: list[AdjustedEvent] = Field(
        description="Late entries and revocations, in arrival order, each with its delta."
    )
    rules: list[AdjustedRule] = Field(
        description="Rule revisions recorded after the close that reach back before the "
        "period's end, each with what it changed per member (possibly nothing)."
    )


def _held(r: object) -> Held:
    entry = Entry(r["time"], r["source"], r["id"], r["activity_type"], r["hours"])  # type: ignore[index]
    return Held(entry, r["month"], r["kind"], r["received_at"], r["revoked_at"])  # type: ignore[index]


def _event(member_id: str, late: Late) -> AdjustedEvent:
    assert late.held is not None and late.change != "rule"
    e = late.held.entry
    return AdjustedEvent(
        change=late.change,
        member_id=member_id,
        delta=late.delta,
        source=e.source,
        id=e.id,
        kind=late.held.kind,
        activity_type=e.activity_type,
        time=e.time,
        arrived_at=late.at,
    )


@router.get("/{period}/adjustments", response_model=Adjustments)
async def adjustments(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: str = Path(description="2026-11, 2026-Q4, 2026-H2 or 2026."),
) -> Adjustments:
    p = _period(request, period)
    row = await db.status(pool, p.label)
    if row is None:
        raise ApiError(409, "not_closed", f"period {p.label} has never been closed")
    since: datetime = row["closed_at"]
    _, end = period_bounds(p, request.app.state.runtime.settings.tz)
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
    events: list[AdjustedEvent] = []
    effects: dict[int, list[RuleEffect]] = {}
    for member_id in members:
        _, lates = replay(held[member_id], [v for v, _ in revisions], p.months, since)
        for late in lates:
            if late.revision is not None:
                if late.delta:
                    effects.setdefault(late.revision.revision_id, []).append(
                        RuleEffect(member_id=member_id, delta=late.delta)
                    )
            elif late.held is not None and (late.held.month in p.months or late.delta):
                # a report of another month of the year counts here only if it moved the bonus
                events.append(_event(member_id, late))
    events.sort(key=lambda e: (e.arrived_at, e.change != "event", e.source, e.id))
    return Adjustments(
        period=p.label,
        closed_at=since,
        members=[
            MemberDelta(
                member_id=r["member_id"],
                closed=r["closed"],
                live=r["live"],
                delta=Decimal(r["live"]) - Decimal(r["closed"]),
            )
            for r in deltas
        ],
        events=events,
        rules=[
            AdjustedRule(
                revision_id=v.revision_id,
                corrects=r["corrects"],
                activity_type=v.rule.activity_type,
                points=v.rule.points,
                effective_from=v.rule.effective_from,
                note=r["note"],
                created_by=r["created_by"],
                recorded_at=v.recorded_at,
                members=effects.get(v.revision_id, []),
            )
            for v, r in revisions
            if v.recorded_at > since and v.rule.effective_from < end
        ],
    )
