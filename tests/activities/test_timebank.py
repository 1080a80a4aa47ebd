"""The time bank (时间银行) over HTTP, the real database and the real broker: volunteer hours
from this service's own activities and from outside systems' activity.logged are banked with
no cap, a revoked record takes its hours back, simultaneous redemptions never overdraw, gifts
move hours between accounts, and every movement is a timebank.changed with its balance."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from dev.testing import cloud_event, publish_raw, running_app, wait_until
from services.activities.main import create_app
from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED, REGION_DEFINED
from shared.events.timebank import TIMEBANK_CHANGED, TIMEBANK_OFFER_CHANGED

from .helpers import COMMUNITY, at, error, exactly, seed_members

PLATFORM = "/city/volunteer-platform"
OTHER_ADMIN = "community-admin-token-0002"
TOKENS = (
    "test-city-admin-token-0001:city_admin:*,test-readonly-token-00001:service:*,"
    f"{OTHER_ADMIN}:community_admin:350302001999"
)


def region(region_id: str, level: str, parent: str) -> tuple[str, bytes, dict[str, Any]]:
    data = {"region_id": region_id, "level": level, "name": region_id, "parent_id": parent}
    return REGION_DEFINED, region_id.encode(), cloud_event(REGION_DEFINED, data, subject=region_id)


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


async def setup(kafka: Any, pool: Any, *members: str) -> None:
    await publish_raw(
        kafka.bootstrap,
        [region("350302001", "street", "350302"), region(COMMUNITY, "community", "350302001")],
    )
    await seed_members(kafka.bootstrap, pool, *members)
    await wait_until(lambda: pool.fetchval("SELECT count(*) = 2 FROM region_projection"))


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
    settings_for, kafka
) -> None:
    app = create_app(settings_for("activities"))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await setup(kafka, pool, "M1")
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
        await client.post(f"{base}/checkins", json={"member_id": "M1", "code": code})
        await client.post(f"{base}/checkouts", json={"member_id": "M1", "hours": 2.5})
        assert (await client.post(f"{base}/confirmations", json={})).json()["confirmed"] == ["M1"]
        assert await balance(client, "M1") == Decimal("2.5")  # banked in the same transaction

        # outside: twelve 20-hour records in one month (far beyond any points cap), one sent
        # twice, and a study record that is not volunteering
        records = [logged("M1", 20, f"vp-{i}") for i in range(12)]
        await publish_raw(
            kafka.bootstrap, [*records, records[0], logged("M1", None, "vp-study", "study")]
        )
        await balance_becomes(client, "M1", "242.50")

        statement = (await client.get("/v1/timebank/accounts/M1/statement")).json()["items"]
        assert [i["kind"] for i in statement] == ["earned"] * 13
        running_balance_holds(statement)
        assert {i["logged_source"] for i in statement[1:]} == {PLATFORM}
        assert statement[0]["logged_source"] == "/partygrid/activities"
        # the organiser cancels M1's confirmed participation: its own revocation takes back
        r = await client.post(f"{base}/participants/M1/cancel", json={"reason": "duplicate"})
        assert r.status_code == 200, r.text
        assert await balance(client, "M1") == Decimal("240")

        events = await exactly(kafka.bootstrap, pool, TIMEBANK_CHANGED, 14)
        assert sorted(Decimal(e.data["balance"]) for e in events)[-1] == Decimal("242.50")
        assert all(e.subject == "M1" for e in events)


async def test_a_revoked_volunteer_record_takes_its_hours_back(settings_for, kafka) -> None:
    app = create_app(settings_for("activities"))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await setup(kafka, pool, "M1")
        await publish_raw(kafka.bootstrap, [logged("M1", 3, "vp-1"), logged("M1", 1, "vp-2")])
        await balance_becomes(client, "M1", "4")
        haircut = await offer(client, 3)
        r = await client.post(
            f"/v1/timebank/offers/{haircut}/redemptions", json={"account_id": "M1"}
        )
        assert r.status_code == 201 and Decimal(str(r.json()["balance"])) == 1, r.text

        # the 3 hours already spent are taken back: the balance goes below zero, and stays
        # visible as a debt; nothing more can be spent until it is earned back
        await publish_raw(kafka.bootstrap, [revoked("M1", "vp-1"), revoked("M1", "vp-1")])
        await balance_becomes(client, "M1", "-2")
        r = await client.post(
            f"/v1/timebank/offers/{haircut}/redemptions", json={"account_id": "M1"}
        )
        assert (r.status_code, error(r)) == (409, "insufficient_hours")

        # a revocation that arrives before its record: the record earns nothing
        await publish_raw(kafka.bootstrap, [revoked("M1", "vp-3")])
        await wait_until(lambda: pool.fetchval("SELECT count(*) = 2 FROM timebank_revocations"))
        await publish_raw(kafka.bootstrap, [logged("M1", 5, "vp-3"), logged("M1", 0.5, "vp-4")])
        await balance_becomes(client, "M1", "-1.5")

        statement = (await client.get("/v1/timebank/accounts/M1/statement")).json()["items"]
        assert [(i["kind"], i["logged_id"]) for i in statement] == [
            ("earned", "vp-1"),
            ("earned", "vp-2"),
            ("redeemed", None),
            ("revoked", "vp-1"),
            ("earned", "vp-4"),
        ]
        running_balance_holds(statement)
        account = (await client.get("/v1/timebank/accounts/M1")).json()
        assert (Decimal(str(account["earned"])), Decimal(str(account["redeemed"]))) == (
            Decimal("1.5"),
            Decimal("3"),
        )


async def test_simultaneous_redemptions_never_take_a_balance_below_zero(
    settings_for, kafka
) -> None:
    app = create_app(settings_for("activities", db_pool_max=12))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await setup(kafka, pool, "M1")
        await publish_raw(kafka.bootstrap, [logged("M1", 10, "vp-1")])
        await balance_becomes(client, "M1", "10")
        meal = await offer(client, 3, "A cooked meal delivered")

        async def redeem() -> httpx.Response:
            return await client.post(
                f"/v1/timebank/offers/{meal}/redemptions", json={"account_id": "M1"}
            )

        answers = await asyncio.gather(*(redeem() for _ in range(10)))
        assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 7
        assert {error(r) for r in answers if r.status_code == 409} == {"insufficient_hours"}
        assert await balance(client, "M1") == Decimal("1")
        statement = (await client.get("/v1/timebank/accounts/M1/statement")).json()["items"]
        assert [i["kind"] for i in statement] == ["earned"] + ["redeemed"] * 3
        running_balance_holds(statement)


async def test_hours_are_given_to_another_account_once_per_request(settings_for, kafka) -> None:
    app = create_app(settings_for("activities", api_tokens=TOKENS))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await setup(kafka, pool, "M1", "M2")
        await publish_raw(kafka.bootstrap, [logged("M1", 6, "vp-1")])
        await balance_becomes(client, "M1", "6")
        # the community opens an account for an elderly neighbour who is not a member
        r = await client.post(
            "/v1/timebank/accounts", json={"account_id": "R-WANG", "community_id": COMMUNITY}
        )
        assert r.status_code == 201 and r.json()["kind"] == "resident", r.text
        gift = {"to_account_id": "R-WANG", "hours": 4, "note": "for Mrs. Wang", "request_id": "g1"}
        r = await client.post("/v1/timebank/accounts/M1/gifts", json=gift)
        assert r.status_code == 201 and r.json()["kind"] == "given", r.text
        again = await client.post("/v1/timebank/accounts/M1/gifts", json=gift)
        assert again.status_code == 200 and again.json()["entry_id"] == r.json()["entry_id"]
        r = await client.post("/v1/timebank/accounts/M1/gifts", json={**gift, "hours": 1})
        assert (r.status_code, error(r)) == (409, "request_conflict")
        assert (await balance(client, "M1"), await balance(client, "R-WANG")) == (2, 4)

        # never below zero; never to oneself; only to an account or a registered member
        for body, want in (
            ({"to_account_id": "M2", "hours": 2.01}, (409, "insufficient_hours")),
            ({"to_account_id": "M1", "hours": 1}, (422, "same_account")),
            ({"to_account_id": "NOBODY", "hours": 1}, (422, "unknown_account")),
            ({"to_account_id": "M2", "hours": 0}, (422, "invalid_request")),
        ):
            r = await client.post("/v1/timebank/accounts/M1/gifts", json=body)
            assert (r.status_code, error(r)) == want, body
        r = await client.post(
            "/v1/timebank/accounts/M1/gifts", json={"to_account_id": "M2", "hours": 2}
        )
        assert r.status_code == 201 and await balance(client, "M2") == 2

        events = await exactly(kafka.bootstrap, pool, TIMEBANK_CHANGED, 5)
        # keyed by account, so read back per partition: compare as a set
        assert sorted((e.subject, e.data["kind"], e.data["balance"]) for e in events) == [
            ("M1", "earned", "6.00"),
            ("M1", "given", "0.00"),
            ("M1", "given", "2.00"),
            ("M2", "received", "2.00"),
            ("R-WANG", "received", "4.00"),
        ]


async def test_the_catalogue_is_a_communitys_own_and_checked(settings_for, kafka) -> None:
    app = create_app(settings_for("activities", api_tokens=TOKENS))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await setup(kafka, pool, "M1")
        for body, want in (
            ({"community_id": "NOWHERE", "title": "x", "hours": 1}, "unknown_region"),
            ({"community_id": "350302001", "title": "x", "hours": 1}, "wrong_region_level"),
            ({"community_id": COMMUNITY, "title": "x", "hours": 0}, "invalid_request"),
            ({"community_id": COMMUNITY, "title": "", "hours": 1}, "invalid_request"),
        ):
            r = await client.post("/v1/timebank/offers", json=body)
            assert (r.status_code, error(r)) == (422, want), body
        other = {"Authorization": f"Bearer {OTHER_ADMIN}"}
        r = await client.post(
            "/v1/timebank/offers",
            json={"community_id": COMMUNITY, "title": "x", "hours": 1},
            headers=other,
        )
        assert (r.status_code, error(r)) == (403, "forbidden")

        haircut = await offer(client, 2)
        listed = (await client.get(f"/v1/timebank/offers?community_id={COMMUNITY}")).json()
        assert [o["offer_id"] for o in listed["items"]] == [haircut]
        r = await client.post(f"/v1/timebank/offers/{haircut}/withdraw")
        assert r.json()["status"] == "withdrawn"
        await publish_raw(kafka.bootstrap, [logged("M1", 5, "vp-1")])
        await balance_becomes(client, "M1", "5")
        r = await client.post(
            f"/v1/timebank/offers/{haircut}/redemptions", json={"account_id": "M1"}
        )
        assert (r.status_code, error(r)) == (409, "offer_withdrawn")
        events = await exactly(kafka.bootstrap, pool, TIMEBANK_OFFER_CHANGED, 2)
        assert [e.data["status"] for e in events] == ["listed", "withdrawn"]
