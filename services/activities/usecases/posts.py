"""Use cases of service posts: create, claim and release a slot, and confirm a month of
service (one activity.logged service_post per post, member and month)."""

from __future__ import annotations

from typing import Any

from shared.auth import Principal
from shared.db import Conn
from shared.events import ActivityType
from shared.refusals import conflict, not_found

from ..domain import rules
from ..domain.posts import PostMonth, ServicePost
from ..persistence import posts as db
from . import checks
from .banking import publish_own  # the outbox call that also banks volunteer hours
from .base import Row, UseCaseBase, new_id, utcnow


class PostUseCases(UseCaseBase):
    async def create_post(self, caller: Principal, body: dict[str, Any]) -> ServicePost:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            row = await db.insert_post(
                conn, {"post_id": new_id("SP"), **body, "status": "open", "created_at": now}
            )
            return db.as_post(row, [])

    async def _post(self, conn: Conn, caller: Principal, post_id: str) -> Row:
        row = await db.post(conn, post_id, lock=True)
        if row is None:
            raise not_found("service post", post_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def get_post(self, caller: Principal, post_id: str) -> ServicePost:
        async with self.pool.acquire() as conn:
            row = await db.post(conn, post_id)
            if row is None:
                raise not_found("service post", post_id)
            await self._scope(conn, caller, row["community_id"])
            return db.as_post(row, await db.post_holders(conn, post_id))

    async def list_posts(
        self, caller: Principal, community_id: str | None, limit: int
    ) -> list[ServicePost]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [
                db.as_post(r, await db.post_holders(conn, r["post_id"]))
                for r in await db.posts(conn, community_id, limit)
            ]

    async def claim_post(self, caller: Principal, post_id: str, member_id: str) -> ServicePost:
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
            return db.as_post(post, await db.post_holders(conn, post_id))

    async def release_post(self, caller: Principal, post_id: str, member_id: str) -> ServicePost:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            post = await self._post(conn, caller, post_id)
            if not await db.release_post(conn, post_id, member_id, now):
                raise conflict("not_holder", f"member {member_id} does not hold this post")
            return db.as_post(post, await db.post_holders(conn, post_id))

    async def confirm_post_month(
        self, caller: Principal, post_id: str, member_id: str, month: str
    ) -> PostMonth:
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
            return PostMonth(post_id, member_id, month, event_id, published=created)
