"""HTTP API of the two-way evaluation of resident units (双向考核), members service.

PUT /v1/units/{id}/agreements/{agreement_id}/commitments/{no}
      {status: planned|done|missed, done_on, note}  (partygrid.unit.commitment_updated)
PUT /v1/units/{id}/reviews/{year}
      the yearly report back (述职) {region_id, reported_on, evaluation, note}
      (partygrid.unit.reviewed)
PUT /v1/units/{id}/committee-members/{member_id}
      a part-time committee member (兼职委员) {region_id, post, since, until}
      (partygrid.unit.committee_member_changed)
GET /v1/units/{id}/evaluation?year=      the unit's score for the year and its parts
GET /v1/unit-evaluations?within=&year=   the units of a community or street, ranked
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.types import ID_PATTERN, Id

from ..usecases import evaluation
from .common import Source

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["unit evaluation"])

UnitId = Annotated[str, Path(pattern=ID_PATTERN, description="The resident unit's id.")]
Year = Annotated[int, Path(ge=2000, le=2100, description="The year.")]
YearQuery = Annotated[
    int | None, Query(ge=2000, le=2100, description="The year (default: this year).")
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommitmentStatusIn(_In):
    status: Literal["planned", "done", "missed"] = Field(description="The commitment's status.")
    done_on: date | None = Field(default=None, description="When it was done (status done).")
    note: str | None = Field(default=None, max_length=1000, description="What was done or why not.")


class CommitmentStatusOut(CommitmentStatusIn):
    agreement_id: str = Field(description="The agreement.")
    commitment_no: int = Field(description="The commitment's place in it, from 1.")


class ReviewIn(_In):
    region_id: Id = Field(description="The unit's community or street it reported back to.")
    reported_on: date = Field(description="The day of the report-back (that year or the next).")
    evaluation: Literal["excellent", "good", "fair", "poor"] = Field(
        description="The evaluation received (优秀, 良好, 一般, 较差)."
    )
    note: str | None = Field(default=None, max_length=2000, description="Remarks.")


class ReviewOut(ReviewIn):
    unit_id: str = Field(description="The unit.")
    year: int = Field(description="The year reported on.")


class CommitteeMemberIn(_In):
    region_id: Id = Field(description="The unit's community or street whose committee it is.")
    post: str = Field(default="兼职委员", min_length=1, max_length=100, description="The post.")
    since: date = Field(description="First day in post.")
    until: date | None = Field(default=None, description="Last day in post, once it ended.")


class CommitteeMemberOut(CommitteeMemberIn):
    unit_id: str = Field(description="The unit.")
    member_id: str = Field(description="The member (of the unit's Party organisation).")


class EvaluationOut(BaseModel):
    unit_id: str = Field(description="The unit.")
    name: str = Field(description="Its name.")
    community_id: str = Field(description="The community it reported to.")
    street_id: str | None = Field(description="That community's street.")
    year: int = Field(description="The year evaluated.")
    commitments_due: int = Field(description="Commitments of the year.")
    commitments_done: int = Field(description="Of those, done.")
    evaluation: str | None = Field(description="The report-back's evaluation, if any.")
    in_service_members: int = Field(description="Active in-service members of its organisation.")
    participating_members: int = Field(description="Of those, with points in the year.")
    commitments_score: Decimal = Field(description="Out of 40.")
    review_score: Decimal = Field(description="Out of 30.")
    participation_score: Decimal = Field(description="Out of 30.")
    score: Decimal = Field(description="The total, out of 100.")
    review: dict[str, Any] | None = Field(description="The report-back of the year.")
    committee_members: list[dict[str, Any]] = Field(description="Its part-time committee members.")
    rank: int | None = Field(default=None, description="Rank among the listed units (rankings).")


class RankingOut(BaseModel):
    within: str = Field(description="The community or street.")
    year: int = Field(description="The year.")
    items: list[EvaluationOut] = Field(description="Units, best first.")


@router.put(
    "/units/{unit_id}/agreements/{agreement_id}/commitments/{no}",
    response_model=CommitmentStatusOut,
    summary="Mark a commitment of an agreement planned, done or missed",
)
async def set_commitment(
    unit_id: UnitId,
    agreement_id: Annotated[str, Path(pattern=ID_PATTERN, description="The agreement.")],
    no: Annotated[int, Path(ge=1, le=100, description="The commitment's place, from 1.")],
    body: CommitmentStatusIn,
    source: Source,
    pool: Pool,
    caller: Caller,
) -> dict[str, Any]:
    caller.require_write()
    return as_body(
        await evaluation.set_commitment(
            pool, source, caller, unit_id, agreement_id, no, body.model_dump()
        )
    )


@router.put(
    "/units/{unit_id}/reviews/{year}",
    response_model=ReviewOut,
    summary="Record the unit's yearly report back (述职) and its evaluation",
)
async def record_review(
    unit_id: UnitId, year: Year, body: ReviewIn, source: Source, pool: Pool, caller: Caller
) -> dict[str, Any]:
    caller.require_write()
    return as_body(
        await evaluation.record_review(pool, source, caller, unit_id, year, body.model_dump())
    )


@router.put(
    "/units/{unit_id}/committee-members/{member_id}",
    response_model=CommitteeMemberOut,
    summary="Record a part-time committee member (兼职委员) from the unit",
)
async def set_committee_member(
    unit_id: UnitId,
    member_id: Annotated[str, Path(pattern=ID_PATTERN, description="The member.")],
    body: CommitteeMemberIn,
    source: Source,
    pool: Pool,
    caller: Caller,
) -> dict[str, Any]:
    caller.require_write()
    return as_body(
        await evaluation.set_committee_member(
            pool, source, caller, unit_id, {"member_id": member_id, **body.model_dump()}
        )
    )


@router.get(
    "/units/{unit_id}/evaluation",
    response_model=EvaluationOut,
    summary="A unit's score for a year",
)
async def unit_evaluation(
    unit_id: UnitId, pool: Pool, caller: Caller, year: YearQuery = None
) -> dict[str, Any]:
    return as_body(
        await evaluation.unit_evaluation(pool, caller, unit_id, year or evaluation.this_year())
    )


@router.get(
    "/unit-evaluations",
    response_model=RankingOut,
    summary="The units of a community or street ranked by their score",
)
async def ranking(
    pool: Pool,
    caller: Caller,
    within: Annotated[str, Query(pattern=ID_PATTERN, description="A community or street.")],
    year: YearQuery = None,
) -> dict[str, Any]:
    year = year or evaluation.this_year()
    return {
        "within": within,
        "year": year,
        "items": as_body(await evaluation.ranking(pool, caller, within, year)),
    }
