"""GET /v1/members/{member_id}/record?period=: a member's record (全程记实) — every ledger entry
of the period with the rule version applied, what it earned, what the monthly cap trimmed and
whether (and when) it was revoked. The lines add up to the member's live points; for a closed
period the closed points are given beside them and late entries are marked.

The record is the use case `usecases.record`; the route shapes the answer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool
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
    found = await usecase.member_record(pool, caller, member_id, p)
    lines, by_key, closed_points, cutoff = (
        found.lines,
        found.rows,
        found.closed_points,
        found.closed_at,
    )
    out = []
    for ln in lines:
        r = by_key[(ln.entry.source, ln.entry.id)]
        out.append(
            RecordLine(
                source=ln.entry.source,
                id=ln.entry.id,
                kind=ln.kind,
                activity_type=ln.entry.activity_type,
                time=ln.entry.time,
                hours=ln.entry.hours,
                rule=RuleApplied(
                    points=ln.rule.points,
                    per=ln.rule.per,
                    monthly_cap=ln.rule.monthly_cap,
                    effective_from=ln.rule.effective_from,
                )
                if ln.rule
                else None,
                raw_points=ln.raw,
                trimmed=ln.trimmed,
                points=ln.earned,
                revoked=ln.revoked,
                revoked_at=r["revoked_at"] if ln.revoked else None,
                revoked_by=f"{r['by_source']} {r['by_id']}" if ln.revoked and r["by_id"] else None,
                revoked_reason=r["reason"] if ln.revoked else None,
                arrived_at=r["received_at"],
                after_close=cutoff is not None and r["received_at"] > cutoff,
            )
        )
    return MemberRecord(
        member_id=member_id,
        period=p.label,
        points=sum((ln.earned for ln in lines), Decimal("0.00")),
        closed_points=closed_points,
        lines=out,
    )
