"""The values the use cases of small wishes (微心愿) return: a wish as residents see it (an open
wish past its expiry reads expired, by `rules.wish_status`), and the outcome of fulfilling one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .rules import wish_status


@dataclass(frozen=True)
class Wish:
    """A small wish: open, expired, claimed, fulfilled or cancelled."""

    wish_id: str
    community_id: str
    title: str
    description: str | None
    beneficiary: str | None
    posted_at: datetime
    expires_at: datetime
    status: str
    claimed_by: str | None
    claimed_at: datetime | None
    fulfilled_at: datetime | None
    logged_event_id: str | None
    cancelled_at: datetime | None


def wish(
    *,
    wish_id: str,
    community_id: str,
    title: str,
    description: str | None,
    beneficiary: str | None,
    posted_at: datetime,
    expires_at: datetime,
    status: str,
    claimed_by: str | None,
    claimed_at: datetime | None,
    fulfilled_at: datetime | None,
    logged_event_id: str | None,
    cancelled_at: datetime | None,
    now: datetime,
) -> Wish:
    """The wish as of `now`, its stored status read through the expiry rule."""
    return Wish(
        wish_id=wish_id,
        community_id=community_id,
        title=title,
        description=description,
        beneficiary=beneficiary,
        posted_at=posted_at,
        expires_at=expires_at,
        status=wish_status(status, expires_at, now),
        claimed_by=claimed_by,
        claimed_at=claimed_at,
        fulfilled_at=fulfilled_at,
        logged_event_id=logged_event_id,
        cancelled_at=cancelled_at,
    )


@dataclass(frozen=True)
class Fulfilment:
    """A wish confirmed fulfilled; `published` is False when it was already (nothing new)."""

    wish: Wish
    published: bool
