"""What the use cases of the activities service share: the pool and settings, the events they
publish (built here so every concept builds them the same way), the caller's region scope and
the member check.

Events published: partygrid.activity.logged once per confirmed participation, fulfilled wish,
confirmed post-month and project service entry, each with a deterministic id (a retried
confirmation publishes nothing new); partygrid.activity.revoked when something logged is
cancelled; and the internal activity.published / activity.cancelled / wish.posted /
wish.claimed / project.created.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
from shared.refusals import forbidden, invalid
from shared.settings import Settings

from ..domain import rules
from ..persistence import common as db

Row = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _row(record: asyncpg.Record | None) -> Row:
    assert record is not None
    return dict(record)


@dataclass
class UseCaseBase:
    pool: asyncpg.Pool
    settings: Settings

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
            raise forbidden(
                "forbidden",
                f"a {caller.role} token must name a community_id within its scope",
                field="community_id",
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
