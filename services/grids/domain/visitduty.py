"""The daily visiting duty of grid workers (每天至少在网格内走访2个小时), pure.

A grid's leader and workers each owe `minutes_per_day` minutes of logged visits in their grid
on every duty day (the city's setting: 120 minutes, every day of the week, unless changed).
For a day, a worker met the duty if their visits that day add up to at least that; for a week
or a month, if they met it on every duty day of it so far — days before the worker was assigned
to the grid and days still to come are not owed, and a worker who owes no day of the period
is left out of its figures. Days are the city's calendar days.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from shared.refusals import invalid

DEFAULT_MINUTES = 120
ALL_WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: Monday = 1 … Sunday = 7

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    kind: str  # day, week or month
    label: str
    first: date
    end: date  # exclusive


def parse_period(text: str, today: date) -> Period:
    """YYYY-MM-DD, YYYY-Www (ISO week) or YYYY-MM; not one that starts after today."""
    try:
        if m := _DAY.match(text):
            first = date(int(m[1]), int(m[2]), int(m[3]))
            period = Period("day", text, first, first + timedelta(days=1))
        elif m := _WEEK.match(text):
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            period = Period("week", text, first, first + timedelta(days=7))
        elif m := _MONTH.match(text):
            first = date(int(m[1]), int(m[2]), 1)
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            period = Period("month", text, first, following)
        else:
            raise ValueError(text)
    except ValueError:
        raise invalid(
            "invalid_period",
            f"period {text!r} is not a day (2026-11-21), an ISO week (2026-W47) or a month "
            "(2026-11)",
            field="period",
        ) from None
    if period.first > today:
        raise invalid("future_period", f"period {text} has not begun yet", field="period")
    return period


def duty_days(period: Period, today: date, weekdays: Iterable[int], since: date) -> list[date]:
    """The days of the period a worker assigned on `since` owes the duty, up to today."""
    wanted = set(weekdays)
    day, days = max(period.first, since), []
    while day < period.end and day <= today:
        if day.isoweekday() in wanted:
            days.append(day)
        day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class DutySetting:
    """The city's duty: minutes owed each duty day, the weekdays it applies to (ISO numbers)
    and when it was last changed (None: never, the default is in force)."""

    minutes_per_day: int
    weekdays: tuple[int, ...]
    updated_at: datetime | None


DEFAULT_SETTING = DutySetting(DEFAULT_MINUTES, ALL_WEEKDAYS, None)


def setting(minutes_per_day: int, weekdays: Iterable[int], updated_at: datetime) -> DutySetting:
    return DutySetting(minutes_per_day, tuple(sorted(set(weekdays))), updated_at)


@dataclass(frozen=True)
class DutyWorker:
    """A leader or worker who owes the duty, with their grid's community and street."""

    staff_id: str
    role: str
    grid_id: str
    community_id: str | None
    street_id: str | None


@dataclass(frozen=True)
class WorkerDuty:
    """A worker's verdict for a period: minutes logged, days owed, met and missed."""

    staff_id: str
    role: str
    grid_id: str
    community_id: str | None
    street_id: str | None
    minutes: int
    duty_days: int
    days_met: int
    days_missed: tuple[date, ...]
    met: bool


def worker_result(
    worker: DutyWorker,
    minutes_by_day: Mapping[date, int],
    days: list[date],
    minutes_per_day: int,
) -> WorkerDuty:
    met_days = {d for d in days if minutes_by_day.get(d, 0) >= minutes_per_day}
    return WorkerDuty(
        staff_id=worker.staff_id,
        role=worker.role,
        grid_id=worker.grid_id,
        community_id=worker.community_id,
        street_id=worker.street_id,
        minutes=sum(minutes_by_day.values()),
        duty_days=len(days),
        days_met=len(met_days),
        days_missed=tuple(d for d in days if d not in met_days),
        met=len(met_days) == len(days),
    )


@dataclass(frozen=True)
class RegionDuty:
    """Of a grid, community or street: its workers, how many met the duty, how many did not."""

    region_id: str
    workers: int
    met: int
    not_met: int


RegionKey = Literal["grid_id", "community_id", "street_id"]


def by_region(workers: Iterable[WorkerDuty], key: RegionKey) -> list[RegionDuty]:
    """Workers who met and did not meet the duty, per value of `key` (grid, community, street)."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for w in workers:
        region = getattr(w, key)
        if region is not None:
            groups[region].append(w.met)
    return [
        RegionDuty(
            region_id=region, workers=len(flags), met=sum(flags), not_met=len(flags) - sum(flags)
        )
        for region, flags in sorted(groups.items())
    ]


@dataclass(frozen=True)
class DutyFigures:
    """Who met the duty in a period within a region (None: the city): per worker (only those
    who met, or did not, if asked) and per grid, community and street (always every worker)."""

    within: str | None
    period: str
    kind: str
    minutes_per_day: int
    weekdays: tuple[int, ...]
    workers: tuple[WorkerDuty, ...]
    by_grid: tuple[RegionDuty, ...]
    by_community: tuple[RegionDuty, ...]
    by_street: tuple[RegionDuty, ...]


def duty_figures(
    within: str | None,
    period: Period,
    duty: DutySetting,
    workers: list[WorkerDuty],
    met: bool | None = None,
) -> DutyFigures:
    return DutyFigures(
        within=within,
        period=period.label,
        kind=period.kind,
        minutes_per_day=duty.minutes_per_day,
        weekdays=duty.weekdays,
        workers=tuple(w for w in workers if met is None or w.met is met),
        by_grid=tuple(by_region(workers, "grid_id")),
        by_community=tuple(by_region(workers, "community_id")),
        by_street=tuple(by_region(workers, "street_id")),
    )
