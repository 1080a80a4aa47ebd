"""Request and response models of the members API (pydantic v2, every field described)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.members import PartyOrgKind
from shared.events.types import DeregistrationReason, Id, MemberCategory

from .domain.identity import PersonalDataError, normalize_id_number, normalize_phone

Skill = Annotated[str, Field(min_length=1, max_length=100)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _phone(v: str | None) -> str | None:
    if v is None or v == "":
        return None
    try:
        return normalize_phone(v)
    except PersonalDataError as exc:
        raise ValueError(exc.rule) from None


def _id_number(v: str | None) -> str | None:
    if v is None or v == "":
        return None
    try:
        return normalize_id_number(v)
    except PersonalDataError as exc:
        raise ValueError(exc.rule) from None


# --- Party organisations -------------------------------------------------------------------


class PartyOrgIn(_In):
    name: str = Field(min_length=1, max_length=200, description="Name of the organisation.")
    kind: PartyOrgKind = Field(
        description="organ, state_firm, school, hospital, non_public_firm, "
        "social_organisation or community."
    )
    parent_id: Id | None = Field(default=None, description="Parent organisation, if any.")


class PartyOrgOut(BaseModel):
    party_org_id: str = Field(description="The organisation's id.")
    name: str = Field(description="Its name.")
    kind: PartyOrgKind = Field(description="Kind of body it sits in.")
    parent_id: str | None = Field(description="Parent organisation, if any.")


# --- Members -------------------------------------------------------------------------------


class MemberFields(_In):
    name: str = Field(min_length=1, max_length=100, description="Full name.")
    category: MemberCategory = Field(description="in_service, resident, mobile or retired.")
    party_org_id: Id = Field(description="The member's own Party organisation (must exist).")
    joined_on: date | None = Field(default=None, description="Date the member joined the Party.")
    skills: list[Skill] = Field(
        default_factory=list, max_length=50, description="Skills offered to the community (特长)."
    )
    phone: str | None = Field(default=None, description="Mobile or landline; personal data.")
    id_number: str | None = Field(
        default=None, description="18-character citizen ID number (GB 11643); personal data."
    )
    address_community_id: Id | None = Field(
        default=None, description="Community where the member lives, if known (must exist)."
    )

    @field_validator("phone")
    @classmethod
    def _v_phone(cls, v: str | None) -> str | None:
        return _phone(v)

    @field_validator("id_number")
    @classmethod
    def _v_id(cls, v: str | None) -> str | None:
        return _id_number(v)

    @field_validator("joined_on")
    @classmethod
    def _not_future(cls, v: date | None) -> date | None:
        if v is not None and v > date.today():
            raise ValueError("must not be in the future")
        return v


class MemberIn(MemberFields):
    member_id: Id = Field(description="The member's id (党员编号).")


class MemberPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100, description="Full name.")
    category: MemberCategory | None = Field(default=None, description="New category.")
    party_org_id: Id | None = Field(default=None, description="New own Party organisation.")
    joined_on: date | None = Field(default=None, description="Date the member joined the Party.")
    skills: list[Skill] | None = Field(default=None, max_length=50, description="New skills.")
    phone: str | None = Field(default=None, description="New phone number; personal data.")
    id_number: str | None = Field(default=None, description="New citizen ID number.")
    address_community_id: Id | None = Field(default=None, description="New home community.")

    @field_validator("phone")
    @classmethod
    def _v_phone(cls, v: str | None) -> str | None:
        return _phone(v)

    @field_validator("id_number")
    @classmethod
    def _v_id(cls, v: str | None) -> str | None:
        return _id_number(v)


class DeregisterIn(_In):
    reason: DeregistrationReason = Field(
        description="transferred_out, deceased, expelled or other."
    )


class ReportIn(_In):
    community_id: Id = Field(description="The community the member lives in (must exist).")
    grid_id: Id | None = Field(default=None, description="A grid of that community, optional.")
    skills: list[Skill] | None = Field(
        default=None, max_length=50, description="Skills offered; default: the member's skills."
    )


class ReportOut(BaseModel):
    community_id: str = Field(description="Community reported to.")
    grid_id: str | None = Field(description="Grid, if given.")
    skills: list[str] = Field(description="Skills offered with this report.")
    reported_at: datetime = Field(description="Event time of the report.")
    source: str = Field(description="Who published the report event.")
    moved_from: str | None = Field(
        default=None, description="Previous community, when this report was a move."
    )


class MemberOut(BaseModel):
    member_id: str = Field(description="The member's id.")
    name: str = Field(description="Full name.")
    category: MemberCategory = Field(description="Category.")
    party_org_id: str = Field(description="Own Party organisation.")
    joined_on: date | None = Field(description="Date joined.")
    skills: list[str] = Field(description="Skills.")
    phone: str | None = Field(description="Phone; masked (138****0000) unless city_admin.")
    id_number: str | None = Field(
        description="ID number; masked (110105********123X) unless city_admin."
    )
    address_community_id: str | None = Field(description="Home community, if known.")
    status: Literal["active", "deregistered"] = Field(description="Registry status.")
    deregistered_reason: DeregistrationReason | None = Field(description="Why they left.")
    current_report: ReportOut | None = Field(description="Latest 双报到 report, if any.")


class MemberList(BaseModel):
    items: list[MemberOut] = Field(description="Members, sorted by id.")
    total: int = Field(description="Number of items.")


class ReportHistory(BaseModel):
    member_id: str = Field(description="The member.")
    current: ReportOut | None = Field(description="The latest report by (time, source, id).")
    history: list[ReportOut] = Field(description="Every report, oldest first.")


class ReportingRate(BaseModel):
    community_id: str = Field(description="The community.")
    in_service_residents: int = Field(
        description="Active in-service members whose address community is this one."
    )
    reported_residents: int = Field(
        description="Of those, how many have reported here (current report)."
    )
    reported_here: int = Field(
        description="All active in-service members currently reported here, address known or not."
    )
    rate: float | None = Field(
        description="reported_residents / in_service_residents (null when there are none)."
    )


# --- Units ---------------------------------------------------------------------------------


class UnitIn(_In):
    name: str = Field(min_length=1, max_length=200, description="The unit's name.")
    party_org_id: Id = Field(description="The unit's Party organisation (must exist).")
    address: str | None = Field(default=None, max_length=300, description="Street address.")
    member_count: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Party members in the unit."
    )


class UnitReportIn(_In):
    community_id: Id = Field(description="The community the unit is located in (must exist).")


class Commitment(_In):
    content: str = Field(min_length=1, max_length=500, description="What the unit commits to.")
    due_on: date | None = Field(default=None, description="When it is due, if dated.")


class AgreementIn(_In):
    agreement_id: Id = Field(description="The agreement's id (契约编号).")
    signed_on: date = Field(description="Date of signing.")
    valid_until: date | None = Field(default=None, description="Last day in force, if limited.")
    commitments: list[Commitment] = Field(
        min_length=1, max_length=100, description="The unit's commitments (承诺事项)."
    )


class AgreementOut(BaseModel):
    agreement_id: str = Field(description="The agreement's id.")
    unit_id: str = Field(description="The unit.")
    community_id: str = Field(description="The community it was signed with.")
    signed_on: date = Field(description="Date of signing.")
    valid_until: date | None = Field(description="Last day in force.")
    commitments: list[Commitment] = Field(description="The commitments.")


class UnitOut(BaseModel):
    unit_id: str = Field(description="The unit's id.")
    name: str = Field(description="Name.")
    party_org_id: str = Field(description="Its Party organisation.")
    address: str | None = Field(description="Street address.")
    member_count: int | None = Field(description="Party members in the unit.")
    community_id: str | None = Field(description="Community reported to, if reported.")
    reported_at: datetime | None = Field(description="When it last reported.")
    agreements: list[AgreementOut] = Field(description="Co-building agreements.")


# --- Import --------------------------------------------------------------------------------


class ImportJob(BaseModel):
    job_id: str = Field(description="The job's id; poll GET /v1/members/import/{job_id}.")
    status: Literal["queued", "running", "succeeded", "failed"] = Field(description="State.")
    encoding: str | None = Field(description="Detected encoding: utf-8, utf-8-sig or gbk.")
    total: int = Field(description="Data rows in the file.")
    processed: int = Field(description="Rows written so far (progress = processed / total).")
    created: int = Field(description="New members.")
    updated: int = Field(description="Members whose data changed.")
    unchanged: int = Field(description="Rows identical to what is stored.")
    errors: list[dict[str, object]] = Field(
        description="Bad rows: line, field, rule. Any error means nothing was written."
    )
