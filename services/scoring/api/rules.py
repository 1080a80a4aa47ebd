"""Versioned scoring rules: every version is kept; a new one re-evaluates exactly the points
of events at or after its effective_from. A version is never overwritten: posting one again at
the same effective_from is a correction, a new revision with a note (persistence/rules.py).

- GET  /v1/rules                          the rules in force now and every version in force
- POST /v1/rules                          add a version or a correction (city_admin)
- GET  /v1/rules/history?activity_type=   every revision, oldest first
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..domain.rulebook import version
from ..domain.rules import RULE_TYPES, Rule
from ..usecases import change_rule, rulebook
from .params import Points

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)


class RuleOut(BaseModel):
    activity_type: str = Field(description="Activity type, or member_reported.")
    points: Points = Field(description="Points per event or per hour.")
    per: Literal["event", "hour"] = Field(description="event or hour.")
    monthly_cap: Points | None = Field(description="Monthly cap per member, null for none.")
    effective_from: datetime = Field(description="Applies to events at or after this time.")
    created_by: str | None = Field(
        default=None, description="Who added this version (audit actor; null for defaults)."
    )


class RuleIn(BaseModel):
    activity_type: str = Field(description=f"One of: {', '.join(RULE_TYPES)}.")
    points: Decimal = Field(description="Points per event or hour, 2 decimals at most.")
    per: str = Field(default="event", description="event or hour.")
    monthly_cap: Decimal | None = Field(default=None, description="Cap per member and month.")
    effective_from: AwareDatetime = Field(description="RFC 3339 time with offset.")
    note: str | None = Field(
        default=None,
        max_length=500,
        description="Why it changed; required for a correction (a version at an existing "
        "activity_type and effective_from).",
    )


class RulesOut(BaseModel):
    current: list[RuleOut] = Field(description="The rules in force now.")
    versions: list[RuleOut] = Field(description="Every version, by type and effective_from.")


class RuleChangeOut(BaseModel):
    rule: RuleOut = Field(description="The version added.")
    buckets_reevaluated: int = Field(description="Member-month buckets whose points changed.")
    members_affected: int = Field(description="Members whose points changed.")


@router.get("/rules", response_model=RulesOut)
async def list_rules(pool: Pool, caller: Caller) -> RulesOut:
    return RulesOut.model_validate(as_body(await rulebook.rules(pool)))


@router.post("/rules", response_model=RuleChangeOut, status_code=201)
async def add_rule(request: Request, pool: Pool, caller: Caller, body: RuleIn) -> RuleChangeOut:
    caller.require_city()
    rule = Rule(body.activity_type, body.points, body.per, body.monthly_cap, body.effective_from)
    change = await change_rule(pool, rule, body.note, request.app.state.runtime.settings.source)
    return RuleChangeOut(
        rule=RuleOut.model_validate(as_body(version(change.rule, caller.name))),
        buckets_reevaluated=change.buckets_reevaluated,
        members_affected=change.members_affected,
    )


class RuleRevision(BaseModel):
    revision_id: int = Field(description="The revision's id, in the order they were recorded.")
    activity_type: str = Field(description="Activity type, or member_reported.")
    points: Points = Field(description="Points per event or per hour.")
    per: Literal["event", "hour"] = Field(description="event or hour.")
    monthly_cap: Points | None = Field(description="Monthly cap, null for none.")
    effective_from: datetime = Field(description="Applies to events at or after this time.")
    note: str | None = Field(description="Why it was added or corrected.")
    created_by: str | None = Field(description="Who (the caller's name; null for defaults).")
    recorded_at: datetime = Field(description="When it was recorded.")
    correction: bool = Field(description="True if it corrects an earlier revision.")
    corrects: int | None = Field(description="The revision it corrects, null for an original.")
    corrected_by: int | None = Field(description="The revision correcting it, null if none.")
    in_force: bool = Field(
        description="True unless corrected: it scores events from its effective_from until a "
        "later version of its type takes over."
    )


@router.get("/rules/history", response_model=list[RuleRevision])
async def rule_history(
    pool: Pool,
    caller: Caller,
    activity_type: Annotated[str | None, Query(description="Only this type.")] = None,
) -> list[RuleRevision]:
    return [
        RuleRevision.model_validate(as_body(r)) for r in await rulebook.history(pool, activity_type)
    ]
