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
from datetime import date, timedelta
from typing import Any

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


def worker_result(
    minutes_by_day: Mapping[date, int], days: list[date], minutes_per_day: int
) -> dict[str, Any]:
    met_days = [d for d in days if minutes_by_day.get(d, 0) >= minutes_per_day]
    return {
        "minutes": sum(minutes_by_day.values()),
        "duty_days": len(days),
        "days_met": len(met_days),
        "days_missed": [d.isoformat() for d in days if d not in set(met_days)],
        "met": len(met_days) == len(days),
    }


def by_region(workers: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Workers who met and did not meet the duty, per value of `key` (grid, community, street)."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for w in workers:
        if w[key] is not None:
            groups[w[key]].append(w["met"])
    return [
        {
            "region_id": region,
            "workers": len(flags),
            "met": sum(flags),
            "not_met": len(flags) - sum(flags),
        }
        for region, flags in sorted(groups.items())
    ]
