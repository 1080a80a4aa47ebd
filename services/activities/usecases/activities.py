"""Use cases of organised activities: create, publish, cancel, sign up, venue check-in
codes, check in and out, confirm (one activity.logged per participation) and cancel a
participation (activity.revoked if it was confirmed)."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.auth import Principal
from shared.db import Conn
from shared.events import ActivityType
from shared.events.activities import (
    ACTIVITY_CANCELLED,
    ACTIVITY_PUBLISHED,
    ActivityCancelled,
    ActivityPublished,
)
from shared.refusals import conflict, invalid, not_found

from ..domain import rules
from ..domain.activities import Activity, CancelledActivity, CheckinCode, Participation
from ..persistence import activities as db
from . import checks
from .banking import publish_own  # the outbox call that also banks volunteer hours
from .base import Row, UseCaseBase, _row, new_id, utcnow


class ActivityUseCases(UseCaseBase):
    async def create_activity(
        self, caller: Principal, body: dict[str, Any], publish: bool
    ) -> Activity:
        rules.check_activity_shape(body["activity_type"], body["starts_at"], body["ends_at"])
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            if body["organiser_kind"] == "community":
                await checks.community(conn, caller, body["organiser_id"], field="organiser_id")
            values = {
                "activity_id": new_id("A"),
                **body,
                "activity_type": body["activity_type"].value,
                "status": "draft",
                "created_at": now,
            }
            row = _row(await db.insert_activity(conn, values))
            if publish:
                row = await self._publish(conn, row, now)
        return db.as_activity(row)

    async def publish_activity(self, caller: Principal, activity_id: str) -> Activity:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._activity(conn, caller, activity_id)
            if row["status"] == "published":
                return db.as_activity(row)  # publishing twice is a no-op
            rules.check_activity_status(row["status"], want="draft", action="publish")
            return db.as_activity(await self._publish(conn, row, now))

    async def _publish(self, conn: Conn, row: Row, now: datetime) -> Row:
        row = _row(await db.set_activity_status(conn, row["activity_id"], "published", now))
        data = ActivityPublished(
            activity_id=row["activity_id"],
            activity_type=row["activity_type"],
            title=row["title"],
            organiser_kind=row["organiser_kind"],
            organiser_id=row["organiser_id"],
            community_id=row["community_id"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            place=row["place"],
            capacity=row["capacity"],
        )
        aid = row["activity_id"]
        await publish_own(
            conn, [self._event(ACTIVITY_PUBLISHED, data, aid, now, f"activity/{aid}/published")]
        )
        return row

    async def _activity(self, conn: Conn, caller: Principal, activity_id: str) -> Row:
        """Load and lock the activity, and check the caller's scope."""
        row = await db.activity(conn, activity_id, lock=True)
        if row is None:
            raise not_found("activity", activity_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def cancel_activity(
        self, caller: Principal, activity_id: str, reason: str | None
    ) -> CancelledActivity:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._activity(conn, caller, activity_id)
            if row["status"] == "cancelled":
                return CancelledActivity(db.as_activity(row), 0)
            was_published = row["status"] == "published"
            events = [
                self._revoked(
                    p["logged_event_id"], p["member_id"], reason or "activity cancelled", now
                )
                for p in await db.participations(conn, activity_id, lock=True)
                if p["status"] == rules.CONFIRMED
            ]
            revoked = len(events)
            await db.cancel_participations(conn, activity_id, now, reason)
            row = _row(await db.set_activity_status(conn, activity_id, "cancelled", now, reason))
            if was_published:
                events.append(
                    self._event(
                        ACTIVITY_CANCELLED,
                        ActivityCancelled(activity_id=activity_id, reason=reason),
                        activity_id,
                        now,
                        f"activity/{activity_id}/cancelled",
                    )
                )
            await publish_own(conn, events)
        return CancelledActivity(db.as_activity(row), revoked)

    async def get_activity(
        self, caller: Principal, activity_id: str
    ) -> tuple[Activity, list[Participation]]:
        async with self.pool.acquire() as conn:
            row = await db.activity(conn, activity_id)
            if row is None:
                raise not_found("activity", activity_id)
            await self._scope(conn, caller, row["community_id"])
            participants = await db.participations(conn, activity_id)
            return db.as_activity(row), [db.as_participation(p) for p in participants]

    async def list_activities(
        self, caller: Principal, community_id: str | None, status: str | None, limit: int
    ) -> list[Activity]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [
                db.as_activity(r) for r in await db.activities(conn, community_id, status, limit)
            ]

    async def sign_up(self, caller: Principal, activity_id: str, member_id: str) -> Participation:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)  # locked: places are counted
            rules.check_activity_status(act["status"], want="published", action="sign up")
            if now > rules.checkin_window(act["starts_at"], act["ends_at"])[1]:
                raise conflict("activity_over", "the activity is over; sign-up is closed")
            await self._member(conn, member_id)
            return await self._take_place(conn, act, member_id, now, checked_in=False)

    async def _take_place(
        self, conn: Conn, act: Row, member_id: str, now: datetime, checked_in: bool
    ) -> Participation:
        existing = await db.participation(conn, act["activity_id"], member_id)
        if existing is not None and existing["status"] != rules.CANCELLED:
            raise conflict("already_signed_up", f"member {member_id} has already signed up")
        taken = await db.places_taken(conn, act["activity_id"])
        if taken >= act["capacity"]:
            raise conflict(
                "activity_full", f"all {act['capacity']} places are taken", capacity=act["capacity"]
            )
        status = rules.CHECKED_IN if checked_in else rules.SIGNED_UP
        return db.as_participation(
            await db.sign_up(
                conn, act["activity_id"], member_id, now, status, now if checked_in else None
            )
        )

    async def checkin_code(self, caller: Principal, activity_id: str) -> CheckinCode:
        """The code to show at the venue: the current one while it has a minute left, else a
        fresh one valid for five minutes."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="issue a code")
            current = await db.usable_code(conn, activity_id, now + rules.CODE_MIN_LEFT)
            if current is not None:
                return db.as_code(current)
            while True:
                code = f"{secrets.randbelow(10**6):06d}"
                row = await db.insert_code(conn, activity_id, code, now, now + rules.CODE_TTL)
                if row is not None:
                    return db.as_code(row)

    async def check_in(
        self, caller: Principal, activity_id: str, member_id: str, code: str
    ) -> Participation:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="check in")
            rules.check_checkin_open(now, act["starts_at"], act["ends_at"])
            found = await db.code(conn, activity_id, code)
            if found is None:
                raise invalid(
                    "invalid_code", "this is not a check-in code of the activity", field="code"
                )
            if found["expires_at"] <= now:
                raise conflict(
                    "code_expired",
                    f"the code expired at {found['expires_at'].isoformat()}; "
                    "use the code shown at the venue now",
                    field="code",
                )
            await self._member(conn, member_id)
            existing = await db.participation(conn, activity_id, member_id)
            if existing is None or existing["status"] == rules.CANCELLED:
                # walk-in: takes a place if one is free
                return await self._take_place(conn, act, member_id, now, checked_in=True)
            rules.check_can_check_in(existing["status"])
            return db.as_participation(
                await db.update_participation(
                    conn, activity_id, member_id, status=rules.CHECKED_IN, checked_in_at=now
                )
            )

    async def check_out(
        self, caller: Principal, activity_id: str, member_id: str, hours: Decimal | None
    ) -> Participation:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="check out")
            volunteer = act["activity_type"] == ActivityType.VOLUNTEER_SERVICE.value
            parsed = rules.parse_hours(hours, required=volunteer)
            existing = await db.participation(conn, activity_id, member_id)
            rules.check_can_check_out(existing["status"] if existing else None)
            return db.as_participation(
                await db.update_participation(
                    conn,
                    activity_id,
                    member_id,
                    status=rules.CHECKED_OUT,
                    checked_out_at=now,
                    hours=parsed,
                )
            )

    async def confirm(
        self, caller: Principal, activity_id: str, member_ids: list[str] | None
    ) -> rules.Confirmation:
        """Confirm participations: each becomes exactly one activity.logged."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="confirm")
            kind = ActivityType(act["activity_type"])
            by_member = {p["member_id"]: p for p in await db.participations(conn, activity_id)}
            wanted = sorted(set(member_ids)) if member_ids is not None else sorted(by_member)
            outcome = rules.confirmation(
                activity_id, wanted, {m: p["status"] for m, p in by_member.items()}, kind
            )
            skipped = outcome.skipped
            if member_ids is not None and skipped:
                raise conflict(
                    "not_confirmable",
                    "some members cannot be confirmed; nothing was confirmed: "
                    + ", ".join(f"{s.member_id} ({s.reason})" for s in skipped),
                    members=[{"member_id": s.member_id, "reason": s.reason} for s in skipped],
                )
            events = []
            for p in (by_member[m] for m in outcome.confirmed):
                event_id = rules.participation_event_id(activity_id, p["member_id"], p["revision"])
                await db.update_participation(
                    conn,
                    activity_id,
                    p["member_id"],
                    status=rules.CONFIRMED,
                    confirmed_at=now,
                    logged_event_id=event_id,
                )
                events.append(
                    self._logged(
                        event_id,
                        p["checked_in_at"],
                        p["member_id"],
                        kind,
                        activity_id,
                        act["community_id"],
                        p["hours"],
                    )
                )
            await publish_own(conn, events)
        return outcome

    async def cancel_participation(
        self, caller: Principal, activity_id: str, member_id: str, reason: str | None
    ) -> Participation:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await self._activity(conn, caller, activity_id)
            p = await db.participation(conn, activity_id, member_id, lock=True)
            if p is None:
                raise not_found("participation", f"{activity_id}/{member_id}")
            if p["status"] == rules.CANCELLED:
                return db.as_participation(p)
            if p["status"] == rules.CONFIRMED:
                await publish_own(
                    conn,
                    [
                        self._revoked(
                            p["logged_event_id"],
                            member_id,
                            reason or "participation cancelled",
                            now,
                        )
                    ],
                )
            return db.as_participation(
                await db.update_participation(
                    conn,
                    activity_id,
                    member_id,
                    status=rules.CANCELLED,
                    cancelled_at=now,
                    cancel_reason=reason,
                )
            )
