"""驻区单位 双报到 and 契约化共建 through the HTTP API on the shared service: a unit is registered
with its Party organisation, reported to its community (unit.reported, again when a reported
unit's data changes), and records co-building agreements with it (unit.agreement_signed)."""

from __future__ import annotations

from typing import Any

from shared.events import UNIT_REPORTED
from shared.events.members import UNIT_AGREEMENT_SIGNED

from .conftest import OTHER_COMMUNITY_TOKEN, Env, unique


def agreement(**changes: Any) -> dict[str, Any]:
    return {
        "agreement_id": unique("A"),
        "signed_on": "2026-03-05",
        "valid_until": "2027-03-04",
        "commitments": [
            {"content": "每季度开展一次义诊", "due_on": "2026-06-30"},
            {"content": "开放职工食堂供社区老人就餐"},
        ],
        **changes,
    }


def _field(response) -> str:
    return response.json()["details"][0]["field"]


async def _unit(service: Env, community: str | None = None, member_count: int = 120) -> str:
    unit = unique("U")
    body = {"name": "市第一医院", "party_org_id": "P1", "member_count": member_count}
    assert (await service.client.put(f"/v1/units/{unit}", json=body)).status_code == 200
    if community:
        r = await service.client.post(f"/v1/units/{unit}/report", json={"community_id": community})
        assert r.status_code == 200, r.text
    return unit


async def test_a_unit_of_an_unknown_organisation_is_refused(service: Env) -> None:
    r = await service.client.put(
        f"/v1/units/{unique('U')}", json={"name": "市第一医院", "party_org_id": "NOPE"}
    )
    assert r.status_code == 422 and _field(r) == "party_org_id"


async def test_a_negative_member_count_is_refused(service: Env) -> None:
    body = {"name": "市一院", "party_org_id": "P1", "member_count": -1}
    r = await service.client.put(f"/v1/units/{unique('U')}", json=body)
    assert r.status_code == 422 and _field(r) == "body.member_count"


async def test_a_new_unit_has_reported_nowhere_and_is_not_published(service: Env) -> None:
    unit = await _unit(service)
    shown = (await service.client.get(f"/v1/units/{unit}")).json()
    assert shown["community_id"] is None and shown["member_count"] == 120
    assert await service.events_about(UNIT_REPORTED, unit) == []


async def test_a_unit_signs_an_agreement_only_after_reporting(service: Env) -> None:
    unit = await _unit(service)
    assert (
        await service.client.post(f"/v1/units/{unit}/agreements", json=agreement())
    ).status_code == 409


async def test_a_report_to_an_unknown_community_is_refused(service: Env) -> None:
    unit = await _unit(service)
    r = await service.client.post(f"/v1/units/{unit}/report", json={"community_id": "C404"})
    assert r.status_code == 422


async def test_a_community_admin_may_not_report_a_unit_into_another_community(
    service: Env,
) -> None:
    unit = await _unit(service)
    async with service.as_token(OTHER_COMMUNITY_TOKEN) as other:
        r = await other.post(f"/v1/units/{unit}/report", json={"community_id": "C1"})
    assert r.status_code == 403


async def test_a_reported_unit_is_published_again_when_its_data_changes(service: Env) -> None:
    unit = await _unit(service, "C1")
    body = {"name": "市第一医院", "party_org_id": "P1", "member_count": 125}
    changed = await service.client.put(f"/v1/units/{unit}", json=body)
    assert changed.status_code == 200 and changed.json()["member_count"] == 125
    reports = sorted(await service.events_about(UNIT_REPORTED, unit), key=lambda e: e.time)
    assert [(e.data["community_id"], e.data["member_count"]) for e in reports] == [
        ("C1", 120),
        ("C1", 125),
    ]
    assert reports[0].data["party_org_id"] == "P1"


async def test_an_agreement_ending_before_it_was_signed_is_refused(service: Env) -> None:
    unit = await _unit(service, "C1")
    body = agreement(valid_until="2025-01-01")
    r = await service.client.post(f"/v1/units/{unit}/agreements", json=body)
    assert r.status_code == 422 and _field(r) == "valid_until"


async def test_an_agreement_without_commitments_is_refused(service: Env) -> None:
    unit = await _unit(service, "C1")
    body = agreement(commitments=[])
    assert (await service.client.post(f"/v1/units/{unit}/agreements", json=body)).status_code == 422


async def test_an_agreement_is_signed_with_the_units_community_and_published(
    service: Env,
) -> None:
    unit = await _unit(service, "C1")
    signed = await service.client.post(f"/v1/units/{unit}/agreements", json=agreement())
    assert signed.status_code == 201, signed.text
    assert signed.json()["community_id"] == "C1"
    [event] = await service.events_about(UNIT_AGREEMENT_SIGNED, unit)
    assert event.data["commitments"] == ["每季度开展一次义诊", "开放职工食堂供社区老人就餐"]


async def test_the_same_agreement_again_changes_nothing(service: Env) -> None:
    unit = await _unit(service, "C1")
    body = agreement()
    assert (await service.client.post(f"/v1/units/{unit}/agreements", json=body)).status_code == 201
    assert (await service.client.post(f"/v1/units/{unit}/agreements", json=body)).status_code == 200
    assert len(await service.events_about(UNIT_AGREEMENT_SIGNED, unit)) == 1


async def test_an_agreement_id_with_other_content_is_a_conflict(service: Env) -> None:
    unit = await _unit(service, "C1")
    body = agreement()
    assert (await service.client.post(f"/v1/units/{unit}/agreements", json=body)).status_code == 201
    clash = {**body, "signed_on": "2026-03-06"}
    assert (
        await service.client.post(f"/v1/units/{unit}/agreements", json=clash)
    ).status_code == 409


async def test_a_community_lists_its_units_with_their_agreements(service: Env) -> None:
    unit = await _unit(service, "C1")
    assert (
        await service.client.post(f"/v1/units/{unit}/agreements", json=agreement())
    ).status_code == 201
    units = {u["unit_id"]: u for u in (await service.client.get("/v1/communities/C1/units")).json()}
    assert units[unit]["agreements"][0]["commitments"][0]["content"] == "每季度开展一次义诊"
    assert unit not in {
        u["unit_id"] for u in (await service.client.get("/v1/communities/C2/units")).json()
    }
