"""Calendar periods in the city's time zone: month 2026-11, quarter 2026-Q4, half 2026-H2,
year 2026. Points are stored per month; every other period is a union of months."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

PERIOD_FORMATS = "a month (2026-11), quarter (2026-Q4), half (2026-H2) or year (2026)"
_PATTERN = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|H([12])))?$")


class InvalidPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # month | quarter | half | year
    year: int
    months: tuple[str, ...]


def parse_period(label: str) -> Period:
    m = _PATTERN.match(label or "")
    if not m:
        raise InvalidPeriod(f"period {label!r} is not {PERIOD_FORMATS}")
    year = int(m.group(1))
    if year < 1900 or year > 2200:
        raise InvalidPeriod(f"period {label!r}: year must be between 1900 and 2200")
    if m.group(2):
        months: tuple[int, ...] = (int(m.group(2)),)
        kind = "month"
    elif m.group(3):
        q = int(m.group(3))
        months = tuple(range(3 * q - 2, 3 * q + 1))
        kind = "quarter"
    elif m.group(4):
        h = int(m.group(4))
        months = tuple(range(6 * h - 5, 6 * h + 1))
        kind = "half"
    else:
        months = tuple(range(1, 13))
        kind = "year"
    return Period(label, kind, year, tuple(f"{year:04d}-{mo:02d}" for mo in months))


def month_of(time: datetime, tz: ZoneInfo) -> str:
    """The month (YYYY-MM) that contains `time` in the city's time zone."""
    local = time.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def periods_of_month(month: str) -> tuple[str, str, str, str]:
    """The month itself and the quarter, half and year that contain it."""
    year, mo = int(month[:4]), int(month[5:7])
    return (month, f"{year}-Q{(mo - 1) // 3 + 1}", f"{year}-H{1 if mo <= 6 else 2}", str(year))


def current_month(now: datetime, tz: ZoneInfo) -> str:
    return month_of(now, tz)


def period_bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the period in the city's time zone."""
    first, last = period.months[0], period.months[-1]
    start = datetime(int(first[:4]), int(first[5:7]), 1, tzinfo=tz)
    y, m = int(last[:4]), int(last[5:7])
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=tz)
    return start, end


@dataclass(frozen=True)
class Summary:
    """The figures announced at a close (partygrid.period.closed)."""

    period: str
    members: int
    total_points: Decimal
    active_members: int
    zero_point_members: int


@dataclass(frozen=True)
class Closing:
    """A period's last close: closed, or reopened since (then reads answer live figures)."""

    status: Literal["closed", "reopened"]
    closed_at: datetime
    closed_by: str | None
    summary: Summary | None


@dataclass(frozen=True)
class HistoryItem:
    """A close or a reopen of a period, by whom and (a reopen) why."""

    action: Literal["closed", "reopened"]
    at: datetime
    by: str | None
    reason: str | None


@dataclass(frozen=True)
class PeriodStatus:
    """A period, its bounds in the city's time zone, its last close and its history."""

    period: str
    status: Literal["open", "closed", "reopened"]
    starts_at: datetime
    ends_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    summary: Summary | None
    history: tuple[HistoryItem, ...]


def period_status(
    period: Period, tz: ZoneInfo, closing: Closing | None, history: tuple[HistoryItem, ...]
) -> PeriodStatus:
    """The status of a period: open if it was never closed."""
    starts_at, ends_at = period_bounds(period, tz)
    return PeriodStatus(
        period=period.label,
        status=closing.status if closing else "open",
        starts_at=starts_at,
        ends_at=ends_at,
        closed_at=closing.closed_at if closing else None,
        closed_by=closing.closed_by if closing else None,
        summary=closing.summary if closing else None,
        history=history,
    )


def latest_first(periods: list[PeriodStatus]) -> list[PeriodStatus]:
    """The period ending latest first (a year before its last month); equal ends, the later
    close first."""
    return sorted(
        periods,
        key=lambda p: (p.ends_at, p.ends_at - p.starts_at, p.closed_at or p.starts_at),
        reverse=True,
    )
