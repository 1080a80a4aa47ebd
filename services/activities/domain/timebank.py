"""Rules of the time bank (时间银行), pure: which volunteer records earn hours, the ids of the
movements they cause, and what may be spent.

Policy, decided here once:
- Hours are earned only from `activity.logged` of type volunteer_service with hours, whoever
  logged it (this service's own activities and projects, or an outside volunteer platform).
  There is no monthly cap: caps limit points, not the hours a volunteer really served.
- A revoked volunteer record takes its hours back, even when that takes the balance below zero
  (the hours may already have been spent; the debt stays visible on the statement, and nothing
  can be redeemed or given until it is earned back). A revocation that arrives before its
  record makes the record earn nothing.
- Redeeming and giving never take a balance below zero.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.events import ActivityLogged, ActivityType
from shared.refusals import Refusal, conflict, invalid

ZERO = Decimal("0.00")


def banked_hours(data: ActivityLogged) -> Decimal | None:
    """Hours a logged activity puts in the bank (None: it is not volunteer service)."""
    if data.activity_type is ActivityType.VOLUNTEER_SERVICE and data.hours is not None:
        return data.hours
    return None


def _digest(source: str, id_: str) -> str:
    # source and id are free text up to 768 characters together; an entry id must be short
    return hashlib.sha256(f"{source}\0{id_}".encode()).hexdigest()[:24]


def earned_entry_id(source: str, id_: str) -> str:
    """Deterministic: the same volunteer record always makes the same entry (and event)."""
    return f"TBE-{_digest(source, id_)}"


def revoked_entry_id(source: str, id_: str) -> str:
    return f"TBR-{_digest(source, id_)}"


def event_id(entry_id: str) -> str:
    return f"timebank/{entry_id}"


def insufficient(account_id: str, balance: Decimal, wanted: Decimal) -> Refusal:
    return conflict(
        "insufficient_hours",
        f"account {account_id} holds {balance} hours; {wanted} are needed "
        "(a balance never goes below zero by spending)",
        field="hours",
        balance=str(balance),
        needed=str(wanted),
    )


def check_gift(giver: str, receiver: str) -> None:
    if giver == receiver:
        raise invalid(
            "same_account", "hours can only be given to another account", field="to_account_id"
        )


def check_offer_listed(offer: dict[str, Any]) -> None:
    if offer["status"] != "listed":
        raise conflict(
            "offer_withdrawn",
            f"offer {offer['offer_id']} was withdrawn and can no longer be redeemed",
            field="offer_id",
        )


def request_fingerprint(*parts: object) -> str:
    """What a request asked for, to tell a retry (same) from a reused request id (different)."""
    return "|".join(str(p) for p in parts)


@dataclass(frozen=True)
class Account:
    """An account's balance and what it came from: hours earned (net of revocations),
    redeemed, given and received. A member's account exists before its first movement."""

    account_id: str
    kind: str
    community_id: str | None
    balance: Decimal
    earned: Decimal
    redeemed: Decimal
    given: Decimal
    received: Decimal


@dataclass(frozen=True)
class Entry:
    """A movement of hours on an account, with the running balance after it."""

    seq: int
    entry_id: str
    account_id: str
    kind: str
    hours: Decimal
    balance: Decimal
    at: datetime
    community_id: str | None
    offer_id: str | None
    counterpart: str | None
    note: str | None
    logged_source: str | None
    logged_id: str | None


@dataclass(frozen=True)
class Offer:
    """A service a community lists for hours, listed or withdrawn."""

    offer_id: str
    community_id: str
    title: str
    description: str | None
    hours: Decimal
    status: str
    created_at: datetime
    withdrawn_at: datetime | None
