"""GET /v1/audit, served by every service: its own audit trail (shared.audit), newest first,
for city admins only (it names people and what they did)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from .api import ERROR_RESPONSES, Pool
from .audit import AuditFilters, list_entries
from .auth import Caller

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)

Outcome = Literal["ok", "refused", "failed"]
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL text has no NUL)
Method = Literal["POST", "PUT", "PATCH", "DELETE"]


class AuditEntry(BaseModel):
    """One state-changing request."""

    id: int = Field(description="The entry's id in this service (grows with time).")
    at: datetime = Field(description="When the change was made (or the request refused).")
    actor: str = Field(description="Who: a token's name, a JWT's subject, or anonymous.")
    actor_kind: str = Field(description="token (static), jwt (identity provider), link, none.")
    role: str | None = Field(description="The role the actor acted in.")
    method: str = Field(description="HTTP method.")
    endpoint: str = Field(description="The route, e.g. /v1/boards/{board_id}/publish.")
    resource: str = Field(description="The path asked for, e.g. /v1/boards/12/publish.")
    outcome: Outcome = Field(
        description="ok: the change committed (the entry is in its transaction); refused: "
        "4xx, nothing changed; failed: 5xx, nothing changed."
    )
    status: int | None = Field(description="The HTTP status answered.")
    error: str | None = Field(description="The error code of a refused or failed request.")


class AuditPage(BaseModel):
    service: str = Field(description="The service whose trail this is.")
    total: int = Field(description="Entries matching the filters.")
    limit: int = Field(description="Page size asked for.")
    offset: int = Field(description="Entries skipped.")
    items: list[AuditEntry] = Field(description="Matching entries, newest first.")


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.get("", response_model=AuditPage, summary="Who changed what, when, with what outcome")
async def list_audit(
    request: Request,
    caller: Caller,
    pool: Pool,
    actor: Annotated[
        str | None, Query(max_length=200, pattern=PRINTABLE, description="Exactly this actor.")
    ] = None,
    method: Annotated[Method | None, Query(description="Only this HTTP method.")] = None,
    endpoint: Annotated[
        str | None,
        Query(
            max_length=300, description="Exactly this route, e.g. /v1/boards/{board_id}/publish."
        ),
    ] = None,
    resource: Annotated[
        str | None,
        Query(
            max_length=300,
            pattern=PRINTABLE,
            description="Paths starting with this, e.g. /v1/members/M1.",
        ),
    ] = None,
    outcome: Annotated[Outcome | None, Query(description="ok, refused or failed.")] = None,
    since: Annotated[datetime | None, Query(description="At or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Before (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Entries to skip.")] = 0,
) -> AuditPage:
    caller.require_city()
    filters = AuditFilters(actor, method, endpoint, resource, outcome, _aware(since), _aware(until))
    async with pool.acquire() as conn:
        total, rows = await list_entries(conn, filters, limit, offset)
    return AuditPage(
        service=request.app.state.runtime.settings.service_name,
        total=total,
        limit=limit,
        offset=offset,
        items=[AuditEntry(**dict(r)) for r in rows],
    )
