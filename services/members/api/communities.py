"""Routes of what a community sees of 双报到: the members and units reported there and its
reporting rate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.types import MemberCategory

from ..models import MemberList, ReportingRate, UnitOut
from ..usecases import reports, units

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["communities"])


@router.get(
    "/communities/{community_id}/members", summary="Members currently reported to a community"
)
async def community_members(
    community_id: str,
    pool: Pool,
    caller: Caller,
    category: Annotated[MemberCategory | None, Query(description="Only this category.")] = None,
) -> MemberList:
    items = as_body(await reports.community_members(pool, caller, community_id, category))
    return MemberList.model_validate({"items": items, "total": len(items)})


@router.get(
    "/communities/{community_id}/reporting-rate",
    summary="双报到 rate of in-service members living in a community",
)
async def community_reporting_rate(community_id: str, pool: Pool, caller: Caller) -> ReportingRate:
    return ReportingRate(**as_body(await reports.reporting_rate(pool, caller, community_id)))


@router.get(
    "/communities/{community_id}/units",
    response_model=list[UnitOut],
    summary="Units reported to a community",
)
async def community_units(community_id: str, pool: Pool, caller: Caller) -> list[dict[str, Any]]:
    return as_body(await units.community_units(pool, caller, community_id))
