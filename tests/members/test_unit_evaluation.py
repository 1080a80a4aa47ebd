"""Two-way evaluation of resident units (双向考核) through the API, the real database and broker:
commitments marked done or missed, the yearly report back with its evaluation, part-time
committee members, in-service members' participation from scoring's points.changed, and the
units of a community and street ranked by their yearly score.

One evaluated year is set up once for the module, on the shared service, in street S2 (no
other test places units there): unit A in C5 keeps both of the year's commitments, reported
back "excellent" and has one of its two in-service members earning points this year; unit B
in C5 missed its one commitment, reported back "fair" and its member earned points; unit C in
C6 has nothing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from dev.testing import cloud_event, publish_raw, wait_until
from shared.events.scoring import POINTS_CHANGED
from shared.events.units import UNIT_COMMITMENT_UPDATED, UNIT_REVIEWED

from .conftest import OTHER_COMMUNITY_TOKEN, Env, unique

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


@dataclass
class Year:
    """The ids of the evaluated year's units, agreements and members."""

    ua: str
    ub: str
    uc: str
    ag_a: str
    ag_b: str
    ma1: str
    ma2: str
    mb1: str


async def _unit(service: Env, unit_id: str, org: str, community: str) -> None:
    c = service.client
    body = {"name": unit_id, "party_org_id": org}
    assert (await c.put(f"/v1/units/{unit_id}", json=body)).status_code == 200
    r = await c.post(f"/v1/units/{unit_id}/report", json={"community_id": community})
    assert r.status_code == 200


@pytest.fixture(scope="module")
async def year(service: Env) -> Year:
    c = service.client
    pa, pb, pc = unique("PA"), unique("PB"), unique("PC")
    await service.org(pa, unique("甲单位党委"), "state_firm")
    await service.org(pb, unique("乙单位党委"), "hospital")
    await service.org(pc, unique("丙单位党委"), "school")
    y = Year(
        ua=unique("UA"),
        ub=unique("UB"),
        uc=unique("UC"),
        ag_a=unique("AG-A"),
        ag_b=unique("AG-B"),
        ma1=unique("MA1"),
        ma2=unique("MA2"),
        mb1=unique("MB1"),
    )
    await _unit(service, y.ua, pa, "C5")
    await _unit(service, y.ub, pb, "C5")
    await _unit(service, y.uc, pc, "C6")
    for member_id, org in ((y.ma1, pa), (y.ma2, pa), (y.mb1, pb)):
        assert (await service.register(member_id, party_org_id=org)).status_code == 201
    r = await c.post(f"/v1/units/{y.ua}/agreements", json=agreement(y.ag_a, 2))
    assert r.status_code == 201
    r = await c.post(f"/v1/units/{y.ub}/agreements", json=agreement(y.ag_b, 1))
    assert r.status_code == 201
    # commitments: A keeps both of the year's, B misses its one
    for no in (1, 2):
        body = {"status": "done", "done_on": f"{YEAR}-05-01", "note": "义诊三次"}
        r = await c.put(f"/v1/units/{y.ua}/agreements/{y.ag_a}/commitments/{no}", json=body)
        assert r.status_code == 200, r.text
    r = await c.put(
        f"/v1/units/{y.ub}/agreements/{y.ag_b}/commitments/1", json={"status": "missed"}
    )
    assert r.status_code == 200
    # report back: A to its street, B to its community
    review = {"region_id": "S2", "reported_on": f"{YEAR}-12-20", "evaluation": "excellent"}
    assert (await c.put(f"/v1/units/{y.ua}/reviews/{YEAR}", json=review)).status_code == 200
    review = {**review, "region_id": "C5", "evaluation": "fair"}
    assert (await c.put(f"/v1/units/{y.ub}/reviews/{YEAR}", json=review)).status_code == 200
    # a part-time committee member from A's own organisation
    member = {"region_id": "S2", "post": "兼职委员", "since": f"{YEAR}-01-01"}
    r = await c.put(f"/v1/units/{y.ua}/committee-members/{y.ma1}", json=member)
    assert r.status_code == 200
    # participation: MA1 earned points this year, MA2 only last year
    await publish_raw(
        service.bootstrap,
        [
            points(y.ma1, f"{YEAR}-03", "5.00"),
            points(y.ma2, f"{YEAR - 1}-11", "8.00"),
            points(y.mb1, f"{YEAR}-04", "2.00"),
        ],
    )
    ours = [y.ma1, y.ma2, y.mb1]

    async def projected() -> bool:
        n = await service.pool.fetchval(
            "SELECT count(*) FROM member_points WHERE member_id = ANY($1::text[])", ours
        )
        return bool(n == 3)

    await wait_until(projected)
    return y


