"""The values the use cases of organised activities return: an activity, a member's
participation in it, the check-in code shown at the venue, and a cancelled activity with the
confirmed participations its cancellation revoked. The rules they follow are in `rules`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shared.events import ActivityType


@dataclass(frozen=True)
class Activity:
    """An organised activity; `taken` (places taken) is given in lists only."""

    activity_id: str
    activity_type: ActivityType
    title: str
    organiser_kind: str
    organiser_id: str
    community_id: str
    starts_at: datetime
    ends_at: datetime
    place: str
    capacity: int
    status: str
    created_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    taken: int | None = None


@dataclass(frozen=True)
class Participation:
    """A member's place in an activity, through sign-up, check-in and out, confirmation or
    cancellation; `revision` grows each time a cancelled participation is taken up again."""

    activity_id: str
    member_id: str
    revision: int
    status: str
    signed_up_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    hours: Decimal | None
    confirmed_at: datetime | None
    logged_event_id: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None


@dataclass(frozen=True)
class CheckinCode:
    """A code shown at the venue, valid until `expires_at`."""

    code: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class CancelledActivity:
    """An activity once cancelled, and how many confirmed participations this call revoked."""

    activity: Activity
    revoked: int
