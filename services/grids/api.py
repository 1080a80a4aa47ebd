"""HTTP API of the grids service (port 8002). Every endpoint needs a bearer token; writes need
a writing role, and street/community admins act only inside their own region.

Region tree (district → street → community → grid → building, keyed by administrative code):
- `POST   /v1/regions`                      create {region_id, level, name, parent_id}
- `PATCH  /v1/regions/{id}`                 rename (name), move (parent_id), retire/revive
                                            (retired); levels must nest, no cycle, no live
                                            children under a retired region
- `POST   /v1/regions/import?dry_run=`      CSV body (text/csv) with header
                                            region_id,level,name,parent_id[,retired]: creates,
                                            renames, moves, retires; all or nothing, errors
                                            carry their line number
- `GET    /v1/regions?level=&orphans=`      list (city-wide tokens); orphans = flagged regions
- `GET    /v1/regions/{id}`, `/path` (to the root), `/children`, `/subtree?max_depth=`
  Every change publishes partygrid.region.defined; outside region.defined events are consumed
  with the same latest-wins rule and flagged `orphan` until their parent is known.

Grids (一网格一支部):
- `GET    /v1/grids/{grid_id}`              leader, workers, household contacts, branch, members
- `PUT    /v1/grids/{grid_id}/staff/{staff_id}`  {role, name, member_id, building_id}; a new
                                            leader replaces the old one
- `DELETE /v1/grids/{grid_id}/staff/{staff_id}`
- `PUT    /v1/grids/{grid_id}/branch`       {party_org_id, name};  `DELETE` detaches it
- `GET    /v1/grids/coverage?within=`       grids lacking a leader, a worker or a branch
- `GET    /v1/grids/{grid_id}/members`      members living in the grid (from member events)
- `GET    /v1/grids/member-counts?within=`  member counts by category per grid
- `POST   /v1/grids/{grid_id}/visits`       log a visit (入户走访); by a member it also
                                            publishes activity.logged (grid_visit);  `GET` lists

Incidents (事在网中办): see incidents_api.py.
Errors are JSON: {"error", "message", "details": [{rule, field, line, …}]}.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.api import ERROR_RESPONSES, ApiError, Pool
from shared.auth import Caller
from shared.events.grids import StaffRole
from shared.events.types import ID_PATTERN, Id, RegionLevel
from shared.refusals import invalid

from .usecases import grids, regions, staff, visits
from .usecases.context import Context

router = APIRouter(responses=ERROR_RESPONSES)
MAX_CSV_BYTES = 5 * 1024 * 1024

RegionId = Annotated[
    str, Path(pattern=ID_PATTERN, description="A region id (administrative code).")
]
GridId = Annotated[str, Path(pattern=ID_PATTERN, description="The id of a region of level grid.")]
StaffId = Annotated[str, Path(pattern=ID_PATTERN, description="The staff member's id.")]
Within = Annotated[
    str | None,
    Query(
        pattern=ID_PATTERN,
        description="Only grids inside this region (default: your scope): a known district, "
        "street, community or grid (retired accepted); anything else is 422.",
    ),
]


def context_of(request: Request, pool: Any, caller: Any) -> Context:
    """The use cases' context of a request: its pool, its caller and this service's source."""
    return Context(pool=pool, caller=caller, source=request.app.state.runtime.settings.source)


class StrictIn(BaseModel):
    """A request body: an unknown field is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class RegionIn(StrictIn):
    region_id: Id = Field(description="The region's administrative code.")
    level: RegionLevel = Field(description="district, street, community, grid or building.")
    name: str = Field(min_length=1, max_length=200, description="The region's name.")
    parent_id: Id | None = Field(
        default=None, description="The parent, one level up; omitted only for a district."
    )


class RegionPatch(StrictIn):
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="New name (rename)."
    )
    parent_id: Id | None = Field(
        default=None, description="New parent, one level up (move); only when given."
    )
    retired: bool | None = Field(
        default=None, description="true retires the region (it must have no live children)."
    )


