"""驻区单位 双报到 and 契约化共建: register a unit with its Party organisation, report it to its
community (unit.reported), record its co-building agreement (unit.agreement_signed)."""

from __future__ import annotations

from shared.events import UNIT_REPORTED
from shared.events.members import UNIT_AGREEMENT_SIGNED

from .conftest import OTHER_COMMUNITY_TOKEN, Env

AGREEMENT = {
    "agreement_id": "A-2026-01",
    "signed_on": "2026-03-05",
    "valid_until": "2027-03-04",
    "commitments": [
        {"content": "每季度开展一次义诊", "due_on": "2026-06-30"},
        {"content": "开放职工食堂供社区老人就餐"},
    ],
}


async def test_unit_report_and_agreement(env: Env) -> None:
    c = env.client
    await env.define_regions()
    await env.org("PH", "市第一医院党委", "hospital")

    bad = await c.put("/v1/units/U1", json={"name": "市第一医院", "party_org_id": "NOPE"})
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "party_org_id"
    neg = await c.put(
        "/v1/units/U1", json={"name": "市一院", "party_org_id": "PH", "member_count": -1}
    )
    assert neg.status_code == 422
    assert neg.json()["details"][0]["field"] == "body.member_count"
    unit = await c.put(
        "/v1/units/U1", json={"name": "市第一医院", "party_org_id": "PH", "member_count": 120}
    )
    assert unit.status_code == 200 and unit.json()["community_id"] is None
    early = await c.post("/v1/units/U1/agreements", json=AGREEMENT)
    assert early.status_code == 409  # must report to its community first

    unknown = await c.post("/v1/units/U1/report", json={"community_id": "C404"})
    assert unknown.status_code == 422
    other = env.as_token(OTHER_COMMUNITY_TOKEN)
    async with other:
        assert (
            await other.post("/v1/units/U1/report", json={"community_id": "C1"})
        ).status_code == 403
    reported = await c.post("/v1/units/U1/report", json={"community_id": "C1"})
    assert reported.status_code == 200 and reported.json()["community_id"] == "C1"
    # a change of a reported unit's data is published again
    changed = await c.put(
        "/v1/units/U1", json={"name": "市第一医院", "party_org_id": "PH", "member_count": 125}
    )
    assert changed.json()["member_count"] == 125

    backwards = dict(AGREEMENT, valid_until="2025-01-01")
    r = await c.post("/v1/units/U1/agreements", json=backwards)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "valid_until"
    empty = dict(AGREEMENT, commitments=[])
    assert (await c.post("/v1/units/U1/agreements", json=empty)).status_code == 422
    signed = await c.post("/v1/units/U1/agreements", json=AGREEMENT)
    assert signed.status_code == 201, signed.text
    assert signed.json()["community_id"] == "C1"
    again = await c.post("/v1/units/U1/agreements", json=AGREEMENT)
    assert again.status_code == 200  # same agreement: nothing new
    clash = await c.post("/v1/units/U1/agreements", json=dict(AGREEMENT, signed_on="2026-03-06"))
    assert clash.status_code == 409

    units = (await c.get("/v1/communities/C1/units")).json()
    assert [u["unit_id"] for u in units] == ["U1"]
    assert units[0]["agreements"][0]["commitments"][0]["content"] == "每季度开展一次义诊"

    reports = await env.events(UNIT_REPORTED, 2)
    assert [
        (e.data["community_id"], e.data["member_count"])
        for e in sorted(reports, key=lambda e: e.time)
    ] == [("C1", 120), ("C1", 125)]
    assert reports[0].data["party_org_id"] == "PH"
    agreements = await env.events(UNIT_AGREEMENT_SIGNED, 1)
    assert len(agreements) == 1
    assert agreements[0].data["commitments"] == ["每季度开展一次义诊", "开放职工食堂供社区老人就餐"]
