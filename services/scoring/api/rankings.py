"""Rankings and the lists drawn from them, read from the maintained aggregates (never
recomputed per request).

- GET /v1/rankings/streets?period=&metric=               streets (avg_points, total_points,
                                                          participation_rate)
- GET /v1/rankings/communities?period=&street_id=&metric=
- GET /v1/rankings/grids?period=&community_id=&metric=
- GET /v1/rankings/members?period=&community_id=|grid_id=|street_id=&limit=&offset=
- GET /v1/zero-points?period=&community_id=|grid_id=|street_id=      零分党员
- GET /v1/organization-life/missing?period=2026-Q4&community_id=      hard criterion

The reads are the use cases of `usecases.rankings`; the routes answer them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..usecases import rankings
from ..usecases.figures import Figures
from .params import (
    FIGURES_DOC,
    FiguresParam,
    Limit,
    MetricParam,
    Offset,
    OptId,
    PeriodParam,
    Points,
    ScopeParams,
    metric_of,
    period_of,
)

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)


class RegionItem(BaseModel):
    rank: int = Field(description="Competition rank (1, 2, 2, 4).")
    region_id: str = Field(description="The street, community or grid.")
    name: str = Field(description="Its name.")
    score: Points = Field(description="The metric's value.")
    members: int = Field(description="Members counted in it.")
    total_points: Points = Field(description="Total points of its members in the period.")
    active_members: int = Field(description="Members with points above zero in the period.")


class RegionRanking(BaseModel):
    period: str = Field(description="The period.")
    metric: str = Field(description="The metric ranked by.")
    total: int = Field(description="Items before paging.")
    items: list[RegionItem] = Field(description="The ranked items of this page.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/rankings/streets", response_model=RegionRanking)
async def rank_streets(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: PeriodParam = None,
    metric: MetricParam = "avg_points",
    limit: Limit = 100,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> RegionRanking:
    p, m = period_of(request, period), metric_of(metric)
    found = await rankings.streets(pool, p, m, limit, offset, figures)
    return RegionRanking.model_validate(as_body(found))


@router.get("/rankings/communities", response_model=RegionRanking)
async def rank_communities(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: PeriodParam = None,
    street_id: OptId = None,
    metric: MetricParam = "avg_points",
    limit: Limit = 100,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> RegionRanking:
    p, m = period_of(request, period), metric_of(metric)
    found = await rankings.children(pool, p, m, "community", street_id, limit, offset, figures)
    return RegionRanking.model_validate(as_body(found))


@router.get("/rankings/grids", response_model=RegionRanking)
async def rank_grids(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: PeriodParam = None,
    community_id: OptId = None,
    metric: MetricParam = "avg_points",
    limit: Limit = 100,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> RegionRanking:
    p, m = period_of(request, period), metric_of(metric)
    found = await rankings.children(pool, p, m, "grid", community_id, limit, offset, figures)
    return RegionRanking.model_validate(as_body(found))


class MemberItem(BaseModel):
    rank: int = Field(description="Competition rank in the scope.")
    member_id: str = Field(description="The member.")
    name: str | None = Field(description="The member's name, if registered.")
    score: Points = Field(description="Points in the period.")
    community_id: str | None = Field(description="The member's current community.")
    grid_id: str | None = Field(description="The member's current grid.")
    org_life_missed: bool = Field(
        default=False, description="Missed organisation life in the period (hard criterion)."
    )


class MemberRanking(BaseModel):
    period: str = Field(description="The period.")
    metric: str = Field(description="Always points.")
    total: int = Field(description="Members in the scope.")
    items: list[MemberItem] = Field(description="The ranked members of this page.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/rankings/members", response_model=MemberRanking)
async def rank_members(
    request: Request,
    pool: Pool,
    scope: ScopeParams,
    period: PeriodParam = None,
    limit: Limit = 50,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> MemberRanking:
    p = period_of(request, period)
    found = await rankings.members(pool, p, scope, limit, offset, figures)
    return MemberRanking.model_validate(as_body(found))


class ZeroItem(BaseModel):
    member_id: str = Field(description="The member.")
    name: str | None = Field(description="The member's name, if registered.")
    community_id: str | None = Field(description="Current community.")
    points: Points = Field(description="Points in the period (zero or below).")


class ZeroPoints(BaseModel):
    period: str = Field(description="The period.")
    count: int = Field(description="Number of counted members with points <= 0.")
    items: list[ZeroItem] = Field(description="Those members, by member id.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/zero-points", response_model=ZeroPoints)
async def zero_points(
    request: Request,
    pool: Pool,
    scope: ScopeParams,
    period: PeriodParam = None,
    figures: FiguresParam = None,
) -> ZeroPoints:
    p = period_of(request, period)
    return ZeroPoints.model_validate(as_body(await rankings.zero_points(pool, p, scope, figures)))


class MissingItem(BaseModel):
    member_id: str = Field(description="The member.")
    name: str | None = Field(description="The member's name, if registered.")
    community_id: str | None = Field(description="Current community.")


class MissingOrganizationLife(BaseModel):
    period: str = Field(description="The quarter (or other period) checked.")
    count: int = Field(description="Counted members with no organization_life in the period.")
    items: list[MissingItem] = Field(description="Those members, by member id.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/organization-life/missing", response_model=MissingOrganizationLife)
async def organization_life_missing(
    request: Request,
    pool: Pool,
    scope: ScopeParams,
    period: Annotated[str, Query(description="Usually a quarter: 2026-Q4.")],
    figures: FiguresParam = None,
) -> MissingOrganizationLife:
    p = period_of(request, period)
    found = await rankings.missing_org_life(pool, p, scope, figures)
    return MissingOrganizationLife.model_validate(as_body(found))
