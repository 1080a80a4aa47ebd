"""Events about Party members and resident units (双报到), published by the members service
and by outside registries."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .registry import register
from .types import DeregistrationReason, Id, MemberCategory

MEMBER_REGISTERED = "partygrid.member.registered"
MEMBER_REPORTED = "partygrid.member.reported"
MEMBER_DEREGISTERED = "partygrid.member.deregistered"
UNIT_REPORTED = "partygrid.unit.reported"


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


@register(MEMBER_REGISTERED, "member_id", "A Party member entered the registry (or was updated).")
class MemberRegistered(_Data):
    member_id: Id = Field(description="The member's id.")
    name: str = Field(min_length=1, max_length=100, description="The member's name.")
    category: MemberCategory = Field(description="in_service, resident, mobile or retired.")
    party_org_id: Id = Field(description="The member's own Party organisation (所属党组织).")
    joined_on: date | None = Field(default=None, description="Date the member joined the Party.")


@register(
    MEMBER_REPORTED, "member_id", "A member reported to the community where they live (双报到)."
)
class MemberReported(_Data):
    member_id: Id = Field(description="The member's id.")
    community_id: Id = Field(description="The community the member reports to.")
    grid_id: Id | None = Field(default=None, description="The grid within the community, if known.")
    skills: list[str] = Field(
        default_factory=list, max_length=50, description="Skills offered to the community."
    )


@register(MEMBER_DEREGISTERED, "member_id", "A member left the registry.")
class MemberDeregistered(_Data):
    member_id: Id = Field(description="The member's id.")
    reason: DeregistrationReason = Field(
        description="transferred_out, deceased, expelled or other."
    )


@register(UNIT_REPORTED, "unit_id", "A resident unit (驻区单位) reported to its community.")
class UnitReported(_Data):
    unit_id: Id = Field(description="The unit's id.")
    name: str = Field(min_length=1, max_length=200, description="The unit's name.")
    party_org_id: Id = Field(description="The unit's Party organisation.")
    community_id: Id = Field(description="The community the unit reports to.")
    member_count: int | None = Field(
        default=None, ge=0, description="Number of Party members in the unit."
    )


# --- Internal events of the members service (same envelope and naming, docs/design.md §3.1) ---

PARTY_ORG_DEFINED = "partygrid.party_org.defined"
UNIT_AGREEMENT_SIGNED = "partygrid.unit.agreement_signed"


class PartyOrgKind(StrEnum):
    """Kind of a Party organisation (所属党组织), by the body it sits in."""

    ORGAN = "organ"
    STATE_FIRM = "state_firm"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    NON_PUBLIC_FIRM = "non_public_firm"
    SOCIAL_ORGANISATION = "social_organisation"
    COMMUNITY = "community"


@register(PARTY_ORG_DEFINED, "party_org_id", "A Party organisation was created or changed.")
class PartyOrgDefined(_Data):
    party_org_id: Id = Field(description="The Party organisation's id.")
    name: str = Field(min_length=1, max_length=200, description="Its name.")
    kind: PartyOrgKind = Field(description="organ, state_firm, school, hospital, … community.")
    parent_id: Id | None = Field(default=None, description="The parent organisation, if any.")


@register(
    UNIT_AGREEMENT_SIGNED,
    "unit_id",
    "A resident unit signed a co-building agreement (契约化共建) with its community.",
)
class UnitAgreementSigned(_Data):
    unit_id: Id = Field(description="The unit that signed.")
    agreement_id: Id = Field(description="The agreement's id.")
    community_id: Id = Field(description="The community it was signed with.")
    signed_on: date = Field(description="Date of signing.")
    valid_until: date | None = Field(default=None, description="Last day it is in force.")
    commitments: list[str] = Field(
        min_length=1, max_length=100, description="What the unit commits to (承诺事项)."
    )