class StaffIn(StrictIn):
    role: StaffRole = Field(description="leader (网格长), worker (网格员) or household_contact.")
    name: str = Field(min_length=1, max_length=100, description="The person's name.")
    member_id: Id | None = Field(
        default=None,
        description="Party member id, if the person is a member (required for "
        "a household contact).",
    )
    building_id: Id | None = Field(
        default=None, description="For a household contact: a building of this grid."
    )


class BranchIn(StrictIn):
    party_org_id: Id = Field(description="The Party branch's organisation id.")
    name: str = Field(min_length=1, max_length=200, description="The branch's name.")


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


# --- regions -----------------------------------------------------------------------------


@router.post("/v1/regions", status_code=201, tags=["regions"], summary="Create a region")
async def create_region(body: RegionIn, request: Request, pool: Pool, caller: Caller) -> dict:
    return await regions.create_region(
        context_of(request, pool, caller), body.region_id, body.level, body.name, body.parent_id
    )


@router.post(
    "/v1/regions/import",
    tags=["regions"],
    summary="Import regions from CSV (all or nothing)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "Header region_id,level,name,parent_id[,retired]; one region a line.",
        }
    },
)
async def import_regions(
    request: Request,
    pool: Pool,
    caller: Caller,
    dry_run: Annotated[bool, Query(description="Validate only; write nothing.")] = False,
) -> dict:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise ApiError(413, "too_large", f"a CSV import is at most {MAX_CSV_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(
            "malformed_row", f"the file is not UTF-8 (byte {exc.start})", line=None
        ) from None
    return await regions.import_csv(context_of(request, pool, caller), text, dry_run=dry_run)


@router.get("/v1/regions", tags=["regions"], summary="List regions")
async def list_regions(
    request: Request,
    pool: Pool,
    caller: Caller,
    level: Annotated[RegionLevel | None, Query(description="Only this level.")] = None,
    orphans: Annotated[
        bool, Query(description="Only regions flagged orphan (parent unknown) or misplaced.")
    ] = False,
    include_retired: Annotated[bool, Query(description="Include retired regions.")] = False,
    limit: Annotated[int, Query(ge=1, le=5000, description="Page size.")] = 500,
    after: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Page after this region id.")
    ] = None,
) -> dict:
    items = await regions.list_regions(
        context_of(request, pool, caller),
        level=level,
        orphans_only=orphans,
        include_retired=include_retired,
        limit=limit,
        after=after,
    )
    return {"items": items, "next_after": items[-1]["region_id"] if len(items) == limit else None}


@router.get("/v1/regions/{region_id}", tags=["regions"], summary="One region")
async def get_region(region_id: RegionId, request: Request, pool: Pool, caller: Caller) -> dict:
    return await regions.get_region(context_of(request, pool, caller), region_id)


@router.patch("/v1/regions/{region_id}", tags=["regions"], summary="Rename, move, retire or revive")
async def update_region(
    region_id: RegionId, body: RegionPatch, request: Request, pool: Pool, caller: Caller
) -> dict:
    if not body.model_fields_set:
        raise invalid("invalid_request", "give name, parent_id and/or retired")
    return await regions.update_region(
        context_of(request, pool, caller),
        region_id,
        name=body.name,
        parent_id=body.parent_id,
        move="parent_id" in body.model_fields_set,
        retired=body.retired,
    )


@router.get("/v1/regions/{region_id}/path", tags=["regions"], summary="Path to the root")
async def region_path(region_id: RegionId, request: Request, pool: Pool, caller: Caller) -> dict:
    items = await regions.region_path(context_of(request, pool, caller), region_id)
    return {"region_id": region_id, "items": items}


@router.get("/v1/regions/{region_id}/children", tags=["regions"], summary="Direct children")
async def region_children(
    region_id: RegionId,
    request: Request,
    pool: Pool,
    caller: Caller,
    include_retired: Annotated[bool, Query(description="Include retired children.")] = False,
) -> dict:
    items = await regions.region_children(
        context_of(request, pool, caller), region_id, include_retired
    )
    return {"region_id": region_id, "items": items}


