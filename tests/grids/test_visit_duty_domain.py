"""Pure rules of the daily visiting duty: periods, the days owed, and the verdicts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.grids.domain.visitduty import (
    ALL_WEEKDAYS,
    DutyWorker,
    RegionDuty,
    by_region,
    duty_days,
    parse_period,
    worker_result,
)
from shared.refusals import Kind, Refusal

TODAY = date(2026, 11, 21)  # a Saturday
WORKER = DutyWorker("W1", "worker", grid_id="G1", community_id="C1", street_id="S1")


def test_periods_are_a_day_an_iso_week_or_a_month() -> None:
    day = parse_period("2026-11-02", TODAY)
    assert (day.kind, day.first, day.end) == ("day", date(2026, 11, 2), date(2026, 11, 3))
    week = parse_period("2026-W01", TODAY)
    assert (week.first, week.end) == (date(2025, 12, 29), date(2026, 1, 5))
    december = parse_period("2025-12", TODAY)
    assert (december.first, december.end) == (date(2025, 12, 1), date(2026, 1, 1))
    for bad in ("2026-02-30", "2026-W54", "2026-13", "21/11/2026"):
        with pytest.raises(Refusal) as caught:
            parse_period(bad, TODAY)
        assert caught.value.code == "invalid_period", bad
        assert caught.value.kind is Kind.INVALID


def test_a_period_that_has_not_begun_is_refused() -> None:
    with pytest.raises(Refusal) as caught:
        parse_period("2026-12", TODAY)
    assert caught.value.code == "future_period"


def test_days_are_owed_from_assignment_up_to_today_on_duty_weekdays() -> None:
    month = parse_period("2026-11", TODAY)
    assert len(duty_days(month, TODAY, ALL_WEEKDAYS, date(2026, 1, 1))) == 21
    assert duty_days(month, TODAY, ALL_WEEKDAYS, date(2026, 11, 20)) == [
        date(2026, 11, 20),
        date(2026, 11, 21),
    ]
    weekdays_only = duty_days(month, TODAY, (1, 2, 3, 4, 5), date(2026, 1, 1))
    assert len(weekdays_only) == 15 and all(d.isoweekday() <= 5 for d in weekdays_only)


def test_the_duty_is_met_only_on_every_day_owed() -> None:
    days = [date(2026, 11, 19), date(2026, 11, 20)]
    full = worker_result(WORKER, {days[0]: 120, days[1]: 150}, days, 120)
    assert (full.met, full.days_met, full.minutes) == (True, 2, 270)
    short = worker_result(WORKER, {days[0]: 300, days[1]: 119}, days, 120)
    assert (short.met, short.days_missed) == (False, (date(2026, 11, 20),))


def test_regions_count_who_met_and_who_did_not() -> None:
    day = [date(2026, 11, 20)]
    workers = [
        worker_result(WORKER, {day[0]: 120}, day, 120),
        worker_result(WORKER, {}, day, 120),
        worker_result(replace(WORKER, community_id=None), {}, day, 120),
    ]
    assert by_region(workers, "grid_id") == [RegionDuty("G1", workers=3, met=1, not_met=2)]
    assert by_region(workers, "community_id") == [RegionDuty("C1", workers=2, met=1, not_met=1)]
