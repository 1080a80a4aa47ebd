"""Organised activities over HTTP, the real database and the real broker: sign-up within
capacity, venue check-in codes, check-out hours, confirmation into exactly one activity.logged
per participation, and revocation when a confirmed participation or a whole activity is
cancelled. The tests share one service (the `service` fixture); each creates its own
activities."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

from dev.testing import publish_raw, wait_until
from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED
from shared.events.activities import ACTIVITY_CANCELLED, ACTIVITY_PUBLISHED

from .helpers import COMMUNITY, SOURCE, Service, at, deregistered, error, registered, with_id


def activity(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "activity_type": "volunteer_service",
        "title": "Clean the riverside",
        "organiser_kind": "community",
        "organiser_id": COMMUNITY,
        "community_id": COMMUNITY,
        "starts_at": at(-10),
        "ends_at": at(110),
        "place": "Riverside park gate",
        "capacity": 2,
        "publish": True,
    }
    body.update(overrides)
    return body


async def created(service: Service, **overrides: object) -> str:
    """A new activity (published, under way, two places unless overridden); its URL."""
    r = await service.client.post("/v1/activities", json=activity(**overrides))
    assert r.status_code == 201, r.text
    return f"/v1/activities/{r.json()['activity_id']}"


async def post(service: Service, url: str, body: dict[str, Any], status: int = 200) -> Any:
    r = await service.client.post(url, json=body)
    assert r.status_code == status, r.text
    return r.json()


async def code_of(service: Service, base: str) -> str:
    return str((await service.client.get(f"{base}/checkin-code")).json()["code"])


async def checked_in(service: Service, *members: str, **overrides: object) -> str:
    """An activity the members walked in to; its URL."""
    base = await created(service, **overrides)
    code = await code_of(service, base)
    for m in members:
        await post(service, f"{base}/checkins", {"member_id": m, "code": code})
    return base


async def confirmed_m1(service: Service) -> tuple[str, str]:
    """A volunteer activity where M1 checked out with 2.5 hours and was confirmed and M2 only
    checked in; its URL and id."""
    base = await checked_in(service, "M1", "M2")
    await post(service, f"{base}/checkouts", {"member_id": "M1", "hours": 2.5})
    await post(service, f"{base}/confirmations", {})
    return base, base.rsplit("/", 1)[1]


def participations(service: Service, base: str) -> Any:
    aid = base.rsplit("/", 1)[1]
    return service.pool.fetchval(
        "SELECT count(*) FROM participations WHERE activity_id = $1 AND status <> 'cancelled'",
        aid,
    )


# --- creating and signing up ---------------------------------------------------------------


async def test_an_activity_published_at_creation_is_announced(service: Service) -> None:
    r = await service.client.post("/v1/activities", json=activity())
    assert r.status_code == 201 and r.json()["status"] == "published", r.text
    aid = r.json()["activity_id"]
    [pub] = await with_id(service, ACTIVITY_PUBLISHED, f"activity/{aid}/published")
    assert pub.data["activity_id"] == aid and pub.data["capacity"] == 2


async def test_an_invalid_activity_is_refused_and_nothing_is_written(service: Service) -> None:
    before = await service.pool.fetchval("SELECT count(*) FROM activities")
    for bad in (
        activity(ends_at=at(-20)),
        activity(activity_type="wish_fulfilled"),
        activity(activity_type="dancing"),
        activity(capacity=0),
        activity(starts_at="2026-11-01T09:00:00"),  # no offset
        {"title": "only a title"},
    ):
        r = await service.client.post("/v1/activities", json=bad)
        assert r.status_code == 422 and "error" in r.json(), (bad, r.text)
    assert await service.pool.fetchval("SELECT count(*) FROM activities") == before


async def test_a_member_signs_up_once(service: Service) -> None:
    base = await created(service)
    await post(service, f"{base}/signups", {"member_id": "M1"}, 201)
    r = await service.client.post(f"{base}/signups", json={"member_id": "M1"})
    assert (r.status_code, error(r)) == (409, "already_signed_up")


async def test_an_unknown_member_cannot_sign_up(service: Service) -> None:
    base = await created(service)
    r = await service.client.post(f"{base}/signups", json={"member_id": "NOBODY"})
    assert (r.status_code, error(r)) == (422, "unknown_member")


async def test_a_member_deregistered_by_the_newest_event_cannot_sign_up(service: Service) -> None:
    member = f"MD-{uuid.uuid4().hex[:6]}"
    # registered, then deregistered; the events arrive newest first
    await publish_raw(
        service.bootstrap,
        [deregistered(member, time=at(-1)), registered(member, time=at(-60))],
    )
    status = "SELECT status = 'deregistered' FROM member_projection WHERE member_id = $1"
    await wait_until(lambda: service.pool.fetchval(status, member))
    base = await created(service)
    r = await service.client.post(f"{base}/signups", json={"member_id": member})
    assert (r.status_code, error(r)) == (422, "member_deregistered")


async def test_sign_ups_stop_at_the_capacity(service: Service) -> None:
    base = await created(service)
    for m in ("M1", "M2"):
        await post(service, f"{base}/signups", {"member_id": m}, 201)
    r = await service.client.post(f"{base}/signups", json={"member_id": "M3"})
    assert (r.status_code, error(r)) == (409, "activity_full")
    assert await participations(service, base) == 2


async def test_concurrent_sign_ups_never_exceed_capacity(service: Service) -> None:
    members = [f"M{i}" for i in range(8)]
    url = f"{await created(service, capacity=3)}/signups"
    results = await asyncio.gather(
        *(service.client.post(url, json={"member_id": m}) for m in [*members, "M0", "M1"])
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 3 + [409] * 7, [r.text for r in results]
    assert await participations(service, url.removesuffix("/signups")) == 3


async def test_a_draft_cannot_be_signed_up_for(service: Service) -> None:
    base = await created(service, publish=False)
    r = await service.client.post(f"{base}/signups", json={"member_id": "M1"})
    assert (r.status_code, error(r)) == (409, "activity_draft")


async def test_a_read_only_token_may_not_create_and_an_unknown_token_is_unauthorised(
    service: Service,
) -> None:
    ro = {"Authorization": "Bearer test-readonly-token-00001"}
    r = await service.client.post("/v1/activities", json=activity(), headers=ro)
    assert r.status_code == 403 and error(r) == "forbidden"
    r = await service.client.get("/v1/activities", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


# --- venue codes and check-in --------------------------------------------------------------


async def test_the_venue_code_stays_the_same_while_fresh(service: Service) -> None:
    base = await created(service)
    code = (await service.client.get(f"{base}/checkin-code")).json()
    again = (await service.client.get(f"{base}/checkin-code")).json()
    assert again["code"] == code["code"]


async def test_a_malformed_or_wrong_code_is_refused(service: Service) -> None:
    base = await created(service)
    code = await code_of(service, base)
    r = await service.client.post(f"{base}/checkins", json={"member_id": "M1", "code": "12345"})
    assert r.status_code == 422 and error(r) == "invalid_request"
    wrong = "000000" if code != "000000" else "111111"
    r = await service.client.post(f"{base}/checkins", json={"member_id": "M1", "code": wrong})
    assert (r.status_code, error(r)) == (422, "invalid_code")


async def test_a_member_checks_in_once(service: Service) -> None:
    base = await created(service)
    await post(service, f"{base}/signups", {"member_id": "M1"}, 201)
    code = await code_of(service, base)
    ok = await post(service, f"{base}/checkins", {"member_id": "M1", "code": code})
    assert ok["status"] == "checked_in"
    r = await service.client.post(f"{base}/checkins", json={"member_id": "M1", "code": code})
    assert (r.status_code, error(r)) == (409, "already_checked_in")


async def test_an_expired_code_is_refused_and_a_fresh_one_is_issued(service: Service) -> None:
    base = await created(service)
    aid = base.rsplit("/", 1)[1]
    code = (await service.client.get(f"{base}/checkin-code")).json()
    # the code expires: let five minutes pass for it
    await service.pool.execute(
        "UPDATE checkin_codes SET expires_at = now() - interval '1 second' WHERE activity_id = $1",
        aid,
    )
    r = await service.client.post(
        f"{base}/checkins", json={"member_id": "M2", "code": code["code"]}
    )
    assert (r.status_code, error(r)) == (409, "code_expired")
    fresh = (await service.client.get(f"{base}/checkin-code")).json()
    assert fresh["code"] != code["code"] or fresh["expires_at"] != code["expires_at"]
    await post(service, f"{base}/checkins", {"member_id": "M2", "code": fresh["code"]})


async def test_check_in_before_the_window_opens_is_refused(service: Service) -> None:
    base = await created(service, starts_at=at(180), ends_at=at(240))
    await post(service, f"{base}/signups", {"member_id": "M1"}, 201)
    code = await code_of(service, base)
    r = await service.client.post(f"{base}/checkins", json={"member_id": "M1", "code": code})
    assert (r.status_code, error(r)) == (409, "checkin_not_open")
    assert (await service.client.get(base)).json()["participants"][0]["status"] == "signed_up"


# --- check-out and confirmation -------------------------------------------------------------


async def test_volunteer_check_out_takes_hours_over_0_up_to_24_with_two_decimals(
    service: Service,
) -> None:
    out = f"{await checked_in(service, 'M1')}/checkouts"
    for bad in ({}, {"hours": 0}, {"hours": 24.01}, {"hours": -1}, {"hours": 1.234}):
        r = await service.client.post(out, json={"member_id": "M1", **bad})
        assert 400 <= r.status_code < 500 and "error" in r.json(), (bad, r.text)
    done = await post(service, out, {"member_id": "M1", "hours": 2.5})
    assert Decimal(str(done["hours"])) == Decimal("2.5")


async def test_check_out_needs_a_check_in(service: Service) -> None:
    out = f"{await checked_in(service, 'M1')}/checkouts"
    r = await service.client.post(out, json={"member_id": "M3", "hours": 2})
    assert (r.status_code, error(r)) == (409, "not_checked_in")


async def test_named_members_are_confirmed_all_or_none(service: Service) -> None:
    base = await checked_in(service, "M1", "M2")
    aid = base.rsplit("/", 1)[1]
    await post(service, f"{base}/checkouts", {"member_id": "M1", "hours": 2.5})
    r = await service.client.post(f"{base}/confirmations", json={"member_ids": ["M1", "M2"]})
    assert (r.status_code, error(r)) == (409, "not_confirmable")
    assert await with_id(service, ACTIVITY_LOGGED, f"activity/{aid}/", prefix=True) == []


async def test_confirmation_logs_one_activity_logged_per_participation(service: Service) -> None:
    base = await checked_in(service, "M1", "M2")
    aid = base.rsplit("/", 1)[1]
    await post(service, f"{base}/checkouts", {"member_id": "M1", "hours": 2.5})
    # M2 has not checked out, and volunteer service needs its hours
    r = await post(service, f"{base}/confirmations", {})
    assert r["confirmed"] == ["M1"]
    assert r["skipped"] == [{"member_id": "M2", "reason": "not_checked_out"}]
    r = await post(service, f"{base}/confirmations", {"member_ids": ["M1"]})
    assert r["confirmed"] == [] and r["already_confirmed"] == ["M1"]
    [logged] = await with_id(service, ACTIVITY_LOGGED, f"activity/{aid}/", prefix=True)
    assert logged.source == SOURCE and logged.subject == "M1"
    assert logged.id == f"activity/{aid}/member/M1/r1"
    assert logged.data == {
        "member_id": "M1",
        "activity_type": "volunteer_service",
        "activity_id": aid,
        "community_id": COMMUNITY,
        "hours": "2.50",
    }


async def test_cancelling_a_confirmed_participation_revokes_it_and_frees_the_place(
    service: Service,
) -> None:
    base, aid = await confirmed_m1(service)
    logged_id = f"activity/{aid}/member/M1/r1"
    r = await post(service, f"{base}/participants/M1/cancel", {"reason": "duplicate"})
    assert r["status"] == "cancelled"
    [revoked] = await with_id(service, ACTIVITY_REVOKED, f"activity/{aid}/", prefix=True)
    assert revoked.data["revokes"] == {"source": SOURCE, "id": logged_id}
    assert revoked.subject == "M1"
    await post(service, f"{base}/signups", {"member_id": "M3"}, 201)
    detail = (await service.client.get(base)).json()
    assert {p["member_id"]: p["status"] for p in detail["participants"]} == {
        "M1": "cancelled",
        "M2": "checked_in",
        "M3": "signed_up",
    }


async def test_organisation_life_is_confirmed_from_check_in_without_hours(
    service: Service,
) -> None:
    base = await checked_in(
        service,
        "M1",
        "M2",  # walk-ins
        activity_type="organization_life",
        organiser_kind="party_org",
        organiser_id="PO-1",
        capacity=10,
    )
    aid = base.rsplit("/", 1)[1]
    r = await post(service, f"{base}/confirmations", {})
    assert r["confirmed"] == ["M1", "M2"]
    logged = await with_id(service, ACTIVITY_LOGGED, f"activity/{aid}/", prefix=True)
    assert len(logged) == 2 and all("hours" not in e.data for e in logged)


# --- cancelling a whole activity ------------------------------------------------------------


async def test_cancelling_an_activity_revokes_every_confirmation_once(service: Service) -> None:
    base = await checked_in(
        service,
        "M1",
        "M2",
        activity_type="organization_life",
        organiser_kind="party_org",
        organiser_id="PO-1",
        capacity=10,
    )
    aid = base.rsplit("/", 1)[1]
    await post(service, f"{base}/confirmations", {})
    r = await post(service, f"{base}/cancel", {"reason": "held twice by mistake"})
    assert r["revoked"] == 2
    again = await post(service, f"{base}/cancel", {})
    assert again["revoked"] == 0
    logged = await with_id(service, ACTIVITY_LOGGED, f"activity/{aid}/", prefix=True)
    revoked = await with_id(service, ACTIVITY_REVOKED, f"activity/{aid}/", prefix=True)
    assert len(revoked) == 2
    assert {e.data["revokes"]["id"] for e in revoked} == {e.id for e in logged}
    [cancelled] = await with_id(service, ACTIVITY_CANCELLED, f"activity/{aid}/cancelled")
    assert cancelled.data["activity_id"] == aid


async def test_a_cancelled_activity_takes_no_sign_ups(service: Service) -> None:
    base = await created(service)
    await post(service, f"{base}/cancel", {})
    r = await service.client.post(f"{base}/signups", json={"member_id": "M1"})
    assert (r.status_code, error(r)) == (409, "activity_cancelled")