@router.get("/v1/regions/{region_id}/subtree", tags=["regions"], summary="Region and descendants")
async def region_subtree(
    region_id: RegionId,
    request: Request,
    pool: Pool,
    caller: Caller,
    include_retired: Annotated[bool, Query(description="Include retired regions.")] = False,
    max_depth: Annotated[int, Query(ge=0, le=4, description="Levels below the region.")] = 4,
) -> dict:
    items = await regions.region_subtree(
        context_of(request, pool, caller), region_id, include_retired, max_depth
    )
    return {"region_id": region_id, "items": items}


# --- grids -------------------------------------------------------------------------------


@router.get("/v1/grids/coverage", tags=["grids"], summary="Grids lacking leader/worker/branch")
async def coverage(request: Request, pool: Pool, caller: Caller, within: Within = None) -> dict:
    return await grids.coverage(context_of(request, pool, caller), within)


@router.get("/v1/grids/member-counts", tags=["grids"], summary="Members by category per grid")
async def member_counts(
    request: Request, pool: Pool, caller: Caller, within: Within = None
) -> dict:
    return await grids.member_counts(context_of(request, pool, caller), within)


@router.get("/v1/grids/{grid_id}", tags=["grids"], summary="Grid staff, branch and members")
async def grid(grid_id: GridId, request: Request, pool: Pool, caller: Caller) -> dict:
    return await grids.grid_overview(context_of(request, pool, caller), grid_id)


@router.put("/v1/grids/{grid_id}/staff/{staff_id}", tags=["grids"], summary="Assign staff")
async def assign_staff(
    grid_id: GridId,
    staff_id: StaffId,
    body: StaffIn,
    request: Request,
    pool: Pool,
    caller: Caller,
) -> dict:
    return await staff.assign_staff(
        context_of(request, pool, caller),
        grid_id,
        staff_id=staff_id,
        role=body.role,
        name=body.name,
        member_id=body.member_id,
        building_id=body.building_id,
    )


@router.delete(
    "/v1/grids/{grid_id}/staff/{staff_id}",
    status_code=204,
    tags=["grids"],
    summary="Remove staff",
)
async def remove_staff(
    grid_id: GridId, staff_id: StaffId, request: Request, pool: Pool, caller: Caller
) -> Response:
    await staff.remove_staff(context_of(request, pool, caller), grid_id, staff_id)
    return Response(status_code=204)


@router.put("/v1/grids/{grid_id}/branch", tags=["grids"], summary="Attach the Party branch")
async def attach_branch(
    grid_id: GridId, body: BranchIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return await staff.attach_branch(
        context_of(request, pool, caller), grid_id, body.party_org_id, body.name
    )


@router.delete(
    "/v1/grids/{grid_id}/branch", status_code=204, tags=["grids"], summary="Detach the branch"
)
async def detach_branch(grid_id: GridId, request: Request, pool: Pool, caller: Caller) -> Response:
    await staff.detach_branch(context_of(request, pool, caller), grid_id)
    return Response(status_code=204)


@router.get("/v1/grids/{grid_id}/members", tags=["grids"], summary="Members living in the grid")
async def grid_members(grid_id: GridId, request: Request, pool: Pool, caller: Caller) -> dict:
    return await grids.grid_members(context_of(request, pool, caller), grid_id)


@router.post(
    "/v1/grids/{grid_id}/visits", status_code=201, tags=["visits"], summary="Log a grid visit"
)
async def log_visit(
    grid_id: GridId, body: VisitIn, request: Request, pool: Pool, caller: Caller
) -> dict:
    return await visits.log_visit(
        context_of(request, pool, caller),
        grid_id,
        staff_id=body.staff_id,
        households=body.households,
        duration_minutes=body.duration_minutes,
        notes=body.notes,
        visited_at=body.visited_at,
        visit_id=body.visit_id,
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
    return {"grid_id": grid_id, "items": items}


__all__ = ["router"]
