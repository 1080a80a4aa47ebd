"""Versioned scoring rules: every version is kept; a new one re-evaluates exactly the points
of events at or after its effective_from (the history of corrections: rules_history).

- GET  /v1/rules    the rules in force now and every version
- POST /v1/rules    add a version (city_admin)
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool
from shared.auth import Caller

from ..domain.rules import RULE_TYPES, Rule
from ..persistence import load_rules, rule_authors
from ..usecases import change_rule
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
    note: str | None = Field(default=None, max_length=500, description="Why it changed.")


class RulesOut(BaseModel):
    current: list[RuleOut] = Field(description="The rules in force now.")
    versions: list[RuleOut] = Field(description="Every version, by type and effective_from.")


class RuleChangeOut(BaseModel):
    rule: RuleOut = Field(description="The version added.")
    buckets_reevaluated: int = Field(description="Member-month buckets whose points changed.")
    members_affected: int = Field(description="Members whose points changed.")


def _rule_out(r: Rule, created_by: str | None = None) -> RuleOut:
    return RuleOut(
        activity_type=r.activity_type,
        points=r.points,
        per=r.per,  # type: ignore[arg-type]
        monthly_cap=r.monthly_cap,
        effective_from=r.effective_from,
        created_by=created_by,
    )


@router.get("/rules", response_model=RulesOut)
async def list_rules(pool: Pool, caller: Caller) -> RulesOut:
    async with pool.acquire() as conn:
        book = await load_rules(conn)
        authors = await rule_authors(conn)
    versions = sorted(book.versions(), key=lambda r: (r.activity_type, r.effective_from))

    def out(r: Rule) -> RuleOut:
        return _rule_out(r, authors.get((r.activity_type, r.effective_from)))

    return RulesOut(
        current=[out(r) for r in book.current(datetime.now(UTC))],
        versions=[out(r) for r in versions],
    )


@router.post("/rules", response_model=RuleChangeOut, status_code=201)
async def add_rule(request: Request, pool: Pool, caller: Caller, body: RuleIn) -> RuleChangeOut:
    caller.require_city()
    rule = Rule(body.activity_type, body.points, body.per, body.monthly_cap, body.effective_from)
    change = await change_rule(pool, rule, body.note, request.app.state.runtime.settings.source)
    return RuleChangeOut(
        rule=_rule_out(change.rule, caller.name),
        buckets_reevaluated=change.buckets_reevaluated,
        members_affected=change.members_affected,
    )
