"""HTTP API of the daily visiting duty of grid workers (grids service).

GET /v1/visit-duty?period=&within=&met=     who met the duty and who did not: per worker,
                                            and per grid, community and street
GET /v1/visit-duty/setting, PUT (city_admin) minutes per day and the weekdays it applies to
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.types import ID_PATTERN

from ..usecases import visitduty
from .common import context_of

router = APIRouter(prefix="/v1/visit-duty", responses=ERROR_RESPONSES, tags=["visit duty"])


class SettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes_per_day: int = Field(
        ge=1, le=1440, description="Minutes of visits a grid worker owes each duty day."
    )
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default=[1, 2, 3, 4, 5, 6, 7],
        min_length=1,
        max_length=7,
        description="Days of the week the duty applies to, ISO numbers (Monday 1 … Sunday 7).",
    )


class SettingOut(BaseModel):
    minutes_per_day: int = Field(description="Minutes owed each duty day (default 120).")
    weekdays: list[int] = Field(description="Duty days of the week (Monday 1 … Sunday 7).")
    updated_at: datetime | None = Field(description="When it was last changed (null: default).")


class WorkerDuty(BaseModel):
    staff_id: str = Field(description="The grid leader or worker.")
    role: str = Field(description="leader or worker.")
    grid_id: str = Field(description="Their grid.")
    community_id: str | None = Field(description="The grid's community.")
    street_id: str | None = Field(description="The community's street.")
    minutes: int = Field(description="Minutes of visits logged in the period.")
    duty_days: int = Field(description="Days of the period owed so far.")
    days_met: int = Field(description="Of those, days with enough minutes.")
    days_missed: list[date] = Field(description="Days owed without enough minutes.")
    met: bool = Field(description="Met on every day owed.")


class RegionDuty(BaseModel):
    region_id: str = Field(description="The grid, community or street.")
    workers: int = Field(description="Leaders and workers of its grids.")
    met: int = Field(description="Of those, how many met the duty.")
    not_met: int = Field(description="How many did not.")


class DutyOut(BaseModel):
    within: str | None = Field(description="The region it is restricted to.")
    period: str = Field(description="The day, ISO week or month.")
    kind: str = Field(description="day, week or month.")
    minutes_per_day: int = Field(description="The duty in force.")
    weekdays: list[int] = Field(description="Duty days of the week.")
    workers: list[WorkerDuty] = Field(description="Per worker (filtered by `met` if given).")
    by_grid: list[RegionDuty] = Field(description="Per grid.")
    by_community: list[RegionDuty] = Field(description="Per community.")
    by_street: list[RegionDuty] = Field(description="Per street.")


@router.get("", response_model=DutyOut, summary="Who met the daily visiting duty")
async def visit_duty(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: Annotated[
        str | None,
        Query(
            max_length=10,
            description="A day (2026-11-21), ISO week (2026-W47) or month (2026-11); "
            "default today.",
        ),
    ] = None,
    within: Annotated[
        str | None,
        Query(
            pattern=ID_PATTERN, description="Only grids inside this region (default: your scope)."
        ),
    ] = None,
    met: Annotated[
        bool | None, Query(description="Only workers who met (true) or did not (false).")
    ] = None,
) -> dict[str, Any]:
    tz = request.app.state.runtime.settings.tz
    return as_body(
        await visitduty.visit_duty(context_of(request, pool, caller), tz, period, within, met)
    )


@router.get("/setting", response_model=SettingOut, summary="The duty's setting")
async def get_setting(request: Request, pool: Pool, caller: Caller) -> dict[str, Any]:
    return as_body(await visitduty.get_setting(context_of(request, pool, caller)))


@router.put("/setting", response_model=SettingOut, summary="Change the duty (city_admin)")
async def put_setting(
    body: SettingIn, request: Request, pool: Pool, caller: Caller
) -> dict[str, Any]:
    return as_body(
        await visitduty.put_setting(
            context_of(request, pool, caller), body.minutes_per_day, body.weekdays
        )
    )
