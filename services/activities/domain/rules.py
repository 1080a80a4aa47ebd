"""Validation rules and state transitions of activities, wishes, service posts and the three
lists. Everything here is pure: the use cases pass in "now" and the current state and get back
a decision or a `shared.refusals.Refusal`, which `shared.api` turns into a JSON 4xx."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from shared.events import ActivityType
from shared.refusals import Refusal, conflict, invalid

# Types an organised activity may have. wish_fulfilled and service_post come from their own
# flows; organization_life_absent is not something one signs up for: it comes from the roll of
# an organisation-life meeting (domain.meetings).
ORGANISED_TYPES: frozenset[ActivityType] = frozenset(
    {
        ActivityType.ORGANIZATION_LIFE,
        ActivityType.THEME_PARTY_DAY,
        ActivityType.VOLUNTEER_SERVICE,
        ActivityType.GRID_VISIT,
        ActivityType.STUDY,
    }
)

CHECKIN_OPENS_BEFORE = timedelta(minutes=30)  # check-in opens 30 min before the start
CHECKIN_CLOSES_AFTER = timedelta(hours=1)  # and closes an hour after the end
CODE_TTL = timedelta(minutes=5)  # a check-in code shown at the venue is valid 5 minutes
CODE_MIN_LEFT = timedelta(minutes=1)  # a code with less left is replaced by a fresh one
MAX_DURATION = timedelta(days=7)
MAX_WISH_LIFETIME = timedelta(days=366)


# --- activities ----------------------------------------------------------------------------


def check_activity_shape(
    activity_type: ActivityType, starts_at: datetime, ends_at: datetime
) -> None:
    if activity_type not in ORGANISED_TYPES:
        allowed = ", ".join(sorted(t.value for t in ORGANISED_TYPES))
        raise invalid(
            "invalid_activity_type",
            f"an organised activity cannot be of type {activity_type.value}; one of {allowed} "
            "(wishes, service posts and the roll of an organisation-life meeting, which logs "
            "absences, have their own endpoints)",
            field="activity_type",
        )
    if ends_at <= starts_at:
        raise invalid("invalid_time", "ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > MAX_DURATION:
        raise invalid("invalid_time", "an activity lasts at most 7 days", field="ends_at")


def checkin_window(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    return starts_at - CHECKIN_OPENS_BEFORE, ends_at + CHECKIN_CLOSES_AFTER


def check_checkin_open(now: datetime, starts_at: datetime, ends_at: datetime) -> None:
    opens, closes = checkin_window(starts_at, ends_at)
    if now < opens:
        raise conflict(
            "checkin_not_open",
            f"check-in opens at {opens.isoformat()} (30 minutes before the start)",
            opens_at=opens.isoformat(),
        )
    if now > closes:
        raise conflict(
            "checkin_closed",
            f"check-in closed at {closes.isoformat()} (an hour after the end)",
            closed_at=closes.isoformat(),
        )


def check_activity_status(status: str, *, want: str, action: str) -> None:
    if status != want:
        raise conflict(
            f"activity_{status}",
            f"cannot {action}: the activity is {status} (it must be {want})",
            status=status,
        )


# Participation states and what may follow them.
SIGNED_UP, CHECKED_IN, CHECKED_OUT, CONFIRMED, CANCELLED = (
    "signed_up",
    "checked_in",
    "checked_out",
    "confirmed",
    "cancelled",
)
ACTIVE_STATES = (SIGNED_UP, CHECKED_IN, CHECKED_OUT, CONFIRMED)  # these take a place


def check_can_check_in(status: str | None) -> None:
    if status in (CHECKED_IN, CHECKED_OUT, CONFIRMED):
        raise conflict("already_checked_in", "this member has already checked in")


def check_can_check_out(status: str | None) -> None:
    if status in (None, SIGNED_UP, CANCELLED):
        raise conflict("not_checked_in", "the member must check in before checking out")
    if status in (CHECKED_OUT, CONFIRMED):
        raise conflict("already_checked_out", "this member has already checked out")


def confirmable(status: str, activity_type: ActivityType) -> str | None:
    """None if the participation can be confirmed now, else why not."""
    if status == CONFIRMED:
        return "already_confirmed"
    if status == CHECKED_OUT:
        return None
    if status == CHECKED_IN:
        if activity_type is ActivityType.VOLUNTEER_SERVICE:
            return "not_checked_out"  # volunteer service needs its hours
        return None
    return "not_checked_in" if status == SIGNED_UP else "cancelled"


@dataclass(frozen=True)
class Skipped:
    """A member who cannot be confirmed, and why (not_signed_up, not_checked_in, …)."""

    member_id: str
    reason: str


@dataclass(frozen=True)
class Confirmation:
    """Who of the members asked for is confirmed now, who was confirmed before, and who cannot
    be confirmed (and why)."""

    activity_id: str
    confirmed: tuple[str, ...]
    already_confirmed: tuple[str, ...]
    skipped: tuple[Skipped, ...]


def confirmation(
    activity_id: str,
    wanted: Iterable[str],
    statuses: Mapping[str, str],
    activity_type: ActivityType,
) -> Confirmation:
    """Sort the members asked for by their participation's status (`statuses`; a member
    missing from it did not sign up)."""
    confirmed, already, skipped = [], [], []
    for member_id in wanted:
        status = statuses.get(member_id)
        why = "not_signed_up" if status is None else confirmable(status, activity_type)
        if why is None:
            confirmed.append(member_id)
        elif why == "already_confirmed":
            already.append(member_id)
        else:
            skipped.append(Skipped(member_id, why))
    return Confirmation(activity_id, tuple(confirmed), tuple(already), tuple(skipped))


def parse_hours(value: Decimal | float | str | None, *, required: bool) -> Decimal | None:
    """0 < hours <= 24 with at most two decimals (docs/design.md §3.1)."""
    if value is None:
        if required:
            raise invalid(
                "hours_required", "hours are required for volunteer service", field="hours"
            )
        return None
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise invalid("invalid_hours", "hours must be a number", field="hours") from None
    if not hours.is_finite() or hours <= 0 or hours > 24:
        raise invalid("invalid_hours", "hours must be > 0 and <= 24", field="hours")
    if hours != hours.quantize(Decimal("0.01")):
        raise invalid("invalid_hours", "hours have at most two decimals", field="hours")
    return hours.quantize(Decimal("0.01"))


# --- wishes --------------------------------------------------------------------------------


def wish_status(status: str, expires_at: datetime, now: datetime) -> str:
    """The status a reader sees: an open wish past its expiry is `expired`."""
    if status == "open" and expires_at <= now:
        return "expired"
    return status


def check_wish_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now:
        raise invalid("invalid_expiry", "expires_at must be in the future", field="expires_at")
    if expires_at - now > MAX_WISH_LIFETIME:
        raise invalid("invalid_expiry", "a wish expires within a year at most", field="expires_at")


def refuse_wish_claim(status: str, claimed_by: str | None) -> Refusal:
    """Why a wish that could not be claimed was refused (status as the reader sees it)."""
    if status == "expired":
        return conflict("wish_expired", "this wish expired before anyone claimed it")
    if status in ("claimed", "fulfilled"):
        return conflict("already_claimed", "this wish has already been claimed by a member")
    return conflict(f"wish_{status}", f"this wish is {status} and cannot be claimed")


# --- service posts -------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in the city's time zone."""
    m = _MONTH.match(month)
    if not m:
        raise invalid("invalid_month", "month must look like 2026-11", field="month")
    year, mo = int(m.group(1)), int(m.group(2))
    start = datetime(year, mo, 1, tzinfo=tz)
    end = datetime(year + (mo == 12), mo % 12 + 1, 1, tzinfo=tz)
    return start, end


def fulfilment_time(month: str, now: datetime, tz: ZoneInfo) -> datetime:
    """When a month's fulfilment counts as having happened: now for the current month, the
    last second of the month for a past one; a future month is refused."""
    start, end = month_bounds(month, tz)
    if now < start:
        raise invalid("invalid_month", "a month in the future cannot be confirmed", field="month")
    if now < end:
        return now
    return end - timedelta(seconds=1)


# --- projects ------------------------------------------------------------------------------


def project_status(progress: int) -> str:
    return "completed" if progress >= 100 else "active"


# --- deterministic event ids (a retried confirmation publishes nothing new) ----------------


def participation_event_id(activity_id: str, member_id: str, revision: int) -> str:
    return f"activity/{activity_id}/member/{member_id}/r{revision}"


def wish_event_id(wish_id: str) -> str:
    return f"wish/{wish_id}"


def post_event_id(post_id: str, member_id: str, month: str) -> str:
    return f"post/{post_id}/member/{member_id}/{month}"


def project_service_event_id(entry_id: str) -> str:
    return f"project-service/{entry_id}"


def revocation_id(logged_id: str) -> str:
    return f"{logged_id}/revoked"
