"""The time bank (时间银行) over HTTP, the real database and the real broker: volunteer hours
from this service's own activities and from outside systems' activity.logged are banked with
no cap, a revoked record takes its hours back, simultaneous redemptions never overdraw, gifts
move hours between accounts, and every movement is a timebank.changed with its balance. The
tests share one service (the `service` fixture); each banks hours for members of its own."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from dev.testing import cloud_event, publish_raw, wait_until
from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED
from shared.events.timebank import TIMEBANK_CHANGED, TIMEBANK_OFFER_CHANGED

from .helpers import (
    COMMUNITY,
    OTHER_ADMIN,
    SOURCE,
    Service,
    about,
    at,
    error,
    seed_members,
    unique,
    with_id,
)

PLATFORM = "/city/volunteer-platform"


def logged(member: str, hours: float | None, id_: str, kind: str = "volunteer_service") -> Any:
    data: dict[str, Any] = {"member_id": member, "activity_type": kind, "community_id": COMMUNITY}
    if hours is not None:
        data["hours"] = hours
    event = cloud_event(ACTIVITY_LOGGED, data, subject=member, source=PLATFORM, id=id_)
    return ACTIVITY_LOGGED, member.encode(), event


def revoked(member: str, id_: str) -> Any:
    data = {"member_id": member, "revokes": {"source": PLATFORM, "id": id_}}
    event = cloud_event(ACTIVITY_REVOKED, data, subject=member, source=PLATFORM, id=f"rv-{id_}")
    return ACTIVITY_REVOKED, member.encode(), event


async def members(service: Service, *prefixes: str) -> list[str]:
    """Newly registered members with ids of their own (their accounts start empty)."""
    ids = [unique(p) for p in prefixes]
    await seed_members(service.bootstrap, service.pool, *ids)
    return ids


async def balance(client: httpx.AsyncClient, account: str) -> Decimal:
    r = await client.get(f"/v1/timebank/accounts/{account}")
    assert r.status_code == 200, r.text
    return Decimal(str(r.json()["balance"]))


async def balance_becomes(client: httpx.AsyncClient, account: str, want: str) -> None:
    async def reached() -> bool:
        return await balance(client, account) == Decimal(want)

    await wait_until(reached)


async def offer(client: httpx.AsyncClient, hours: float, title: str = "A haircut at home") -> str:
    r = await client.post(
        "/v1/timebank/offers", json={"community_id": COMMUNITY, "title": title, "hours": hours}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["offer_id"])


def running_balance_holds(items: list[dict[str, Any]]) -> None:
    total = Decimal(0)
    for item in items:
        total += Decimal(str(item["hours"]))
        assert Decimal(str(item["balance"])) == total, items


async def test_volunteer_hours_are_banked_from_own_and_outside_records_without_cap(
    service: Service,
) -> None:
    client = service.client
    [m1] = await members(service, "TB")
    # own: a volunteer activity, checked in and out with 2.5 hours, confirmed
    r = await client.post(
        "/v1/activities",
        json={
            "activity_type": "volunteer_service",
            "title": "Clean the riverside",
            "organiser_kind": "community",
            "organiser_id": COMMUNITY,
            "community_id": COMMUNITY,
            "starts_at": at(-10),
            "ends_at": at(110),
            "place": "Riverside park gate",
            "capacity": 5,
            "publish": True,
        },
    )
    base = f"/v1/activities/{r.json()['activity_id']}"
    code = (await client.get(f"{base}/checkin-code")).json()["code"]
    await client.post(f"{base}/checkins", json={"member_id": m1, "code": code})
    await client.post(f"{base}/checkouts", json={"member_id": m1, "hours": 2.5})
    assert (await client.post(f"{base}/confirmations", json={})).json()["confirmed"] == [m1]
    assert await balance(client, m1) == Decimal("2.5")  # banked in the same transaction

    # outside: twelve 20-hour records in one month (far beyond any points cap), one sent
    # twice, and a study record that is not volunteering
    records = [logged(m1, 20, f"{m1}-vp-{i}") for i in range(12)]
    study = logged(m1, None, f"{m1}-vp-study", "study")
    await publish_raw(service.bootstrap, [*records, records[0], study])
    await balance_becomes(client, m1, "242.50")

    statement = (await client.get(f"/v1/timebank/accounts/{m1}/statement")).json()["items"]
    assert [i["kind"] for i in statement] == ["earned"] * 13
    running_balance_holds(statement)
    assert {i["logged_source"] for i in statement[1:]} == {PLATFORM}
    assert statement[0]["logged_source"] == SOURCE
    # the organiser cancels the confirmed participation: its own revocation takes back
    r = await client.post(f"{base}/participants/{m1}/cancel", json={"reason": "duplicate"})
    assert r.status_code == 200, r.text
    assert await balance(client, m1) == Decimal("240")

    events = await about(service, TIMEBANK_CHANGED, m1)
    assert len(events) == 14
    assert sorted(Decimal(e.data["balance"]) for e in events)[-1] == Decimal("242.50")


async def test_a_revoked_volunteer_record_takes_its_hours_back(service: Service) -> None:
    client = service.client
    [m1] = await members(service, "TB")
    vp = [f"{m1}-vp-{i}" for i in range(5)]
    await publish_raw(service.bootstrap, [logged(m1, 3, vp[1]), logged(m1, 1, vp[2])])
    await balance_becomes(client, m1, "4")
    haircut = await offer(client, 3)
    redeem = f"/v1/timebank/offers/{haircut}/redemptions"
    r = await client.post(redeem, json={"account_id": m1})
    assert r.status_code == 201 and Decimal(str(r.json()["balance"])) == 1, r.text

    # the 3 hours already spent are taken back: the balance goes below zero, and stays
    # visible as a debt; nothing more can be spent until it is earned back
    await publish_raw(service.bootstrap, [revoked(m1, vp[1]), revoked(m1, vp[1])])
    await balance_becomes(client, m1, "-2")
    r = await client.post(redeem, json={"account_id": m1})
    assert (r.status_code, error(r)) == (409, "insufficient_hours")

    # a revocation that arrives before its record: the record earns nothing
    await publish_raw(service.bootstrap, [revoked(m1, vp[3])])
    known = "SELECT count(*) = 1 FROM timebank_revocations WHERE logged_id = $1"
    await wait_until(lambda: service.pool.fetchval(known, vp[3]))
    await publish_raw(service.bootstrap, [logged(m1, 5, vp[3]), logged(m1, 0.5, vp[4])])
    await balance_becomes(client, m1, "-1.5")

    statement = (await client.get(f"/v1/timebank/accounts/{m1}/statement")).json()["items"]
    assert [(i["kind"], i["logged_id"]) for i in statement] == [
        ("earned", vp[1]),
        ("earned", vp[2]),
        ("redeemed", None),
        ("revoked", vp[1]),
        ("earned", vp[4]),
    ]
    running_balance_holds(statement)
    account = (await client.get(f"/v1/timebank/accounts/{m1}")).json()
    assert (Decimal(str(account["earned"])), Decimal(str(account["redeemed"]))) == (
        Decimal("1.5"),
        Decimal("3"),
    )


async def test_simultaneous_redemptions_never_take_a_balance_below_zero(service: Service) -> None:
    client = service.client
    [m1] = await members(service, "TB")
    await publish_raw(service.bootstrap, [logged(m1, 10, f"{m1}-vp-1")])
    await balance_becomes(client, m1, "10")
    meal = await offer(client, 3, "A cooked meal delivered")

    async def redeem() -> httpx.Response:
        return await client.post(f"/v1/timebank/offers/{meal}/redemptions", json={"account_id": m1})

    answers = await asyncio.gather(*(redeem() for _ in range(10)))
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 7
    assert {error(r) for r in answers if r.status_code == 409} == {"insufficient_hours"}
    assert await balance(client, m1) == Decimal("1")
    statement = (await client.get(f"/v1/timebank/accounts/{m1}/statement")).json()["items"]
    assert [i["kind"] for i in statement] == ["earned"] + ["redeemed"] * 3
    running_balance_holds(statement)


async def test_hours_are_given_to_another_account_once_per_request(service: Service) -> None:
    client = service.client
    m1, m2 = await members(service, "TB", "TB")
    resident = unique("R-WANG")
    await publish_raw(service.bootstrap, [logged(m1, 6, f"{m1}-vp-1")])
    await balance_becomes(client, m1, "6")
    # the community opens an account for an elderly neighbour who is not a member
    r = await client.post(
        "/v1/timebank/accounts", json={"account_id": resident, "community_id": COMMUNITY}
    )
    assert r.status_code == 201 and r.json()["kind"] == "resident", r.text
    gifts = f"/v1/timebank/accounts/{m1}/gifts"
    gift = {"to_account_id": resident, "hours": 4, "note": "for Mrs. Wang", "request_id": "g1"}
    r = await client.post(gifts, json=gift)
    assert r.status_code == 201 and r.json()["kind"] == "given", r.text
    again = await client.post(gifts, json=gift)
    assert again.status_code == 200 and again.json()["entry_id"] == r.json()["entry_id"]
    r = await client.post(gifts, json={**gift, "hours": 1})
    assert (r.status_code, error(r)) == (409, "request_conflict")
    assert (await balance(client, m1), await balance(client, resident)) == (2, 4)

    # never below zero; never to oneself; only to an account or a registered member
    for body, want in (
        ({"to_account_id": m2, "hours": 2.01}, (409, "insufficient_hours")),
        ({"to_account_id": m1, "hours": 1}, (422, "same_account")),
        ({"to_account_id": "NOBODY", "hours": 1}, (422, "unknown_account")),
        ({"to_account_id": m2, "hours": 0}, (422, "invalid_request")),
    ):
        r = await client.post(gifts, json=body)
        assert (r.status_code, error(r)) == want, body
    r = await client.post(gifts, json={"to_account_id": m2, "hours": 2})
    assert r.status_code == 201 and await balance(client, m2) == 2

    events = [e for a in (m1, m2, resident) for e in await about(service, TIMEBANK_CHANGED, a)]
    # keyed by account, so read back per partition: compare as a set
    assert sorted((e.subject, e.data["kind"], e.data["balance"]) for e in events) == sorted(
        [
            (m1, "earned", "6.00"),
            (m1, "given", "0.00"),
            (m1, "given", "2.00"),
            (m2, "received", "2.00"),
            (resident, "received", "4.00"),
        ]
    )


async def test_an_offer_names_a_known_community_a_title_and_hours(service: Service) -> None:
    for body, want in (
        ({"community_id": "NOWHERE", "title": "x", "hours": 1}, "unknown_region"),
        ({"community_id": "350302001", "title": "x", "hours": 1}, "wrong_region_level"),
        ({"community_id": COMMUNITY, "title": "x", "hours": 0}, "invalid_request"),
        ({"community_id": COMMUNITY, "title": "", "hours": 1}, "invalid_request"),
    ):
        r = await service.client.post("/v1/timebank/offers", json=body)
        assert (r.status_code, error(r)) == (422, want), body


async def test_another_communitys_admin_may_not_list_an_offer(service: Service) -> None:
    r = await service.client.post(
        "/v1/timebank/offers",
        json={"community_id": COMMUNITY, "title": "x", "hours": 1},
        headers={"Authorization": f"Bearer {OTHER_ADMIN}"},
    )
    assert (r.status_code, error(r)) == (403, "forbidden")


async def test_a_withdrawn_offer_cannot_be_redeemed(service: Service) -> None:
    client = service.client
    [m1] = await members(service, "TB")
    haircut = await offer(client, 2)
    listed = (await client.get(f"/v1/timebank/offers?community_id={COMMUNITY}")).json()
    assert haircut in [o["offer_id"] for o in listed["items"]]
    r = await client.post(f"/v1/timebank/offers/{haircut}/withdraw")
    assert r.json()["status"] == "withdrawn"
    await publish_raw(service.bootstrap, [logged(m1, 5, f"{m1}-vp-1")])
    await balance_becomes(client, m1, "5")
    r = await client.post(f"/v1/timebank/offers/{haircut}/redemptions", json={"account_id": m1})
    assert (r.status_code, error(r)) == (409, "offer_withdrawn")
    events = await with_id(
        service, TIMEBANK_OFFER_CHANGED, f"timebank/offer/{haircut}/", prefix=True
    )
    assert [e.data["status"] for e in events] == ["listed", "withdrawn"]  # keyed by offer
