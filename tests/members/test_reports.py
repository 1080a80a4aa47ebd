"""双报到 of members through the HTTP API on the shared service: a report names a known
community (and one of its grids), reporting elsewhere is a move kept in the history, scoped
tokens act only in their region, and a community's lists and reporting rate count who
reported there."""

from __future__ import annotations

import asyncio
import itertools

from shared.events import MEMBER_REPORTED

from .conftest import C3_TOKEN, COMMUNITY_TOKEN, OTHER_COMMUNITY_TOKEN, Env, unique


def _detail(response) -> dict:
    body = response.json()
    assert body["details"], body
    return body["details"][0]


async def _member(service: Env, **fields: object) -> str:
    member = unique("M")
    assert (await service.register(member, **fields)).status_code == 201
    return member


async def _report(service: Env, member: str, community: str, **fields: object) -> int:
    body = {"community_id": community, **fields}
    return (await service.client.post(f"/v1/members/{member}/reports", json=body)).status_code


async def test_a_report_to_an_unknown_community_is_refused(service: Env) -> None:
    member = await _member(service)
    r = await service.client.post(f"/v1/members/{member}/reports", json={"community_id": "C404"})
    assert r.status_code == 422 and _detail(r)["field"] == "community_id"


async def test_a_grid_of_another_community_is_refused(service: Env) -> None:
    member = await _member(service)
    body = {"community_id": "C1", "grid_id": "G2"}
    r = await service.client.post(f"/v1/members/{member}/reports", json=body)
    assert r.status_code == 422 and _detail(r)["field"] == "grid_id"


async def test_a_report_to_a_street_is_refused(service: Env) -> None:
    assert await _report(service, await _member(service), "S1") == 422


async def test_reporting_an_unknown_member_is_not_found(service: Env) -> None:
    assert await _report(service, unique("M"), "C1") == 404


