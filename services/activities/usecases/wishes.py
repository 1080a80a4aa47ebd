"""Use cases of small wishes: post, claim (one member wins), fulfil (activity.logged
wish_fulfilled) and cancel (activity.revoked if it was fulfilled)."""

from __future__ import annotations

from typing import Any

from shared.auth import Principal
from shared.db import Conn
from shared.events import ActivityType
from shared.events.activities import (
    WISH_CLAIMED,
    WISH_POSTED,
    WishClaimed,
    WishPosted,
)
from shared.refusals import conflict, not_found

from ..domain import rules
from ..domain.wishes import Fulfilment, Wish
from ..persistence import wishes as db
from . import checks
from .banking import publish_own  # the outbox call that also banks volunteer hours
from .base import Row, UseCaseBase, _row, new_id, utcnow


class WishUseCases(UseCaseBase):
    async def post_wish(self, caller: Principal, body: dict[str, Any]) -> Wish:
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
        return db.as_wish(row, now)

    async def _wish(self, conn: Conn, caller: Principal, wish_id: str, *, lock: bool) -> Row:
        row = await db.wish(conn, wish_id, lock=lock)
        if row is None:
            raise not_found("wish", wish_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def claim_wish(self, caller: Principal, wish_id: str, member_id: str) -> Wish:
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
            return db.as_wish(row, now)

    async def fulfil_wish(self, caller: Principal, wish_id: str) -> Fulfilment:
        """The community confirms the wish came true: one activity.logged wish_fulfilled.
        Confirming again returns the wish unchanged and publishes nothing."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._wish(conn, caller, wish_id, lock=True)
            if row["status"] == "fulfilled":
                return Fulfilment(db.as_wish(row, now), published=False)
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
            return Fulfilment(db.as_wish(row, now), published=True)

    async def cancel_wish(self, caller: Principal, wish_id: str, reason: str | None) -> Wish:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._wish(conn, caller, wish_id, lock=True)
            if row["status"] == "cancelled":
                return db.as_wish(row, now)
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
            cancelled = await db.update_wish(conn, wish_id, status="cancelled", cancelled_at=now)
            return db.as_wish(cancelled, now)

    async def get_wish(self, caller: Principal, wish_id: str) -> Wish:
        async with self.pool.acquire() as conn:
            return db.as_wish(await self._wish(conn, caller, wish_id, lock=False), utcnow())

    async def list_wishes(
        self, caller: Principal, community_id: str | None, status: str | None, limit: int
    ) -> list[Wish]:
        self._scope_listing(caller, community_id)
        now = utcnow()
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [
                db.as_wish(r, now) for r in await db.wishes(conn, community_id, status, now, limit)
            ]
