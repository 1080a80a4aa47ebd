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
from shared.inbox import Apply, Incoming, after_commit

from .bulk import BulkApply
from .metrics import observe_applied
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


class ScoringApply:
    """The exact per-event use case, with the set-based path for batches of activity.logged
    as its `bulk` (see services.scoring.bulk)."""

    def __init__(self, tz: ZoneInfo, source: str, *, bulk: bool = True) -> None:
        self.tz, self.source = tz, source
        self.bulk = BulkApply(tz, source) if bulk else None

    async def __call__(self, conn: Conn, events: list[Incoming]) -> None:
        outcome = await apply_events(conn, events, tz=self.tz, source=self.source)
        after_commit(lambda: observe_applied(outcome))


def make_apply(tz: ZoneInfo, source: str, *, bulk: bool = True) -> Apply:
    """bulk=False: the exact path only (the reference the set-based path is tested against)."""
    return ScoringApply(tz, source, bulk=bulk)
