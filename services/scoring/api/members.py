"""A member's own figures: points by type and rank in each scope they count in.

- GET /v1/members/{member_id}/points?period=2026-11&figures=
- GET /v1/members/{member_id}/rank?period=2026-11&figures=
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..usecases.figures import Figures, choose
from ..usecases.reads import member_standing
from .params import FIGURES_DOC, FiguresParam, IdParam, PeriodParam, Points, period_of

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)


class MemberPoints(BaseModel):
    member_id: str = Field(description="The member.")
    period: str = Field(description="The period asked for.")
    points: Points = Field(description="Total points in the period (2 decimals).")
    by_type: dict[str, Points] = Field(description="Points per activity type in the period.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/members/{member_id}/points", response_model=MemberPoints)
async def get_member_points(
    request: Request,
    pool: Pool,
    caller: Caller,
    member_id: IdParam,
    period: PeriodParam = None,
    figures: FiguresParam = None,
) -> MemberPoints:
    p = period_of(request, period)
    src, _ = await choose(pool, p.label, figures)
    s = await member_standing(pool, caller, member_id, p, src, ranks=False)
    return MemberPoints.model_validate(as_body(s))


class ScopeRank(BaseModel):
    scope: Literal["grid", "community", "street", "city"] = Field(description="Scope ranked in.")
    scope_id: str | None = Field(description="Id of the grid, community or street.")
    rank: int = Field(description="Competition rank in the scope.")
    members: int = Field(description="Members counted in the scope.")


class MemberRank(BaseModel):
    member_id: str = Field(description="The member.")
    period: str = Field(description="The period.")
    points: Points = Field(description="The member's points in the period.")
    counted: bool = Field(description="False if not reported or deregistered (no ranks then).")
    ranks: list[ScopeRank] = Field(description="Rank in each scope the member counts in.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/members/{member_id}/rank", response_model=MemberRank)
async def get_member_rank(
    request: Request,
    pool: Pool,
    caller: Caller,
    member_id: IdParam,
    period: PeriodParam = None,
    figures: FiguresParam = None,
) -> MemberRank:
    p = period_of(request, period)
    src, _ = await choose(pool, p.label, figures)
    s = await member_standing(pool, caller, member_id, p, src, ranks=True)
    return MemberRank.model_validate(as_body(s))
