"""Rankings and the lists drawn from them, read from the maintained aggregates (never
recomputed per request).

- GET /v1/rankings/streets?period=&metric=               streets (avg_points, total_points,
                                                          participation_rate)
- GET /v1/rankings/communities?period=&street_id=&metric=
- GET /v1/rankings/grids?period=&community_id=&metric=
- GET /v1/rankings/members?period=&community_id=|grid_id=|street_id=&limit=&offset=
- GET /v1/zero-points?period=&community_id=|grid_id=|street_id=      零分党员
- GET /v1/organization-life/missing?period=2026-Q4&community_id=      hard criterion
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool
from shared.auth import Caller
from shared.events import RegionLevel

from ..domain.periods import Period
from ..persistence import live as q
from ..persistence.orglife import missed_among
from ..usecases.figures import Figures, choose
from ..usecases.reads import known_region
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


def _region_ranking(
    period: Period, metric: str, rows: list[q.RegionRow], limit: int, offset: int, fig: Figures
) -> RegionRanking:
    ranked = q.rank_regions(rows, metric)
    items = [
        RegionItem(
            rank=rank,
            region_id=r.region_id,
            name=r.name,
            score=score,
            members=r.members,
            total_points=r.total,
            active_members=r.positive,
        )
        for rank, r, score in ranked[offset : offset + limit]
    ]
    return RegionRanking(
        period=period.label, metric=metric, total=len(ranked), items=items, figures=fig
    )


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
    src, fig = await choose(pool, p.label, figures)
    return _region_ranking(p, m, await src.street_rows(pool, p.label), limit, offset, fig)


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
    src, fig = await choose(pool, p.label, figures)
    await known_region(pool, street_id, RegionLevel.STREET, "street_id")
    return _region_ranking(
        p, m, await src.child_rows(pool, p.label, "community", street_id), limit, offset, fig
    )


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
    src, fig = await choose(pool, p.label, figures)
    await known_region(pool, community_id, RegionLevel.COMMUNITY, "community_id")
    return _region_ranking(
        p, m, await src.child_rows(pool, p.label, "grid", community_id), limit, offset, fig
    )


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
    src, fig = await choose(pool, p.label, figures)
    total, rows = await src.member_ranking(pool, p.label, scope, limit, offset)
    missed = await missed_among(pool, p, [r["member_id"] for r in rows], fig == "closed")
    return MemberRanking(
        figures=fig,
        period=p.label,
        metric="points",
        total=total,
        items=[
            MemberItem(
                rank=r["rank"],
                member_id=r["member_id"],
                name=r["name"],
                score=r["points"],
                community_id=r["community_id"],
                grid_id=r["grid_id"],
                org_life_missed=r["member_id"] in missed,
            )
            for r in rows
        ],
    )


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
    src, fig = await choose(pool, p.label, figures)
    rows = await src.zero_point_members(pool, p.label, scope)
    return ZeroPoints(
        figures=fig,
        period=p.label,
        count=len(rows),
        items=[
            ZeroItem(
                member_id=r["member_id"],
                name=r["name"],
                community_id=r["community_id"],
                points=r["points"],
            )
            for r in rows
        ],
    )


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
    src, fig = await choose(pool, p.label, figures)
    rows = await src.missing_organization_life(pool, p, scope)
    return MissingOrganizationLife(
        figures=fig,
        period=p.label,
        count=len(rows),
        items=[
            MissingItem(member_id=r["member_id"], name=r["name"], community_id=r["community_id"])
            for r in rows
        ],
    )
