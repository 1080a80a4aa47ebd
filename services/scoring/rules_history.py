"""Rules with a history: a rule version is never lost. Every version added and every
correction (a version re-posted at the same effective_from) is appended to rule_history by a
trigger, with its note and its author (the caller's name); a correction must say why.

- GET /v1/rules/history?activity_type=     every version and correction, oldest first
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, PlainSerializer

from shared.api import ERROR_RESPONSES, ApiError, Pool
from shared.auth import Caller
from shared.db import Conn

from .domain.rules import Rule

# api.py imports this module, so the alias is not imported from there
Points = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)


async def require_note_for_correction(conn: Conn, rule: Rule, note: str | None) -> None:
    exists = await conn.fetchval(
        "SELECT true FROM rule_versions WHERE activity_type = $1 AND effective_from = $2",
        rule.activity_type,
        rule.effective_from,
    )
    if exists and not (note and note.strip()):
        raise ApiError(
            422,
            "note_required",
            f"a {rule.activity_type} version from {rule.effective_from.isoformat()} exists; "
            "a correction of it needs a note saying why",
            field="note",
            rule="a non-empty note",
        )


class RuleRevision(BaseModel):
    seq: int = Field(description="Order in which versions and corrections were recorded.")
    activity_type: str = Field(description="Activity type, or member_reported.")
    points: Points = Field(description="Points per event or per hour.")
    per: str = Field(description="event or hour.")
    monthly_cap: Points | None = Field(description="Monthly cap, null for none.")
    effective_from: datetime = Field(description="Applies to events at or after this time.")
    note: str | None = Field(description="Why it was added or corrected.")
    created_by: str | None = Field(description="Who (the caller's name; null for defaults).")
    recorded_at: datetime = Field(description="When it was recorded.")
    correction: bool = Field(description="True if it replaced a version at the same time.")


@router.get("/rules/history", response_model=list[RuleRevision])
async def rule_history(
    pool: Pool,
    caller: Caller,
    activity_type: Annotated[str | None, Query(description="Only this type.")] = None,
) -> list[RuleRevision]:
    rows = await pool.fetch(
        """SELECT * FROM rule_history WHERE ($1::text IS NULL OR activity_type = $1)
           ORDER BY seq""",
        activity_type,
    )
    return [RuleRevision(**dict(r)) for r in rows]
