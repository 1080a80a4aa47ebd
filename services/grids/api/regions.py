"""Routes of the region tree: create, import (CSV), list, read, rename/move/retire/revive, and
a region's path to the root, children and subtree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from shared.api import ERROR_RESPONSES, ApiError, Pool, as_body
from shared.auth import Caller
from shared.events.types import ID_PATTERN, Id, RegionLevel
from shared.refusals import invalid

from ..usecases import regions
from .common import RegionId, StrictIn, context_of

router = APIRouter(responses=ERROR_RESPONSES)
MAX_CSV_BYTES = 5 * 1024 * 1024


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


@router.post("/v1/regions", status_code=201, tags=["regions"], summary="Create a region")
async def create_region(body: RegionIn, request: Request, pool: Pool, caller: Caller) -> dict:
    return as_body(
        await regions.create_region(
            context_of(request, pool, caller), body.region_id, body.level, body.name, body.parent_id
        )
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
    return as_body(
        await regions.import_csv(context_of(request, pool, caller), text, dry_run=dry_run)
    )


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
    return {
        "items": as_body(items),
        "next_after": items[-1].region_id if len(items) == limit else None,
    }


@router.get("/v1/regions/{region_id}", tags=["regions"], summary="One region")
async def get_region(region_id: RegionId, request: Request, pool: Pool, caller: Caller) -> dict:
    return as_body(await regions.get_region(context_of(request, pool, caller), region_id))


@router.patch("/v1/regions/{region_id}", tags=["regions"], summary="Rename, move, retire or revive")
async def update_region(
    region_id: RegionId, body: RegionPatch, request: Request, pool: Pool, caller: Caller
) -> dict:
    if not body.model_fields_set:
        raise invalid("invalid_request", "give name, parent_id and/or retired")
    return as_body(
        await regions.update_region(
            context_of(request, pool, caller),
            region_id,
            name=body.name,
            parent_id=body.parent_id,
            move="parent_id" in body.model_fields_set,
            retired=body.retired,
        )
    )


@router.get("/v1/regions/{region_id}/path", tags=["regions"], summary="Path to the root")
async def region_path(region_id: RegionId, request: Request, pool: Pool, caller: Caller) -> dict:
    items = await regions.region_path(context_of(request, pool, caller), region_id)
    return {"region_id": region_id, "items": as_body(items)}


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
    return {"region_id": region_id, "items": as_body(items)}


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
    return {"region_id": region_id, "items": as_body(items)}
