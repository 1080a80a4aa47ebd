"""Period close (results that hold): a city admin closes a month, quarter, half or year; its
figures are frozen as the published ones and `partygrid.period.closed` is sent with a summary
(closing a half also sends `partygrid.feedback.issued` per Party organisation). Reads of a
closed period answer from the frozen figures unless `figures=live` is asked for. What arrives
later for the period is listed as its adjustments. Reopening needs a reason; every close and
reopen is kept in the period's history.

- GET  /v1/periods?status=                       closed and reopened periods, latest end first
                                                 (the ranking board opens on the first closed)
- GET  /v1/periods/{period}                      status, summary, history
- POST /v1/periods/{period}/close                close (again, after a reopen)
- POST /v1/periods/{period}/reopen  {reason}     reopen
- GET  /v1/periods/{period}/adjustments          what changed since the close (adjustments.py)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..domain.periods import Period
from ..usecases import periods
from .params import period_of as _period

router = APIRouter(prefix="/v1/periods", tags=["periods"], responses=ERROR_RESPONSES)
PeriodPath = Path(description="2026-11, 2026-Q4, 2026-H2 or 2026.")


class HistoryItem(BaseModel):
    action: Literal["closed", "reopened"] = Field(description="What happened.")
    at: datetime = Field(description="When.")
    by: str | None = Field(description="Who (the caller's name).")
    reason: str | None = Field(description="Why (required to reopen).")


class PeriodOut(BaseModel):
    period: str = Field(description="The period.")
    status: Literal["open", "closed", "reopened"] = Field(
        description="open: never closed; closed: reads give the closed figures by default."
    )
    starts_at: datetime = Field(description="The period's first instant (city time zone).")
    ends_at: datetime = Field(description="The instant after the period (city time zone).")
    closed_at: datetime | None = Field(description="When it was (last) closed.")
    closed_by: str | None = Field(description="Who closed it.")
    summary: dict[str, object] | None = Field(description="The figures announced at the close.")
    history: list[HistoryItem] = Field(description="Every close and reopen, oldest first.")


class ReopenIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, description="Why it is reopened.")


async def _out(request: Request, pool: Pool, p: Period) -> PeriodOut:
    status = await periods.status(pool, p, request.app.state.runtime.settings.tz)
    return PeriodOut.model_validate(as_body(status))


@router.get("", response_model=list[PeriodOut])
async def list_periods(
    request: Request,
    pool: Pool,
    caller: Caller,
    status: Annotated[
        Literal["closed", "reopened"] | None, Query(description="Only periods in this state.")
    ] = None,
) -> list[PeriodOut]:
    """Periods ever closed, the one ending latest first (a year before its last month; equal
    ends, the later close first): the first closed one is the latest published results."""
    listed = await periods.listed(pool, status, request.app.state.runtime.settings.tz)
    return [PeriodOut.model_validate(as_body(p)) for p in listed]


@router.get("/{period}", response_model=PeriodOut)
async def get_period(
    request: Request, pool: Pool, caller: Caller, period: str = PeriodPath
) -> PeriodOut:
    return await _out(request, pool, _period(request, period))


@router.post("/{period}/close", response_model=PeriodOut)
async def close_period(
    request: Request, pool: Pool, caller: Caller, period: str = PeriodPath
) -> PeriodOut:
    caller.require_city()
    p = _period(request, period)
    await periods.close(pool, p, caller.name, request.app.state.runtime.settings.source)
    return await _out(request, pool, p)


@router.post("/{period}/reopen", response_model=PeriodOut)
async def reopen_period(
    request: Request, pool: Pool, caller: Caller, body: ReopenIn, period: str = PeriodPath
) -> PeriodOut:
    caller.require_city()
    p = _period(request, period)
    await periods.reopen(pool, p, body.reason)
    return await _out(request, pool, p)