async def test_a_first_report_offers_the_members_skills(service: Env) -> None:
    member = await _member(service, skills=["理发"])
    body = {"community_id": "C2", "grid_id": "G2"}
    r = await service.client.post(f"/v1/members/{member}/reports", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["current_report"]["skills"] == ["理发"]


async def test_the_same_report_again_changes_nothing(service: Env) -> None:
    member = await _member(service)
    assert await _report(service, member, "C2", grid_id="G2") == 201
    assert await _report(service, member, "C2", grid_id="G2") == 200
    assert len(await service.events_about(MEMBER_REPORTED, member)) == 1


async def test_a_report_elsewhere_is_a_move_kept_in_the_history(service: Env) -> None:
    member = await _member(service, skills=["理发"])
    assert await _report(service, member, "C2", grid_id="G2") == 201
    assert await _report(service, member, "C1", skills=["维修"]) == 201
    history = (await service.client.get(f"/v1/members/{member}/reports")).json()
    assert [h["community_id"] for h in history["history"]] == ["C2", "C1"]
    assert [h["moved_from"] for h in history["history"]] == [None, "C2"]
    assert history["current"]["community_id"] == "C1"
    assert history["current"]["skills"] == ["维修"]
    events = sorted(await service.events_about(MEMBER_REPORTED, member), key=lambda e: e.time)
    assert [(e.data["community_id"], e.data.get("grid_id")) for e in events] == [
        ("C2", "G2"),
        ("C1", None),
    ]


async def test_a_community_admin_reports_only_into_its_own_community(service: Env) -> None:
    member = await _member(service)
    body = {"community_id": "C1"}
    async with service.as_token(OTHER_COMMUNITY_TOKEN) as other:
        denied = await other.post(f"/v1/members/{member}/reports", json=body)
    async with service.as_token(COMMUNITY_TOKEN) as mine:
        allowed = await mine.post(f"/v1/members/{member}/reports", json=body)
    assert (denied.status_code, allowed.status_code) == (403, 201)


async def test_a_community_admin_reads_nothing_of_another_community(service: Env) -> None:
    member = await _member(service)
    assert await _report(service, member, "C1") == 201
    async with service.as_token(OTHER_COMMUNITY_TOKEN) as other:
        assert (await other.get("/v1/communities/C1/members")).status_code == 403
        assert (await other.get(f"/v1/members/{member}")).status_code == 403
        assert (await other.get("/v1/communities/C1/reporting-rate")).status_code == 403


async def test_a_community_lists_the_members_reported_there(service: Env) -> None:
    # C3 is this test's alone
    members = [await _member(service, category=c) for c in ("in_service", "retired", "in_service")]
    for member in members:
        assert await _report(service, member, "C3") == 201
    async with service.as_token(C3_TOKEN) as admin:
        in_service = (
            await admin.get("/v1/communities/C3/members", params={"category": "in_service"})
        ).json()
        everyone = (await admin.get("/v1/communities/C3/members")).json()
    assert [m["member_id"] for m in in_service["items"]] == sorted([members[0], members[2]])
    assert [m["member_id"] for m in everyone["items"]] == sorted(members)
    assert everyone["total"] == 3


async def test_the_reporting_rate_counts_in_service_residents_reported_at_home(
    service: Env,
) -> None:
    # C4 is this test's alone: two in-service residents, a retired one, and an in-service
    # member living elsewhere who reported to C4
    home = [await _member(service, address_community_id="C4") for _ in range(2)]
    retired = await _member(service, category="retired", address_community_id="C4")
    elsewhere = await _member(service, address_community_id="C1")
    for member in (*home, retired, elsewhere):
        assert await _report(service, member, "C4") == 201
    rate = (await service.client.get("/v1/communities/C4/reporting-rate")).json()
    assert rate == {
        "community_id": "C4",
        "in_service_residents": 2,
        "reported_residents": 2,
        "reported_here": 3,
        "rate": 1.0,
    }
    assert await _report(service, home[1], "C2") == 201  # moves away
    rate = (await service.client.get("/v1/communities/C4/reporting-rate")).json()
    assert (rate["reported_residents"], rate["rate"]) == (1, 0.5)


async def test_an_organisation_lists_its_members_with_where_they_reported(service: Env) -> None:
    org = unique("PO")
    await service.org(org, unique("党委"), "organ")
    first = await _member(service, party_org_id=org)
    second = await _member(service, party_org_id=org)
    await _member(service, party_org_id=org, category="retired")
    assert await _report(service, first, "C1") == 201
    assert await _report(service, second, "C2") == 201
    listed = (
        await service.client.get(f"/v1/party-orgs/{org}/members", params={"category": "in_service"})
    ).json()
    reported = [(m["member_id"], m["current_report"]["community_id"]) for m in listed["items"]]
    assert reported == sorted([(first, "C1"), (second, "C2")])


async def test_two_reports_at_once_leave_one_consistent_history(service: Env) -> None:
    member = await _member(service)
    for _ in range(3):
        a, b = await asyncio.gather(
            service.client.post(f"/v1/members/{member}/reports", json={"community_id": "C1"}),
            service.client.post(f"/v1/members/{member}/reports", json={"community_id": "C2"}),
        )
        assert {a.status_code, b.status_code} <= {200, 201}, (a.text, b.text)
    history = (await service.client.get(f"/v1/members/{member}/reports")).json()
    items = history["history"]
    times = [h["reported_at"] for h in items]
    assert len(set(times)) == len(times)  # strictly ordered, no ties
    # each entry differs from the one before (a no-op report records nothing)
    assert all(x["community_id"] != y["community_id"] for x, y in itertools.pairwise(items))
    assert history["current"]["community_id"] == items[-1]["community_id"]
    stored = await service.pool.fetchval(
        "SELECT community_id FROM current_reports WHERE member_id = $1", member
    )
    assert stored == items[-1]["community_id"]
    events = await service.events_about(MEMBER_REPORTED, member)
    latest = max(events, key=lambda e: (e.time, e.source, e.id))
    assert len(events) == len(items)
    assert latest.data["community_id"] == stored
