"""HTTP API of incidents (事在网中办), grids service (port 8002).

Incidents (事在网中办):
- `POST   /v1/grids/{grid_id}/incidents`    report {category, title, description,
                                            time_limit_hours}
- `GET    /v1/incidents?grid_id=&within=&status=&overdue=&supervised=`, `GET /v1/incidents/{id}`
- `POST   /v1/incidents/{id}/assign|resolve|close|supervise`  an action not allowed in the
                                            current status answers 409 invalid_transition
Errors are JSON: {"error", "message", "details": [{rule, field, …}]}.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.grids import IncidentCategory, IncidentStatus
from shared.events.types import ID_PATTERN, Id

from ..usecases import incidents
from .common import GridId, StrictIn, Within, context_of

router = APIRouter(responses=ERROR_RESPONSES)

IncidentId = Annotated[str, Path(pattern=ID_PATTERN, description="The incident's id.")]


class IncidentIn(StrictIn):
    category: IncidentCategory = Field(description="What kind of matter it is.")
    title: str = Field(min_length=1, max_length=200, description="A short title.")
    description: str = Field(default="", max_length=4000, description="Details.")
    time_limit_hours: float = Field(
        gt=0, le=24 * 90, description="Hours from reporting until it must be resolved."
    )
    reported_at: AwareDatetime | None = Field(
        default=None, description="When it was reported (default now)."
    )


class AssignIn(StrictIn):
    assignee_id: Id = Field(description="A staff member of the incident's grid.")


class ResolveIn(StrictIn):
    resolution: str = Field(min_length=1, max_length=4000, description="How it was resolved.")


class CloseIn(StrictIn):
    note: str | None = Field(default=None, max_length=2000, description="Optional closing note.")


class SuperviseIn(StrictIn):
    note: str = Field(default="", max_length=2000, description="The supervisor's instruction.")
    due_at: AwareDatetime | None = Field(
        default=None, description="A new time limit, if supervision changes it."
    )


@router.post(
    "/v1/grids/{grid_id}/incidents",
    status_code=201,
    tags=["incidents"],
    summary="Report an incident",
)
async def report_incident(
    grid_id: GridId, body: IncidentIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return as_body(
        await incidents.report_incident(
            context_of(request, pool, caller),
            grid_id,
            category=body.category,
            title=body.title,
            description=body.description,
            time_limit_hours=body.time_limit_hours,
            reported_at=body.reported_at,
        )
    )


@router.get("/v1/incidents", tags=["incidents"], summary="List incidents")
async def list_incidents(
    request: Request,
    pool: Pool,
    caller: Caller,
    grid_id: Annotated[
        str | None,
        Query(pattern=ID_PATTERN, description="Only this grid (a known grid, retired accepted)."),
    ] = None,
    within: Within = None,
    status: Annotated[IncidentStatus | None, Query(description="Only this status.")] = None,
    overdue: Annotated[bool, Query(description="Only unresolved past their limit.")] = False,
    supervised: Annotated[bool, Query(description="Only those under supervision.")] = False,
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many.")] = 500,
) -> dict:
    items = await incidents.list_incidents(
        context_of(request, pool, caller),
        grid_id=grid_id,
        within=within,
        status=status,
        overdue_only=overdue,
        supervised_only=supervised,
        limit=limit,
    )
    return {"items": as_body(items)}


@router.get("/v1/incidents/{incident_id}", tags=["incidents"], summary="One incident")
async def get_incident(
    incident_id: IncidentId, request: Request, pool: Pool, caller: Caller
) -> dict:
    return as_body(await incidents.get_incident(context_of(request, pool, caller), incident_id))


@router.post("/v1/incidents/{incident_id}/assign", tags=["incidents"], summary="Assign")
async def assign_incident(
    incident_id: IncidentId, body: AssignIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return as_body(
        await incidents.transition(
            context_of(request, pool, caller), incident_id, "assign", assignee_id=body.assignee_id
        )
    )


@router.post("/v1/incidents/{incident_id}/resolve", tags=["incidents"], summary="Resolve")
async def resolve_incident(
    incident_id: IncidentId, body: ResolveIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return as_body(
        await incidents.transition(
            context_of(request, pool, caller), incident_id, "resolve", resolution=body.resolution
        )
    )


@router.post("/v1/incidents/{incident_id}/close", tags=["incidents"], summary="Close")
async def close_incident(
    incident_id: IncidentId, body: CloseIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return as_body(
        await incidents.transition(
            context_of(request, pool, caller), incident_id, "close", note=body.note
        )
    )


@router.post(
    "/v1/incidents/{incident_id}/supervise",
    tags=["incidents"],
    summary="Put under supervision (督办)",
)
async def supervise_incident(
    incident_id: IncidentId, body: SuperviseIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return as_body(
        await incidents.transition(
            context_of(request, pool, caller),
            incident_id,
            "supervise",
            note=body.note,
            due_at=body.due_at,
        )
    )
