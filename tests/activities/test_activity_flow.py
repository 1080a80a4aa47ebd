"""Organised activities end to end over HTTP, the real database and the real broker: sign-up
within capacity, venue check-in codes, check-out hours, confirmation into exactly one
activity.logged per participation, and revocation when a confirmed participation or a whole
activity is cancelled."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from services.activities.main import create_app
from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED
from shared.events.activities import ACTIVITY_CANCELLED, ACTIVITY_PUBLISHED
from shared.testing import publish_raw, running_app, wait_until

from .helpers import (
    COMMUNITY,
    SOURCE,
    at,
    deregistered,
    error,
    exactly,
    registered,
    seed_members,
    seed_regions,
)


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


async def test_volunteer_activity_from_sign_up_to_logged_and_revoked(settings_for, kafka) -> None:
    app = create_app(settings_for("activities"))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await seed_regions(kafka.bootstrap, pool)
        await seed_members(kafka.bootstrap, pool, "M1", "M2", "M3")
        r = await client.post("/v1/activities", json=activity())
        assert r.status_code == 201, r.text
        aid = r.json()["activity_id"]
        assert r.json()["status"] == "published"
        base = f"/v1/activities/{aid}"

        # sign-up within capacity, once per member, known members only
        assert (await client.post(f"{base}/signups", json={"member_id": "M1"})).status_code == 201
        r = await client.post(f"{base}/signups", json={"member_id": "M1"})
        assert (r.status_code, error(r)) == (409, "already_signed_up")
        r = await client.post(f"{base}/signups", json={"member_id": "NOBODY"})
        assert (r.status_code, error(r)) == (422, "unknown_member")
        assert (await client.post(f"{base}/signups", json={"member_id": "M2"})).status_code == 201
        r = await client.post(f"{base}/signups", json={"member_id": "M3"})
        assert (r.status_code, error(r)) == (409, "activity_full")
        assert await pool.fetchval("SELECT count(*) FROM participations") == 2

        # the venue code: stable while fresh, valid five minutes
        code = (await client.get(f"{base}/checkin-code")).json()
        again = (await client.get(f"{base}/checkin-code")).json()
        assert again["code"] == code["code"]
        r = await client.post(f"{base}/checkins", json={"member_id": "M1", "code": "12345"})
        assert r.status_code == 422 and error(r) == "invalid_request"
        wrong = "000000" if code["code"] != "000000" else "111111"
        r = await client.post(f"{base}/checkins", json={"member_id": "M1", "code": wrong})
        assert (r.status_code, error(r)) == (422, "invalid_code")
        ok = await client.post(f"{base}/checkins", json={"member_id": "M1", "code": code["code"]})
        assert ok.status_code == 200 and ok.json()["status"] == "checked_in", ok.text
        r = await client.post(f"{base}/checkins", json={"member_id": "M1", "code": code["code"]})
        assert (r.status_code, error(r)) == (409, "already_checked_in")

        # the code expires: let five minutes pass for it
        await pool.execute("UPDATE checkin_codes SET expires_at = now() - interval '1 second'")
        r = await client.post(f"{base}/checkins", json={"member_id": "M2", "code": code["code"]})
        assert (r.status_code, error(r)) == (409, "code_expired")
        fresh = (await client.get(f"{base}/checkin-code")).json()
        assert fresh["code"] != code["code"] or fresh["expires_at"] != code["expires_at"]
        r = await client.post(f"{base}/checkins", json={"member_id": "M2", "code": fresh["code"]})
        assert r.status_code == 200, r.text

        # check-out: hours required for volunteering, 0 < h <= 24, two decimals
        out = f"{base}/checkouts"
        for bad in ({}, {"hours": 0}, {"hours": 24.01}, {"hours": -1}, {"hours": 1.234}):
            r = await client.post(out, json={"member_id": "M1", **bad})
            assert 400 <= r.status_code < 500 and "error" in r.json(), (bad, r.text)
        r = await client.post(out, json={"member_id": "M3", "hours": 2})
        assert (r.status_code, error(r)) == (409, "not_checked_in")
        r = await client.post(out, json={"member_id": "M1", "hours": 2.5})
        assert r.status_code == 200 and Decimal(str(r.json()["hours"])) == Decimal("2.5")

        # confirmation: M1 only (M2 has not checked out); retried → nothing new
        r = await client.post(f"{base}/confirmations", json={"member_ids": ["M1", "M2"]})
        assert (r.status_code, error(r)) == (409, "not_confirmable")
        assert (
            await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", ACTIVITY_LOGGED)
            == 0
        )
        r = await client.post(f"{base}/confirmations", json={})
        assert r.json()["confirmed"] == ["M1"], r.text
        assert r.json()["skipped"] == [{"member_id": "M2", "reason": "not_checked_out"}]
        r = await client.post(f"{base}/confirmations", json={"member_ids": ["M1"]})
        assert r.json()["confirmed"] == [] and r.json()["already_confirmed"] == ["M1"]

        [logged] = await exactly(kafka.bootstrap, pool, ACTIVITY_LOGGED, 1)
        assert logged.source == SOURCE and logged.subject == "M1"
        assert logged.id == f"activity/{aid}/member/M1/r1"
        assert logged.data == {
            "member_id": "M1",
            "activity_type": "volunteer_service",
            "activity_id": aid,
            "community_id": COMMUNITY,
            "hours": "2.50",
        }

        # cancelling the confirmed participation revokes exactly that event; the place frees up
        r = await client.post(f"{base}/participants/M1/cancel", json={"reason": "duplicate"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        [revoked] = await exactly(kafka.bootstrap, pool, ACTIVITY_REVOKED, 1)
        assert revoked.data["revokes"] == {"source": SOURCE, "id": logged.id}
        assert revoked.subject == "M1"
        r = await client.post(f"{base}/signups", json={"member_id": "M3"})
        assert r.status_code == 201, r.text

        detail = (await client.get(base)).json()
        assert {p["member_id"]: p["status"] for p in detail["participants"]} == {
            "M1": "cancelled",
            "M2": "checked_in",
            "M3": "signed_up",
        }
        [pub] = await exactly(kafka.bootstrap, pool, ACTIVITY_PUBLISHED, 1)
        assert pub.data["activity_id"] == aid and pub.data["capacity"] == 2


async def test_rules_window_and_cancelling_a_whole_activity(settings_for, kafka) -> None:
    app = create_app(settings_for("activities"))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        # M9 registered, then deregistered; the events arrive newest first
        await publish_raw(
            kafka.bootstrap, [deregistered("M9", time=at(-1)), registered("M9", time=at(-60))]
        )
        await seed_regions(kafka.bootstrap, pool)
        await seed_members(kafka.bootstrap, pool, "M1", "M2")
        await wait_until(
            lambda: pool.fetchval(
                "SELECT status = 'deregistered' FROM member_projection WHERE member_id = 'M9'"
            )
        )

        # invalid activities: JSON 4xx, nothing written
        for bad in (
            activity(ends_at=at(-20)),
            activity(activity_type="wish_fulfilled"),
            activity(activity_type="dancing"),
            activity(capacity=0),
            activity(starts_at="2026-11-01T09:00:00"),  # no offset
            {"title": "only a title"},
        ):
            r = await client.post("/v1/activities", json=bad)
            assert r.status_code == 422 and "error" in r.json(), (bad, r.text)
        assert await pool.fetchval("SELECT count(*) FROM activities") == 0

        # a draft cannot be signed up for
        draft = (await client.post("/v1/activities", json=activity(publish=False))).json()
        r = await client.post(
            f"/v1/activities/{draft['activity_id']}/signups", json={"member_id": "M1"}
        )
        assert (r.status_code, error(r)) == (409, "activity_draft")

        # check-in before the activity opens
        later = (
            await client.post("/v1/activities", json=activity(starts_at=at(180), ends_at=at(240)))
        ).json()
        base = f"/v1/activities/{later['activity_id']}"
        assert (await client.post(f"{base}/signups", json={"member_id": "M1"})).status_code == 201
        r = await client.post(f"{base}/signups", json={"member_id": "M9"})
        assert (r.status_code, error(r)) == (422, "member_deregistered")
        code = (await client.get(f"{base}/checkin-code")).json()["code"]
        r = await client.post(f"{base}/checkins", json={"member_id": "M1", "code": code})
        assert (r.status_code, error(r)) == (409, "checkin_not_open")
        assert (await client.get(base)).json()["participants"][0]["status"] == "signed_up"

        # organisation life: confirmed from check-in (no hours); cancelling the activity
        # revokes both confirmations
        life = (
            await client.post(
                "/v1/activities",
                json=activity(
                    activity_type="organization_life",
                    organiser_kind="party_org",
                    organiser_id="PO-1",
                    capacity=10,
                ),
            )
        ).json()
        base = f"/v1/activities/{life['activity_id']}"
        code = (await client.get(f"{base}/checkin-code")).json()["code"]
        for m in ("M1", "M2"):  # walk-ins
            r = await client.post(f"{base}/checkins", json={"member_id": m, "code": code})
            assert r.status_code == 200, r.text
        r = await client.post(f"{base}/confirmations", json={})
        assert r.json()["confirmed"] == ["M1", "M2"]
        logged = await exactly(kafka.bootstrap, pool, ACTIVITY_LOGGED, 2)
        assert all("hours" not in e.data for e in logged)
        r = await client.post(f"{base}/cancel", json={"reason": "held twice by mistake"})
        assert r.status_code == 200 and r.json()["revoked"] == 2
        again = await client.post(f"{base}/cancel", json={})
        assert again.json()["revoked"] == 0
        revoked = await exactly(kafka.bootstrap, pool, ACTIVITY_REVOKED, 2)
        assert {e.data["revokes"]["id"] for e in revoked} == {e.id for e in logged}
        [cancelled] = await exactly(kafka.bootstrap, pool, ACTIVITY_CANCELLED, 1)
        assert cancelled.data["activity_id"] == life["activity_id"]
        r = await client.post(f"{base}/signups", json={"member_id": "M1"})
        assert (r.status_code, error(r)) == (409, "activity_cancelled")

        # tokens: read-only may not write; a community admin only in its community
        ro = {"Authorization": "Bearer test-readonly-token-00001"}
        r = await client.post("/v1/activities", json=activity(), headers=ro)
        assert r.status_code == 403 and error(r) == "forbidden"
        r = await client.get("/v1/activities", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401


async def test_concurrent_sign_ups_never_exceed_capacity(settings_for, kafka) -> None:
    app = create_app(settings_for("activities"))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        members = [f"M{i}" for i in range(8)]
        await seed_regions(kafka.bootstrap, pool)
        await seed_members(kafka.bootstrap, pool, *members)
        aid = (await client.post("/v1/activities", json=activity(capacity=3))).json()["activity_id"]
        url = f"/v1/activities/{aid}/signups"
        results = await asyncio.gather(
            *(client.post(url, json={"member_id": m}) for m in [*members, "M0", "M1"])
        )
        codes = sorted(r.status_code for r in results)
        assert codes == [201] * 3 + [409] * 7, [r.text for r in results]
        assert await pool.fetchval("SELECT count(*) FROM participations") == 3
