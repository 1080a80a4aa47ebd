"""Events of the two-way evaluation of resident units (双向考核), members service: how a unit
kept the commitments of its co-building agreements, its yearly report back (述职) to its
community or street with the evaluation it received, and its part-time committee members
(兼职委员) on the community's or street's Party committee."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .registry import register
from .types import Id

UNIT_COMMITMENT_UPDATED = "partygrid.unit.commitment_updated"
UNIT_REVIEWED = "partygrid.unit.reviewed"
UNIT_COMMITTEE_MEMBER_CHANGED = "partygrid.unit.committee_member_changed"


@register(
    UNIT_COMMITMENT_UPDATED,
    "unit_id",
    "A commitment of a unit's co-building agreement was marked planned, done or missed.",
)
class UnitCommitmentUpdated(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    unit_id: Id = Field(description="The resident unit.")
    agreement_id: Id = Field(description="The co-building agreement.")
    commitment_no: int = Field(ge=1, description="The commitment's place in the agreement, from 1.")
    status: Literal["planned", "done", "missed"] = Field(description="Its status now.")
    done_on: date | None = Field(default=None, description="When it was done (status done).")


@register(
    UNIT_REVIEWED,
    "unit_id",
    "A unit reported back (述职) for a year and received an evaluation.",
)
class UnitReviewed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    unit_id: Id = Field(description="The resident unit.")
    year: int = Field(ge=2000, le=2100, description="The year reported on.")
    region_id: Id = Field(description="The community or street the unit reported back to.")
    reported_on: date = Field(description="The day of the report-back.")
    evaluation: Literal["excellent", "good", "fair", "poor"] = Field(
        description="The evaluation it received (优秀, 良好, 一般, 较差)."
    )


@register(
    UNIT_COMMITTEE_MEMBER_CHANGED,
    "unit_id",
    "A member of a unit became, or stopped being, a part-time committee member (兼职委员).",
)
class UnitCommitteeMemberChanged(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    unit_id: Id = Field(description="The resident unit the member comes from.")
    member_id: Id = Field(description="The member.")
    region_id: Id = Field(description="The community or street whose Party committee it is.")
    post: str = Field(min_length=1, max_length=100, description="The post held (e.g. 兼职委员).")
    since: date = Field(description="First day in post.")
    until: date | None = Field(default=None, description="Last day in post, once it ended.")


__all__ = [
    "UNIT_COMMITMENT_UPDATED",
    "UNIT_COMMITTEE_MEMBER_CHANGED",
    "UNIT_REVIEWED",
    "UnitCommitmentUpdated",
    "UnitCommitteeMemberChanged",
    "UnitReviewed",
]