@pytest.mark.parametrize(
    "body",
    [
        {"status": "done"},
        {"status": "missed", "done_on": f"{YEAR}-05-01"},
        {"status": "done", "done_on": f"{YEAR - 1}-05-01"},  # before the signing
    ],
)
async def test_a_done_commitment_has_a_date_within_the_agreement_and_no_other_has_one(
    service: Env, year: Year, body: dict
) -> None:
    path = f"/v1/units/{year.ua}/agreements/{year.ag_a}/commitments/1"
    r = await service.client.put(path, json=body)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "done_on"


async def test_a_commitment_beyond_the_agreements_is_refused(service: Env, year: Year) -> None:
    path = f"/v1/units/{year.ua}/agreements/{year.ag_a}/commitments/9"
    r = await service.client.put(path, json={"status": "missed"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "commitment_no"


async def test_another_units_agreement_is_not_found(service: Env, year: Year) -> None:
    path = f"/v1/units/{year.ua}/agreements/{year.ag_b}/commitments/1"
    assert (await service.client.put(path, json={"status": "missed"})).status_code == 404


async def test_a_report_back_is_made_to_the_units_community_or_street(
    service: Env, year: Year
) -> None:
    review = {"region_id": "C6", "reported_on": f"{YEAR}-12-20", "evaluation": "good"}
    r = await service.client.put(f"/v1/units/{year.ub}/reviews/{YEAR}", json=review)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "region_id"


async def test_a_report_back_is_recorded_only_by_a_token_of_the_units_region(
    service: Env, year: Year
) -> None:
    review = {"region_id": "C5", "reported_on": f"{YEAR}-12-20", "evaluation": "good"}
    async with service.as_token(OTHER_COMMUNITY_TOKEN) as other:
        r = await other.put(f"/v1/units/{year.ub}/reviews/{YEAR}", json=review)
    assert r.status_code == 403


async def test_a_committee_member_comes_from_the_units_own_organisation(
    service: Env, year: Year
) -> None:
    member = {"region_id": "S2", "post": "兼职委员", "since": f"{YEAR}-01-01"}
    r = await service.client.put(f"/v1/units/{year.ua}/committee-members/{year.mb1}", json=member)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "member_id"


async def test_a_units_score_adds_commitments_report_back_and_participation(
    service: Env, year: Year
) -> None:
    ua = (await service.client.get(f"/v1/units/{year.ua}/evaluation?year={YEAR}")).json()
    assert (ua["commitments_due"], ua["commitments_done"]) == (2, 2)
    assert (ua["in_service_members"], ua["participating_members"]) == (2, 1)
    assert Decimal(str(ua["score"])) == Decimal(40 + 30 + 15)
    assert [m["member_id"] for m in ua["committee_members"]] == [year.ma1]


async def test_the_units_of_a_community_are_ranked_by_their_score(service: Env, year: Year) -> None:
    r = await service.client.get(f"/v1/unit-evaluations?within=C5&year={YEAR}")
    ranking = [(u["unit_id"], u["rank"], Decimal(str(u["score"]))) for u in r.json()["items"]]
    assert ranking == [(year.ua, 1, Decimal(85)), (year.ub, 2, Decimal(18 + 30))]


async def test_the_units_of_a_street_are_ranked_and_one_with_nothing_scores_zero(
    service: Env, year: Year
) -> None:
    r = await service.client.get(f"/v1/unit-evaluations?within=S2&year={YEAR}")
    street = r.json()["items"]
    assert [(u["unit_id"], u["rank"]) for u in street] == [(year.ua, 1), (year.ub, 2), (year.uc, 3)]
    assert Decimal(str(street[2]["score"])) == 0  # no commitments, no report, no members


async def test_units_are_ranked_only_within_a_community_or_street(service: Env, year: Year) -> None:
    r = await service.client.get(f"/v1/unit-evaluations?within=G5&year={YEAR}")
    assert r.status_code == 422


async def test_every_change_of_a_commitment_and_report_back_is_published(
    service: Env, year: Year
) -> None:
    assert len(await service.events_about(UNIT_COMMITMENT_UPDATED, year.ua)) == 2
    assert len(await service.events_about(UNIT_COMMITMENT_UPDATED, year.ub)) == 1
    assert len(await service.events_about(UNIT_REVIEWED, year.ua)) == 1
    assert len(await service.events_about(UNIT_REVIEWED, year.ub)) == 1
