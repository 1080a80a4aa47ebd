"""Routes of grids (一网格一支部): coverage, member counts, a grid's overview, its staff and
Party branch, and the members living in it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.grids import StaffRole
from shared.events.types import Id

from ..usecases import grids, staff
from .common import GridId, StaffId, StrictIn, Within, context_of

router = APIRouter(responses=ERROR_RESPONSES)


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


@router.get("/v1/grids/coverage", tags=["grids"], summary="Grids lacking leader/worker/branch")
async def coverage(request: Request, pool: Pool, caller: Caller, within: Within = None) -> dict:
    return as_body(await grids.coverage(context_of(request, pool, caller), within))


@router.get("/v1/grids/member-counts", tags=["grids"], summary="Members by category per grid")
async def member_counts(
    request: Request, pool: Pool, caller: Caller, within: Within = None
) -> dict:
    return as_body(await grids.member_counts(context_of(request, pool, caller), within))


@router.get("/v1/grids/{grid_id}", tags=["grids"], summary="Grid staff, branch and members")
async def grid(grid_id: GridId, request: Request, pool: Pool, caller: Caller) -> dict:
    return as_body(await grids.grid_overview(context_of(request, pool, caller), grid_id))


@router.put("/v1/grids/{grid_id}/staff/{staff_id}", tags=["grids"], summary="Assign staff")
async def assign_staff(
    grid_id: GridId,
    staff_id: StaffId,
    body: StaffIn,
    request: Request,
    pool: Pool,
    caller: Caller,
) -> dict:
    return as_body(
        await staff.assign_staff(
            context_of(request, pool, caller),
            grid_id,
            staff_id=staff_id,
            role=body.role,
            name=body.name,
            member_id=body.member_id,
            building_id=body.building_id,
        )
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
    return as_body(
        await staff.attach_branch(
            context_of(request, pool, caller), grid_id, body.party_org_id, body.name
        )
    )


@router.delete(
    "/v1/grids/{grid_id}/branch", status_code=204, tags=["grids"], summary="Detach the branch"
)
async def detach_branch(grid_id: GridId, request: Request, pool: Pool, caller: Caller) -> Response:
    await staff.detach_branch(context_of(request, pool, caller), grid_id)
    return Response(status_code=204)


@router.get("/v1/grids/{grid_id}/members", tags=["grids"], summary="Members living in the grid")
async def grid_members(grid_id: GridId, request: Request, pool: Pool, caller: Caller) -> dict:
    return as_body(await grids.grid_members(context_of(request, pool, caller), grid_id))
