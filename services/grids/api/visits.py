"""Routes of grid visits (入户走访): log a visit, list a grid's recent visits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.types import Id

from ..usecases import visits
from .common import GridId, StrictIn, context_of

router = APIRouter(responses=ERROR_RESPONSES)


class VisitIn(StrictIn):
    staff_id: Id = Field(description="The leader or worker of this grid who visited.")
    households: int = Field(ge=1, le=1000, description="Number of households visited.")
    duration_minutes: int = Field(ge=1, le=1440, description="Length of the visit in minutes.")
    notes: str = Field(default="", max_length=4000, description="What was found or done.")
    visited_at: AwareDatetime | None = Field(
        default=None, description="When the visit took place (default now)."
    )
    visit_id: Id | None = Field(
        default=None, description="Client-chosen id, makes retries safe (a repeat is 409)."
    )


@router.post(
    "/v1/grids/{grid_id}/visits", status_code=201, tags=["visits"], summary="Log a grid visit"
)
async def log_visit(
    grid_id: GridId, body: VisitIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return as_body(
        await visits.log_visit(
            context_of(request, pool, caller),
            grid_id,
            staff_id=body.staff_id,
            households=body.households,
            duration_minutes=body.duration_minutes,
            notes=body.notes,
            visited_at=body.visited_at,
            visit_id=body.visit_id,
        )
    )


@router.get("/v1/grids/{grid_id}/visits", tags=["visits"], summary="Recent visits")
async def list_visits(
    grid_id: GridId,
    request: Request,
    pool: Pool,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> dict:
    items = await visits.list_visits(context_of(request, pool, caller), grid_id, limit)
    return {"grid_id": grid_id, "items": as_body(items)}
