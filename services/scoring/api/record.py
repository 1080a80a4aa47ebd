"""GET /v1/members/{member_id}/record?period=: a member's record (全程记实) — every ledger entry
of the period with the rule version applied, what it earned, what the monthly cap trimmed and
whether (and when) it was revoked. The lines add up to the member's live points; for a closed
period the closed points are given beside them and late entries are marked.

The record is the use case `usecases.record`; the route answers it.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..usecases import record as usecase
from .params import IdParam, PeriodParam, Points
from .params import period_of as _period

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)


class RuleApplied(BaseModel):
    points: Points = Field(description="Points per event or per hour of that version.")
    per: str = Field(description="event or hour.")
    monthly_cap: Points | None = Field(description="Its monthly cap, null for none.")
    effective_from: datetime = Field(description="The version: in force from this time.")


class RecordLine(BaseModel):
    source: str = Field(description="CloudEvent source of the entry.")
    id: str = Field(description="CloudEvent id of the entry.")
    kind: str = Field(description="activity (activity.logged) or reported (member.reported).")
    activity_type: str = Field(description="Activity type, or member_reported.")
    time: datetime = Field(description="When it happened.")
    hours: Points | None = Field(description="Hours, for per-hour rules.")
    rule: RuleApplied | None = Field(description="The rule version applied (null: none).")
    raw_points: Points = Field(description="What the rule gives the entry alone.")
    trimmed: Points = Field(
        description="Taken off by the monthly cap (for a report: not the year's first)."
    )
    points: Points = Field(description="What the entry counts for: raw_points - trimmed.")
    revoked: bool = Field(description="Revoked by an activity.revoked (then points is 0).")
    revoked_at: datetime | None = Field(description="When the revocation arrived.")
    revoked_by: str | None = Field(
        description="The activity.revoked that revoked it, as 'source id' (null: not revoked)."
    )
    revoked_reason: str | None = Field(description="The reason that revocation gave, if any.")
    arrived_at: datetime = Field(description="When scoring received the entry.")
    after_close: bool = Field(description="Arrived after the period was closed.")


class MemberRecord(BaseModel):
    member_id: str = Field(description="The member.")
    period: str = Field(description="The period.")
    points: Points = Field(description="The member's live points: the sum of the lines.")
    closed_points: Points | None = Field(description="Points as closed (null: not closed).")
    lines: list[RecordLine] = Field(description="Every entry of the period, by time.")


@router.get("/members/{member_id}/record", response_model=MemberRecord)
async def member_record(
    request: Request, pool: Pool, caller: Caller, member_id: IdParam, period: PeriodParam = None
) -> MemberRecord:
    p = _period(request, period)
    return MemberRecord.model_validate(
        as_body(await usecase.member_record(pool, caller, member_id, p))
    )
