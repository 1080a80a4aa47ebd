"""Two-way evaluation of resident units (双向考核) through the API, the real database and broker:
commitments marked done or missed, the yearly report back with its evaluation, part-time
committee members, in-service members' participation from scoring's points.changed, and the
units of a community and street ranked by their yearly score."""

from __future__ import annotations

from decimal import Decimal

from dev.testing import cloud_event, publish_raw, wait_until
from shared.events.scoring import POINTS_CHANGED
from shared.events.units import UNIT_COMMITMENT_UPDATED, UNIT_REVIEWED

from .conftest import OTHER_COMMUNITY_TOKEN, Env

YEAR = 2026


def agreement(agreement_id: str, n: int) -> dict:
    return {
        "agreement_id": agreement_id,
        "signed_on": f"{YEAR}-01-10",
        "commitments": [{"content": f"承诺{i}", "due_on": f"{YEAR}-06-30"} for i in range(n)]
        + [{"content": "明年的承诺", "due_on": f"{YEAR + 1}-06-30"}],
    }


def points(member_id: str, period: str, value: str) -> tuple[str, bytes, dict]:
    data = {"member_id": member_id, "period": period, "points": value, "delta": value}
    event = cloud_event(POINTS_CHANGED, data, subject=member_id, source="/partygrid/scoring")
    return POINTS_CHANGED, member_id.encode(), event


async def unit(env: Env, unit_id: str, org: str, community: str) -> None:
    c = env.client
    assert (
        await c.put(f"/v1/units/{unit_id}", json={"name": unit_id, "party_org_id": org})
    ).status_code == 200
    assert (
        await c.post(f"/v1/units/{unit_id}/report", json={"community_id": community})
    ).status_code == 200


async def test_units_are_scored_and_ranked_per_community_and_street(env: Env) -> None:
    c = env.client
    await env.define_regions()
    await env.org("PA", "甲单位党委", "state_firm")
    await env.org("PB", "乙单位党委", "hospital")
    await env.org("PC", "丙单位党委", "school")
    await unit(env, "UA", "PA", "C1")
    await unit(env, "UB", "PB", "C1")
    await unit(env, "UC", "PC", "C2")
    for member_id, org in (("MA1", "PA"), ("MA2", "PA"), ("MB1", "PB")):
        assert (await env.register(member_id, party_org_id=org)).status_code == 201
    assert (await c.post("/v1/units/UA/agreements", json=agreement("AG-A", 2))).status_code == 201
    assert (await c.post("/v1/units/UB/agreements", json=agreement("AG-B", 1))).status_code == 201

    # commitments: UA keeps both of the year's, UB misses its one
    base = "/v1/units/UA/agreements/AG-A/commitments"
    for no in (1, 2):
        r = await c.put(
            f"{base}/{no}", json={"status": "done", "done_on": f"{YEAR}-05-01", "note": "义诊三次"}
        )
        assert r.status_code == 200, r.text
    for body, field in (
        ({"status": "done"}, "done_on"),
        ({"status": "missed", "done_on": f"{YEAR}-05-01"}, "done_on"),
        ({"status": "done", "done_on": f"{YEAR - 1}-05-01"}, "done_on"),
    ):
        r = await c.put(f"{base}/1", json=body)
        assert r.status_code == 422 and r.json()["details"][0]["field"] == field, body
    r = await c.put(f"{base}/9", json={"status": "missed"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "commitment_no"
    r = await c.put("/v1/units/UA/agreements/AG-B/commitments/1", json={"status": "missed"})
    assert r.status_code == 404  # another unit's agreement
    assert (
        await c.put("/v1/units/UB/agreements/AG-B/commitments/1", json={"status": "missed"})
    ).status_code == 200

    # report back: to the unit's community or street only; by a token of that region only
    review = {"region_id": "S1", "reported_on": f"{YEAR}-12-20", "evaluation": "excellent"}
    assert (await c.put(f"/v1/units/UA/reviews/{YEAR}", json=review)).status_code == 200
    r = await c.put(f"/v1/units/UB/reviews/{YEAR}", json={**review, "region_id": "C2"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "region_id"
    async with env.as_token(OTHER_COMMUNITY_TOKEN) as other:
        r = await other.put(f"/v1/units/UB/reviews/{YEAR}", json={**review, "region_id": "C1"})
        assert r.status_code == 403
    r = await c.put(
        f"/v1/units/UB/reviews/{YEAR}", json={**review, "region_id": "C1", "evaluation": "fair"}
    )
    assert r.status_code == 200

    # a part-time committee member from the unit's own organisation
    member = {"region_id": "S1", "post": "兼职委员", "since": f"{YEAR}-01-01"}
    assert (await c.put("/v1/units/UA/committee-members/MA1", json=member)).status_code == 200
    r = await c.put("/v1/units/UA/committee-members/MB1", json=member)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "member_id"

    # participation: MA1 earned points this year, MA2 only last year
    await publish_raw(
        env.bootstrap,
        [
            points("MA1", f"{YEAR}-03", "5.00"),
            points("MA2", f"{YEAR - 1}-11", "8.00"),
            points("MB1", f"{YEAR}-04", "2.00"),
        ],
    )
    await wait_until(lambda: env.pool.fetchval("SELECT count(*) = 3 FROM member_points"))

    ua = (await c.get(f"/v1/units/UA/evaluation?year={YEAR}")).json()
    assert (ua["commitments_due"], ua["commitments_done"]) == (2, 2)
    assert (ua["in_service_members"], ua["participating_members"]) == (2, 1)
    assert Decimal(str(ua["score"])) == Decimal(40 + 30 + 15)
    assert [m["member_id"] for m in ua["committee_members"]] == ["MA1"]

    ranking = (await c.get(f"/v1/unit-evaluations?within=C1&year={YEAR}")).json()["items"]
    assert [(u["unit_id"], u["rank"], Decimal(str(u["score"]))) for u in ranking] == [
        ("UA", 1, Decimal(85)),
        ("UB", 2, Decimal(18 + 30)),
    ]
    street = (await c.get(f"/v1/unit-evaluations?within=S1&year={YEAR}")).json()["items"]
    assert [(u["unit_id"], u["rank"]) for u in street] == [("UA", 1), ("UB", 2), ("UC", 3)]
    assert Decimal(str(street[2]["score"])) == 0  # no commitments, no report, no members
    r = await c.get(f"/v1/unit-evaluations?within=G1&year={YEAR}")
    assert r.status_code == 422

    assert len(await env.events(UNIT_COMMITMENT_UPDATED, 3)) == 3
    assert len(await env.events(UNIT_REVIEWED, 2)) == 2
