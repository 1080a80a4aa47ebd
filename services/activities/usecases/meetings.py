"""Use cases of organisation-life meetings (三会一课): record a meeting, confirm or correct its
roll. Confirming writes the roll and its activity.logged / activity.revoked events in one
transaction (outbox), with the rules of `domain.meetings`; the event plumbing is the one the
other activities use cases have (`UseCases`)."""

from __future__ import annotations

from typing import Any

from shared.auth import Principal
from shared.outbox import publish_own
from shared.refusals import not_found

from ..domain import meetings as rules
from ..persistence import meetings as db
from . import checks
from .base import Row, UseCaseBase, new_id, utcnow


class MeetingUseCases(UseCaseBase):
    async def create_meeting(self, caller: Principal, body: dict[str, Any]) -> rules.Meeting:
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            values = {
                "meeting_id": new_id("OL"),
                **body,
                "kind": body["kind"].value,
                "created_at": utcnow(),
            }
            row = await db.insert_meeting(conn, values)
            assert row is not None
            return db.as_meeting(row, {})

    async def _meeting(self, conn: Any, caller: Principal, meeting_id: str, *, lock: bool) -> Row:
        row = await db.meeting(conn, meeting_id, lock=lock)
        if row is None:
            raise not_found("meeting", meeting_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def get_meeting(self, caller: Principal, meeting_id: str) -> rules.Meeting:
        async with self.pool.acquire() as conn:
            row = await self._meeting(conn, caller, meeting_id, lock=False)
            return db.as_meeting(row, await db.roll(conn, meeting_id))

    async def list_meetings(
        self,
        caller: Principal,
        community_id: str | None,
        branch_id: str | None,
        kind: str | None,
        limit: int,
    ) -> list[rules.Meeting]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            rows = await db.meetings(conn, community_id, branch_id, kind, limit)
            rolls = await db.rolls(conn, [r["meeting_id"] for r in rows])
            return [db.as_meeting(r, rolls[r["meeting_id"]]) for r in rows]

    async def confirm_roll(
        self, caller: Principal, meeting_id: str, entries: list[rules.Entry]
    ) -> rules.RollConfirmed:
        """Confirm the meeting's whole roll. The same roll again changes nothing; a different
        one is a new version that revokes and logs exactly the members whose standing moved."""
        wanted = rules.check_roll(entries)
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            meeting = await self._meeting(conn, caller, meeting_id, lock=True)
            rules.check_can_confirm(meeting["held_at"], now)
            current = await db.roll(conn, meeting_id)
            refusal = rules.refuse_members(
                await db.member_problems(conn, rules.needs_member_check(current, wanted))
            )
            if refusal is not None:
                raise refusal
            plan = rules.plan(meeting_id, current, meeting["roll_version"], wanted)
            if plan.changed:
                events = [
                    self._revoked(r.logged_event_id, r.member_id, "meeting roll corrected", now)
                    for r in plan.revoke
                ]
                events += [
                    self._logged(
                        lg.event_id,
                        meeting["held_at"],
                        lg.member_id,
                        lg.activity_type,
                        meeting_id,
                        meeting["community_id"],
                    )
                    for lg in plan.log
                ]
                await db.store_roll(
                    conn,
                    meeting_id,
                    plan.version,
                    plan.roll,
                    confirmed_at=now,
                    confirmed_by=f"{caller.role}:{caller.scope}",
                    entries=[
                        {"member_id": e.member_id, "status": e.status.value, "reason": e.reason}
                        for e in wanted.values()
                    ],
                    revoked=len(plan.revoke),
                    logged=len(plan.log),
                )
                await publish_own(conn, events)
                meeting["roll_version"] = plan.version
        return rules.RollConfirmed(
            meeting=db.as_meeting(meeting, plan.roll),
            changed=plan.changed,
            version=plan.version,
            revoked=tuple(plan.revoke),
            logged=tuple(plan.log),
        )

    async def roll_versions(self, caller: Principal, meeting_id: str) -> list[rules.RollVersion]:
        async with self.pool.acquire() as conn:
            await self._meeting(conn, caller, meeting_id, lock=False)
            return await db.roll_versions(conn, meeting_id)
