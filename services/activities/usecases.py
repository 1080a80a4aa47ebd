"""Use cases of the activities service: one database transaction each, state change and the
events it causes written together (outbox), rules from `domain.rules`.

Events published: partygrid.activity.logged once per confirmed participation, fulfilled wish,
confirmed post-month and project service entry, each with a deterministic id (a retried
confirmation publishes nothing new); partygrid.activity.revoked when something logged is
cancelled; and the internal activity.published / activity.cancelled / wish.posted /
wish.claimed / project.created.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

from shared.auth import Principal
from shared.db import Conn
from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    ActivityLogged,
    ActivityRevoked,
    ActivityType,
    CloudEvent,
    EventRef,
    new_event,
)
from shared.events.activities import (
    ACTIVITY_CANCELLED,
    ACTIVITY_PUBLISHED,
    PROJECT_CREATED,
    WISH_CLAIMED,
    WISH_POSTED,
    ActivityCancelled,
    ActivityPublished,
    ProjectCreated,
    WishClaimed,
    WishPosted,
)
from shared.settings import Settings

from . import checks
from . import persistence as db
from .domain import rules
from .domain.rules import Refusal, conflict, invalid, not_found

# the outbox call that also banks the volunteer hours it publishes (time bank)
from .timebank import publish_own

Row = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _row(record: asyncpg.Record | None) -> Row:
    assert record is not None
    return dict(record)


@dataclass
class UseCases:
    pool: asyncpg.Pool
    settings: Settings

    # --- helpers ---------------------------------------------------------------------------

    def _event(
        self, type_: str, data: BaseModel, subject: str, time: datetime, id_: str | None = None
    ) -> CloudEvent:
        return new_event(
            type=type_, source=self.settings.source, data=data, subject=subject, time=time, id=id_
        )

    def _logged(
        self,
        event_id: str,
        time: datetime,
        member_id: str,
        activity_type: ActivityType,
        activity_id: str,
        community_id: str,
        hours: Decimal | None = None,
    ) -> CloudEvent:
        data = ActivityLogged(
            member_id=member_id,
            activity_type=activity_type,
            activity_id=activity_id,
            community_id=community_id,
            hours=hours if activity_type is ActivityType.VOLUNTEER_SERVICE else None,
        )
        return self._event(ACTIVITY_LOGGED, data, member_id, time, event_id)

    def _revoked(
        self, logged_id: str, member_id: str, reason: str | None, now: datetime
    ) -> CloudEvent:
        data = ActivityRevoked(
            member_id=member_id,
            revokes=EventRef(source=self.settings.source, id=logged_id),
            reason=reason,
        )
        return self._event(ACTIVITY_REVOKED, data, member_id, now, rules.revocation_id(logged_id))

    @staticmethod
    async def _scope(conn: Conn, caller: Principal, community_id: str) -> None:
        caller.require_region(await db.region_path(conn, community_id))

    @staticmethod
    def _scope_listing(caller: Principal, community_id: str | None) -> None:
        if community_id is None and not caller.may_access([]):
            raise Refusal(
                403,
                "forbidden",
                f"a {caller.role} token must name a community_id within its scope",
                {"field": "community_id"},
            )

    @staticmethod
    async def _member(conn: Conn, member_id: str) -> None:
        """The member must be known here (registered or reported) and not deregistered."""
        row = await db.member(conn, member_id)
        if row is None:
            raise invalid(
                "unknown_member",
                f"member {member_id} is unknown: no member.registered or member.reported "
                "has been received for it",
                field="member_id",
            )
        if row["status"] == "deregistered":
            raise invalid(
                "member_deregistered", f"member {member_id} is deregistered", field="member_id"
            )

    # --- activities ------------------------------------------------------------------------

    async def create_activity(self, caller: Principal, body: dict[str, Any], publish: bool) -> Row:
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
        return row

    async def publish_activity(self, caller: Principal, activity_id: str) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._activity(conn, caller, activity_id)
            if row["status"] == "published":
                return row  # publishing twice is a no-op
            rules.check_activity_status(row["status"], want="draft", action="publish")
            return await self._publish(conn, row, now)

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
    ) -> tuple[Row, int]:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._activity(conn, caller, activity_id)
            if row["status"] == "cancelled":
                return row, 0
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
        return row, revoked

    async def get_activity(self, caller: Principal, activity_id: str) -> tuple[Row, list[Row]]:
        async with self.pool.acquire() as conn:
            row = await db.activity(conn, activity_id)
            if row is None:
                raise not_found("activity", activity_id)
            await self._scope(conn, caller, row["community_id"])
            return dict(row), [dict(p) for p in await db.participations(conn, activity_id)]

    async def list_activities(
        self, caller: Principal, community_id: str | None, status: str | None, limit: int
    ) -> list[Row]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [dict(r) for r in await db.activities(conn, community_id, status, limit)]

    async def sign_up(self, caller: Principal, activity_id: str, member_id: str) -> Row:
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
    ) -> Row:
        existing = await db.participation(conn, act["activity_id"], member_id)
        if existing is not None and existing["status"] != rules.CANCELLED:
            raise conflict("already_signed_up", f"member {member_id} has already signed up")
        taken = await db.places_taken(conn, act["activity_id"])
        if taken >= act["capacity"]:
            raise conflict(
                "activity_full", f"all {act['capacity']} places are taken", capacity=act["capacity"]
            )
        status = rules.CHECKED_IN if checked_in else rules.SIGNED_UP
        return _row(
            await db.sign_up(
                conn, act["activity_id"], member_id, now, status, now if checked_in else None
            )
        )

    async def checkin_code(self, caller: Principal, activity_id: str) -> Row:
        """The code to show at the venue: the current one while it has a minute left, else a
        fresh one valid for five minutes."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="issue a code")
            current = await db.usable_code(conn, activity_id, now + rules.CODE_MIN_LEFT)
            if current is not None:
                return dict(current)
            while True:
                code = f"{secrets.randbelow(10**6):06d}"
                row = await db.insert_code(conn, activity_id, code, now, now + rules.CODE_TTL)
                if row is not None:
                    return dict(row)

    async def check_in(self, caller: Principal, activity_id: str, member_id: str, code: str) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="check in")
            rules.check_checkin_open(now, act["starts_at"], act["ends_at"])
            found = await db.code(conn, activity_id, code)
            if found is None:
                raise Refusal(
                    400,
                    "invalid_code",
                    "this is not a check-in code of the activity",
                    {"field": "code"},
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
            return _row(
                await db.update_participation(
                    conn, activity_id, member_id, status=rules.CHECKED_IN, checked_in_at=now
                )
            )

    async def check_out(
        self, caller: Principal, activity_id: str, member_id: str, hours: Decimal | None
    ) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="check out")
            volunteer = act["activity_type"] == ActivityType.VOLUNTEER_SERVICE.value
            parsed = rules.parse_hours(hours, required=volunteer)
            existing = await db.participation(conn, activity_id, member_id)
            rules.check_can_check_out(existing["status"] if existing else None)
            return _row(
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
    ) -> dict[str, Any]:
        """Confirm participations: each becomes exactly one activity.logged."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            act = await self._activity(conn, caller, activity_id)
            rules.check_activity_status(act["status"], want="published", action="confirm")
            kind = ActivityType(act["activity_type"])
            by_member = {p["member_id"]: p for p in await db.participations(conn, activity_id)}
            wanted = sorted(set(member_ids)) if member_ids is not None else sorted(by_member)
            confirm: list[asyncpg.Record] = []
            already: list[str] = []
            skipped: list[dict[str, str]] = []
            for mid in wanted:
                p = by_member.get(mid)
                if p is None:
                    skipped.append({"member_id": mid, "reason": "not_signed_up"})
                    continue
                why = rules.confirmable(p["status"], kind)
                if why is None:
                    confirm.append(p)
                elif why == "already_confirmed":
                    already.append(mid)
                else:
                    skipped.append({"member_id": mid, "reason": why})
            if member_ids is not None and skipped:
                raise conflict(
                    "not_confirmable",
                    "some members cannot be confirmed; nothing was confirmed: "
                    + ", ".join(f"{s['member_id']} ({s['reason']})" for s in skipped),
                    members=skipped,
                )
            events = []
            for p in confirm:
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
        return {
            "activity_id": activity_id,
            "confirmed": [p["member_id"] for p in confirm],
            "already_confirmed": already,
            "skipped": skipped,
        }

    async def cancel_participation(
        self, caller: Principal, activity_id: str, member_id: str, reason: str | None
    ) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await self._activity(conn, caller, activity_id)
            p = await db.participation(conn, activity_id, member_id, lock=True)
            if p is None:
                raise not_found("participation", f"{activity_id}/{member_id}")
            if p["status"] == rules.CANCELLED:
                return dict(p)
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
            return _row(
                await db.update_participation(
                    conn,
                    activity_id,
                    member_id,
                    status=rules.CANCELLED,
                    cancelled_at=now,
                    cancel_reason=reason,
                )
            )

    # --- wishes ----------------------------------------------------------------------------

    async def post_wish(self, caller: Principal, body: dict[str, Any]) -> Row:
        now = utcnow()
        rules.check_wish_expiry(body["expires_at"], now)
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            row = _row(
                await db.insert_wish(
                    conn, {"wish_id": new_id("W"), **body, "posted_at": now, "status": "open"}
                )
            )
            data = WishPosted(
                wish_id=row["wish_id"],
                community_id=row["community_id"],
                title=row["title"],
                expires_at=row["expires_at"],
            )
            await publish_own(
                conn,
                [
                    self._event(
                        WISH_POSTED, data, row["wish_id"], now, f"wish/{row['wish_id']}/posted"
                    )
                ],
            )
        return row

    async def _wish(self, conn: Conn, caller: Principal, wish_id: str, *, lock: bool) -> Row:
        row = await db.wish(conn, wish_id, lock=lock)
        if row is None:
            raise not_found("wish", wish_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def claim_wish(self, caller: Principal, wish_id: str, member_id: str) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await self._wish(conn, caller, wish_id, lock=False)
            await self._member(conn, member_id)
            row = await db.claim_wish(conn, wish_id, member_id, now)
            if row is None:  # someone else won, or it expired, or it is no longer open
                current = _row(await db.wish(conn, wish_id))
                raise rules.refuse_wish_claim(
                    rules.wish_status(current["status"], current["expires_at"], now),
                    current["claimed_by"],
                )
            data = WishClaimed(
                wish_id=wish_id, member_id=member_id, community_id=row["community_id"]
            )
            await publish_own(
                conn,
                [
                    self._event(
                        WISH_CLAIMED, data, wish_id, now, f"wish/{wish_id}/claimed/{member_id}"
                    )
                ],
            )
            return dict(row)

    async def fulfil_wish(self, caller: Principal, wish_id: str) -> tuple[Row, bool]:
        """The community confirms the wish came true: one activity.logged wish_fulfilled.
        Confirming again returns the wish unchanged and publishes nothing."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._wish(conn, caller, wish_id, lock=True)
            if row["status"] == "fulfilled":
                return row, False
            if row["status"] != "claimed":
                status = rules.wish_status(row["status"], row["expires_at"], now)
                raise conflict(
                    "wish_not_claimed",
                    f"only a claimed wish can be fulfilled; this one is {status}",
                )
            event_id = rules.wish_event_id(wish_id)
            row = _row(
                await db.update_wish(
                    conn, wish_id, status="fulfilled", fulfilled_at=now, logged_event_id=event_id
                )
            )
            await publish_own(
                conn,
                [
                    self._logged(
                        event_id,
                        now,
                        row["claimed_by"],
                        ActivityType.WISH_FULFILLED,
                        wish_id,
                        row["community_id"],
                    )
                ],
            )
            return row, True

    async def cancel_wish(self, caller: Principal, wish_id: str, reason: str | None) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._wish(conn, caller, wish_id, lock=True)
            if row["status"] == "cancelled":
                return row
            if row["status"] == "fulfilled":
                await publish_own(
                    conn,
                    [
                        self._revoked(
                            row["logged_event_id"],
                            row["claimed_by"],
                            reason or "wish cancelled",
                            now,
                        )
                    ],
                )
            return _row(await db.update_wish(conn, wish_id, status="cancelled", cancelled_at=now))

    async def get_wish(self, caller: Principal, wish_id: str) -> Row:
        async with self.pool.acquire() as conn:
            return await self._wish(conn, caller, wish_id, lock=False)

    async def list_wishes(
        self, caller: Principal, community_id: str | None, status: str | None, limit: int
    ) -> list[Row]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [dict(r) for r in await db.wishes(conn, community_id, status, utcnow(), limit)]

    # --- service posts (设岗定责) -----------------------------------------------------------

    async def create_post(self, caller: Principal, body: dict[str, Any]) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            return _row(
                await db.insert_post(
                    conn, {"post_id": new_id("SP"), **body, "status": "open", "created_at": now}
                )
            )

    async def _post(self, conn: Conn, caller: Principal, post_id: str) -> Row:
        row = await db.post(conn, post_id, lock=True)
        if row is None:
            raise not_found("service post", post_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def get_post(self, caller: Principal, post_id: str) -> tuple[Row, list[str]]:
        async with self.pool.acquire() as conn:
            row = await db.post(conn, post_id)
            if row is None:
                raise not_found("service post", post_id)
            await self._scope(conn, caller, row["community_id"])
            return dict(row), await db.post_holders(conn, post_id)

    async def list_posts(
        self, caller: Principal, community_id: str | None, limit: int
    ) -> list[tuple[Row, list[str]]]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [
                (dict(r), await db.post_holders(conn, r["post_id"]))
                for r in await db.posts(conn, community_id, limit)
            ]

    async def claim_post(
        self, caller: Principal, post_id: str, member_id: str
    ) -> tuple[Row, list[str]]:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            post = await self._post(conn, caller, post_id)  # locked: slots are counted
            if post["status"] != "open":
                raise conflict("post_closed", "this post is closed")
            await self._member(conn, member_id)
            holders = await db.post_holders(conn, post_id)
            if member_id in holders:
                raise conflict("already_claimed", f"member {member_id} already holds this post")
            if len(holders) >= post["slots"]:
                raise conflict("post_full", f"all {post['slots']} slots of this post are taken")
            await db.claim_post(conn, post_id, member_id, now)
            return post, await db.post_holders(conn, post_id)

    async def release_post(
        self, caller: Principal, post_id: str, member_id: str
    ) -> tuple[Row, list[str]]:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            post = await self._post(conn, caller, post_id)
            if not await db.release_post(conn, post_id, member_id, now):
                raise conflict("not_holder", f"member {member_id} does not hold this post")
            return post, await db.post_holders(conn, post_id)

    async def confirm_post_month(
        self, caller: Principal, post_id: str, member_id: str, month: str
    ) -> tuple[str, bool]:
        """One activity.logged service_post per post, member and month; again → nothing new."""
        now = utcnow()
        at = rules.fulfilment_time(month, now, self.settings.tz)
        async with self.pool.acquire() as conn, conn.transaction():
            post = await self._post(conn, caller, post_id)
            if not await db.holds_post(conn, post_id, member_id):
                raise conflict("not_holder", f"member {member_id} never claimed this post")
            event_id = rules.post_event_id(post_id, member_id, month)
            created = await db.insert_fulfilment(conn, post_id, member_id, month, now, event_id)
            if created:
                await publish_own(
                    conn,
                    [
                        self._logged(
                            event_id,
                            at,
                            member_id,
                            ActivityType.SERVICE_POST,
                            post_id,
                            post["community_id"],
                        )
                    ],
                )
            return event_id, created

    # --- three lists and projects (三张清单, 双向认领) -------------------------------------------

    async def add_need(self, caller: Principal, body: dict[str, Any]) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            return _row(
                await db.insert_item(
                    conn,
                    {
                        "item_id": new_id("N"),
                        "kind": "need",
                        **body,
                        "status": "open",
                        "created_at": now,
                    },
                )
            )

    async def _unit(self, conn: Conn, unit_id: str) -> Row:
        row = await db.unit(conn, unit_id)
        if row is None:
            raise invalid(
                "unknown_unit",
                f"unit {unit_id} is unknown: no unit.reported has been received for it",
                field="unit_id",
            )
        return dict(row)

    async def add_resource(self, caller: Principal, body: dict[str, Any]) -> Row:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            unit = await self._unit(conn, body["unit_id"])
            # the unit reported to it; a resource is listed there, so it must still exist
            await checks.community(conn, caller, unit["community_id"], field="unit.community_id")
            return _row(
                await db.insert_item(
                    conn,
                    {
                        "item_id": new_id("R"),
                        "kind": "resource",
                        **body,
                        "community_id": unit["community_id"],
                        "status": "open",
                        "created_at": now,
                    },
                )
            )

    async def list_items(
        self, caller: Principal, kind: str, community_id: str | None, status: str | None, limit: int
    ) -> list[Row]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [dict(r) for r in await db.items(conn, kind, community_id, status, limit)]

    async def claim_item(
        self, caller: Principal, kind: Literal["need", "resource"], item_id: str, claimant: str
    ) -> Row:
        """A unit claims a community's need, or a community claims a unit's resource; the
        claim creates the co-building project. Only one claim per item wins."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            item = await db.item(conn, item_id, kind)
            if item is None:
                raise not_found(kind, item_id)
            await self._scope(conn, caller, item["community_id"])
            if kind == "need":
                unit = await self._unit(conn, claimant)
                if unit["community_id"] != item["community_id"]:
                    raise invalid(
                        "other_community",
                        f"unit {claimant} reported to {unit['community_id']}, not to "
                        f"{item['community_id']} where the need was listed",
                        field="unit_id",
                    )
                unit_id = claimant
            else:
                await checks.community(conn, caller, claimant)
                if claimant != item["community_id"]:
                    raise invalid(
                        "other_community",
                        f"this resource is offered to {item['community_id']}",
                        field="community_id",
                    )
                unit_id = item["unit_id"]
            claimed = await db.claim_item(conn, item_id, kind)
            if claimed is None:
                raise conflict("already_claimed", f"this {kind} has already been claimed")
            project = _row(
                await db.insert_project(
                    conn,
                    {
                        "project_id": new_id("P"),
                        "item_id": item_id,
                        "community_id": item["community_id"],
                        "unit_id": unit_id,
                        "title": item["title"],
                        "status": "active",
                        "created_at": now,
                    },
                )
            )
            data = ProjectCreated(
                project_id=project["project_id"],
                item_id=item_id,
                item_kind=kind,
                community_id=project["community_id"],
                unit_id=unit_id,
                title=project["title"],
            )
            await publish_own(
                conn,
                [
                    self._event(
                        PROJECT_CREATED,
                        data,
                        project["project_id"],
                        now,
                        f"project/{project['project_id']}/created",
                    )
                ],
            )
            return project

    async def _project(
        self, conn: Conn, caller: Principal, project_id: str, *, lock: bool = True
    ) -> Row:
        row = await db.project(conn, project_id, lock=lock)
        if row is None:
            raise not_found("project", project_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def get_project(
        self, caller: Principal, project_id: str
    ) -> tuple[Row, list[Row], list[Row]]:
        async with self.pool.acquire() as conn:
            row = await self._project(conn, caller, project_id, lock=False)
            participants = [dict(r) for r in await db.project_participants(conn, project_id)]
            updates = [dict(r) for r in await db.project_updates(conn, project_id)]
            return row, participants, updates

    async def list_projects(
        self, caller: Principal, community_id: str | None, limit: int
    ) -> list[Row]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [dict(r) for r in await db.projects(conn, community_id, limit)]

    async def report_progress(
        self, caller: Principal, project_id: str, progress: int, note: str | None
    ) -> Row:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._project(conn, caller, project_id)
            if progress < row["progress"]:
                raise invalid(
                    "progress_backwards",
                    f"progress cannot go back from {row['progress']}%",
                    field="progress",
                )
            return _row(
                await db.set_progress(
                    conn, project_id, progress, rules.project_status(progress), note, utcnow()
                )
            )

    async def join_project(self, caller: Principal, project_id: str, member_id: str) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._project(conn, caller, project_id)
            await self._member(conn, member_id)
            return await db.add_participant(conn, project_id, member_id, utcnow())

    async def log_project_service(
        self,
        caller: Principal,
        project_id: str,
        member_id: str,
        hours: Decimal,
        served_at: datetime | None,
        entry_id: str | None,
    ) -> tuple[Row, bool]:
        """A participant's volunteer hours on the project: one activity.logged each entry.
        Sending the same entry_id again returns the first entry and publishes nothing."""
        now = utcnow()
        parsed = rules.parse_hours(hours, required=True)
        assert parsed is not None
        when = served_at or now
        if when > now + timedelta(minutes=5):
            raise invalid("invalid_time", "served_at cannot be in the future", field="served_at")
        entry = entry_id or new_id("S")
        async with self.pool.acquire() as conn, conn.transaction():
            project = await self._project(conn, caller, project_id)
            existing = await db.service_entry(conn, entry)
            if existing is not None:
                if (existing["project_id"], existing["member_id"], existing["hours"]) != (
                    project_id,
                    member_id,
                    parsed,
                ):
                    raise conflict(
                        "entry_conflict", f"entry {entry} was already logged with other content"
                    )
                return dict(existing), False
            if not await db.is_participant(conn, project_id, member_id):
                raise conflict(
                    "not_participant", f"member {member_id} has not joined project {project_id}"
                )
            event_id = rules.project_service_event_id(entry)
            inserted = await db.insert_service(
                conn, entry, project_id, member_id, parsed, when, event_id
            )
            if inserted is None:  # the same entry id, just logged on another project
                raise conflict("entry_conflict", f"entry {entry} was already logged")
            row = dict(inserted)
            await publish_own(
                conn,
                [
                    self._logged(
                        event_id,
                        when,
                        member_id,
                        ActivityType.VOLUNTEER_SERVICE,
                        project_id,
                        project["community_id"],
                        parsed,
                    )
                ],
            )
            return row, True
