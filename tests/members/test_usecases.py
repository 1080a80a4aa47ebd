"""The use cases called directly, without HTTP, on the shared service's database: they return
stored rows and refuse with `shared.refusals.Refusal` (the kind and code the HTTP layer maps
once), and the region scope of a caller is checked in them."""

from __future__ import annotations

import pytest

from services.members.models import (
    AgreementIn,
    DeregisterIn,
    MemberIn,
    PartyOrgIn,
    ReportIn,
    UnitIn,
)
from services.members.usecases import agreements, imports, members, party_orgs, reports, units
from shared.auth import Principal
from shared.refusals import Kind, Refusal

from .conftest import Env, unique

CITY = Principal(name="test", role="city_admin", scope="*")
C2_ADMIN = Principal(name="test", role="community_admin", scope="C2")


def source(service: Env) -> str:
    return service.app.state.runtime.settings.source


def member(member_id: str, **fields: object) -> MemberIn:
    return MemberIn.model_validate(
        {"member_id": member_id, "name": "党员", "category": "in_service", "party_org_id": "P1"}
        | fields
    )


async def test_a_registered_member_is_returned_as_stored(service: Env) -> None:
    member_id = unique("M")
    stored = await members.register_member(service.pool, source(service), CITY, member(member_id))
    assert (stored.member_id, stored.party_org_id, stored.status) == (member_id, "P1", "active")


async def test_an_unknown_organisation_is_refused_as_invalid_naming_the_field(
    service: Env,
) -> None:
    with pytest.raises(Refusal) as refused:
        await members.register_member(
            service.pool, source(service), CITY, member(unique("M"), party_org_id="NOPE")
        )
    assert (refused.value.kind, refused.value.code) == (Kind.INVALID, "invalid_request")
    assert refused.value.detail["field"] == "party_org_id"


async def test_deregistering_twice_is_refused_as_a_conflict(service: Env) -> None:
    member_id = unique("M")
    await members.register_member(service.pool, source(service), CITY, member(member_id))
    leave = DeregisterIn.model_validate({"reason": "deceased"})
    await members.deregister_member(service.pool, source(service), CITY, member_id, leave)
    with pytest.raises(Refusal) as refused:
        await members.deregister_member(service.pool, source(service), CITY, member_id, leave)
    assert refused.value.kind is Kind.CONFLICT


async def test_a_member_that_does_not_exist_is_refused_as_not_found(service: Env) -> None:
    with pytest.raises(Refusal) as refused:
        await members.get_member(service.pool, CITY, unique("M"))
    assert refused.value.kind is Kind.NOT_FOUND


async def test_a_scoped_admin_is_refused_a_member_outside_its_region(service: Env) -> None:
    member_id = unique("M")
    await members.register_member(
        service.pool, source(service), CITY, member(member_id, address_community_id="C1")
    )
    with pytest.raises(Refusal) as refused:
        await members.get_member(service.pool, C2_ADMIN, member_id)
    assert refused.value.kind is Kind.FORBIDDEN
    assert (await members.get_member(service.pool, CITY, member_id)).member_id == member_id


async def test_a_scoped_admin_may_not_give_a_new_member_a_home_outside_its_region(
    service: Env,
) -> None:
    member_id = unique("M")
    with pytest.raises(Refusal) as refused:  # the token's region check (shared.auth)
        await members.register_member(
            service.pool, source(service), C2_ADMIN, member(member_id, address_community_id="C1")
        )
    assert refused.value.kind is Kind.FORBIDDEN
    with pytest.raises(Refusal):
        await members.get_member(service.pool, CITY, member_id)  # nothing was written


async def test_a_cycle_of_organisations_is_refused(service: Env) -> None:
    top, below = unique("PO"), unique("PO")
    await party_orgs.define_party_org(
        service.pool, source(service), top, PartyOrgIn(name="工委", kind="organ")
    )
    await party_orgs.define_party_org(
        service.pool, source(service), below, PartyOrgIn(name="党委", kind="organ", parent_id=top)
    )
    with pytest.raises(Refusal) as refused:
        await party_orgs.define_party_org(
            service.pool,
            source(service),
            top,
            PartyOrgIn(name="工委", kind="organ", parent_id=below),
        )
    assert refused.value.kind is Kind.INVALID and refused.value.detail["field"] == "parent_id"


async def test_the_history_marks_a_report_elsewhere_as_a_move(service: Env) -> None:
    member_id = unique("M")
    await members.register_member(service.pool, source(service), CITY, member(member_id))
    for community in ("C1", "C2"):
        body = ReportIn(community_id=community)
        assert await reports.report_member(service.pool, source(service), CITY, member_id, body)
    history = (await reports.report_history(service.pool, CITY, member_id)).history
    assert [(h.community_id, h.moved_from) for h in history] == [("C1", None), ("C2", "C1")]


async def test_an_agreement_before_the_units_report_is_refused_as_a_conflict(
    service: Env,
) -> None:
    unit_id = unique("U")
    body = UnitIn(name="单位", party_org_id="P1")
    assert await units.register_unit(service.pool, source(service), CITY, unit_id, body)
    agreement = AgreementIn.model_validate(
        {"agreement_id": unique("A"), "signed_on": "2026-01-01", "commitments": [{"content": "x"}]}
    )
    with pytest.raises(Refusal) as refused:
        await agreements.sign_agreement(service.pool, source(service), CITY, unit_id, agreement)
    assert (refused.value.kind, refused.value.detail["field"]) == (Kind.CONFLICT, "unit_id")


async def test_an_import_job_that_is_not_one_is_refused_as_not_found(service: Env) -> None:
    with pytest.raises(Refusal) as refused:
        await imports.import_job(service.pool, "not-a-job")
    assert refused.value.kind is Kind.NOT_FOUND
