"""Follow-up of members who missed organisation life or have zero points (批评教育 of 零分
党员): the city sets the organisation-life rule; community admins record the talks they held
(谈心谈话 heart_to_heart, 批评教育 criticism_education); the due list shows which members have
had one.

- GET /v1/organization-life/rule, PUT /v1/organization-life/rule     the city's rule
- GET /v1/followups/due?period=&community_id=|grid_id=|street_id=     who is due, talks held
- POST /v1/followups                                                  record a talk
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events import ID_PATTERN

from ..domain.followups import TalkKind
from ..usecases import followups
from .params import FiguresParam, PeriodParam, ScopeParams
from .params import period_of as _period

router = APIRouter(prefix="/v1", tags=["follow-up"], responses=ERROR_RESPONSES)
Kind = TalkKind


class OrgLifeRule(BaseModel):
    every_quarter: bool = Field(description="Each quarter needs an organization_life entry.")
    max_absences: int = Field(ge=0, le=100, description="organization_life_absent allowed.")


@router.get("/organization-life/rule", response_model=OrgLifeRule)
async def get_rule(pool: Pool, caller: Caller) -> OrgLifeRule:
    return OrgLifeRule.model_validate(as_body(await followups.rule(pool)))


@router.put("/organization-life/rule", response_model=OrgLifeRule)
async def set_rule(pool: Pool, caller: Caller, body: OrgLifeRule) -> OrgLifeRule:
    caller.require_city()
    await followups.set_rule(pool, body.every_quarter, body.max_absences)
    return body


class Talk(BaseModel):
    kind: Kind = Field(description="heart_to_heart (谈心谈话) or criticism_education (批评教育).")
    held_on: date = Field(description="The day it was held.")
    note: str | None = Field(description="What was agreed.")
    recorded_by: str | None = Field(description="Who recorded it.")


class DueItem(BaseModel):
    member_id: str = Field(description="The member.")
    name: str | None = Field(description="Name, if registered.")
    community_id: str | None = Field(description="Community.")
    points: float = Field(description="Points in the period.")
    org_life_missed: bool = Field(description="Missed organisation life (the hard criterion).")
    zero_points: bool = Field(description="Points at zero or below.")
    followed_up: bool = Field(description="At least one talk recorded for this period.")
    talks: list[Talk] = Field(description="The talks recorded for this period.")


class DueList(BaseModel):
    period: str = Field(description="The period.")
    figures: str = Field(description="closed or live figures.")
    count: int = Field(description="Members due.")
    followed_up: int = Field(description="Of them, members who have had a talk.")
    items: list[DueItem] = Field(description="By member id.")


@router.get("/followups/due", response_model=DueList)
async def due(
    request: Request,
    pool: Pool,
    scope: ScopeParams,
    period: PeriodParam = None,
    figures: FiguresParam = None,
) -> DueList:
    p = _period(request, period)
    return DueList.model_validate(as_body(await followups.due(pool, p, scope, figures)))


class FollowupIn(BaseModel):
    member_id: str = Field(pattern=ID_PATTERN, description="The member talked with.")
    period: str = Field(description="The period they were due for, e.g. 2026-Q4.")
    kind: Kind = Field(description="heart_to_heart (谈心谈话) or criticism_education (批评教育).")
    held_on: date = Field(description="The day it was held.")
    note: str | None = Field(default=None, max_length=2000, description="What was agreed.")


class FollowupOut(FollowupIn):
    followup_id: int = Field(description="The record.")
    recorded_by: str | None = Field(description="Who recorded it.")
    recorded_at: datetime = Field(description="When.")


@router.post("/followups", response_model=FollowupOut, status_code=201)
async def record_followup(
    request: Request, pool: Pool, caller: Caller, body: FollowupIn
) -> FollowupOut:
    caller.require_write()
    p = _period(request, body.period)
    talk = await followups.record_talk(
        pool, caller, p, body.member_id, body.kind, body.held_on, body.note
    )
    return FollowupOut.model_validate(as_body(talk))
