"""GET /v1/periods/{period}/adjustments: what changed a closed period's live figures after its
close, so the next report can show it — each member whose points differ (live - closed), and
each late arrival (an entry, a revocation, a rule revision reaching back into the period) with
the member, the delta it made, the event and when it arrived. A member's deltas add up to their
live - closed (domain.adjustments replays them in arrival order).

The replay and its reads are the use case `usecases.adjustments`; the route answers it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..usecases import adjustments as usecase
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


@router.get("/{period}/adjustments", response_model=Adjustments)
async def adjustments(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: str = Path(description="2026-11, 2026-Q4, 2026-H2 or 2026."),
) -> Adjustments:
    p = _period(request, period)
    found = await usecase.adjustments_of(pool, p, request.app.state.runtime.settings.tz)
    return Adjustments.model_validate(as_body(found))
