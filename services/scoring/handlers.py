"""Scoring's inbox: the topics it consumes and the use case each batch goes to."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from shared.db import Conn
from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
)
from shared.events.members import PARTY_ORG_DEFINED
from shared.inbox import Apply, Incoming

from .usecases import apply_events

CONSUMES = (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    MEMBER_DEREGISTERED,
    REGION_DEFINED,
    PARTY_ORG_DEFINED,  # the organisation tree (partyorgs.with_party_orgs applies it)
)


def make_apply(tz: ZoneInfo, source: str) -> Apply:
    async def apply(conn: Conn, events: list[Incoming]) -> None:
        await apply_events(conn, events, tz=tz, source=source)

    return apply
