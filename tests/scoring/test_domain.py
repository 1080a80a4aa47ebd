"""Pure rules of the scoring domain (docs/design.md §4): periods in the city's time zone, rules
in force by time, the monthly cap, the yearly report bonus, region scores and competition
ranks. No database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.scoring.domain.periods import (
    InvalidPeriod,
    month_of,
    parse_period,
    period_bounds,
    periods_of_month,
)
from services.scoring.domain.points import ZERO, Entry, award, compute_bucket, first_report
from services.scoring.domain.ranking import Standing, competition_ranks, region_score
from services.scoring.domain.rules import InvalidRule, Rule, RuleBook, validate_rule

TZ = ZoneInfo("Asia/Shanghai")
NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def entry(activity_type: str, time: datetime, id: str, hours: str | None = None) -> Entry:
    return Entry(time, "test", id, activity_type, Decimal(hours) if hours else None)


def test_a_quarter_a_half_and_a_year_are_unions_of_their_months() -> None:
    assert parse_period("2026-Q4").months == ("2026-10", "2026-11", "2026-12")
    assert parse_period("2026-H1").months == tuple(f"2026-{m:02d}" for m in range(1, 7))
    assert parse_period("2026").months == tuple(f"2026-{m:02d}" for m in range(1, 13))
    assert parse_period("2026-11").months == ("2026-11",)


@pytest.mark.parametrize("label", ["2026-13", "2026-Q5", "2026-H3", "26-11", "2026-11-01", ""])
def test_a_label_that_is_no_month_quarter_half_or_year_is_refused(label: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(label)


def test_an_event_belongs_to_its_month_in_the_city_time_zone() -> None:
    midnight_in_shanghai = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert month_of(midnight_in_shanghai, TZ) == "2026-12"
    assert month_of(midnight_in_shanghai - timedelta(seconds=1), TZ) == "2026-11"


def test_a_month_counts_toward_its_quarter_half_and_year() -> None:
    assert periods_of_month("2026-07") == ("2026-07", "2026-Q3", "2026-H2", "2026")
    assert periods_of_month("2026-06") == ("2026-06", "2026-Q2", "2026-H1", "2026")


def test_a_period_runs_from_city_midnight_to_the_next_periods_city_midnight() -> None:
    start, end = period_bounds(parse_period("2026-Q4"), TZ)
    assert start == datetime(2026, 10, 1, tzinfo=TZ)
    assert end == datetime(2027, 1, 1, tzinfo=TZ)


def test_an_event_is_scored_by_the_rule_version_in_force_at_its_time() -> None:
    change = datetime(2026, 11, 1, tzinfo=UTC)
    book = RuleBook(
        [
            Rule("study", Decimal(1), "event", None),
            Rule("study", Decimal(3), "event", None, effective_from=change),
        ]
    )
    assert award(entry("study", change - timedelta(seconds=1), "a"), ZERO, book) == Decimal(1)
    assert award(entry("study", change, "b"), ZERO, book) == Decimal(3)


def test_an_activity_before_its_first_rule_version_scores_nothing() -> None:
    book = RuleBook([Rule("study", Decimal(1), "event", None, effective_from=NOV)])
    assert award(entry("study", NOV - timedelta(days=1), "a"), ZERO, book) == ZERO


def test_the_monthly_cap_trims_the_entry_that_reaches_it_and_gives_nothing_after() -> None:
    book = RuleBook([Rule("volunteer_service", Decimal(2), "hour", Decimal(40))])
    hours = ["15", "10", "1"]  # 30 points, then 20 of which 10 fit, then nothing
    entries = [
        entry("volunteer_service", NOV + timedelta(hours=i), str(i), h) for i, h in enumerate(hours)
    ]
    total = compute_bucket(entries, book)
    assert total.points == Decimal(40)
    assert total.hours == sum(Decimal(h) for h in hours)
    assert total.events == len(hours)


def test_penalties_add_up_below_zero() -> None:
    penalty = Rule("organization_life_absent", Decimal(-2), "event", None)
    entries = [entry("organization_life_absent", NOV + timedelta(days=i), str(i)) for i in range(3)]
    assert compute_bucket(entries, RuleBook([penalty])).points == 3 * penalty.points


def test_the_yearly_bonus_goes_to_the_first_report_by_time() -> None:
    later = entry("member_reported", NOV, "a")
    earlier = entry("member_reported", NOV - timedelta(days=30), "z")
    assert first_report([later, earlier]) == earlier
    assert first_report([]) is None


def test_equal_scores_share_a_rank_and_the_next_rank_skips() -> None:
    standings = [Standing("A", Decimal(5)), Standing("B", Decimal(7)), Standing("C", Decimal(5))]
    ranked = competition_ranks([*standings, Standing("D", Decimal(1))])
    assert [(rank, s.id) for rank, s in ranked] == [(1, "B"), (2, "A"), (2, "C"), (4, "D")]


def test_a_region_without_members_scores_zero_on_average_and_participation() -> None:
    assert region_score("avg_points", Decimal(10), 0, 0) == 0
    assert region_score("participation_rate", Decimal(10), 0, 0) == 0


def test_participation_is_the_share_of_members_with_points_to_four_places() -> None:
    assert region_score("participation_rate", Decimal(10), 3, 1) == Decimal("0.3333")


def test_an_unknown_ranking_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        region_score("median_points", Decimal(10), 3, 1)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (Rule("gardening", Decimal(1), "event", None), "activity_type"),
        (Rule("study", Decimal(1), "day", None), "per"),
        (Rule("member_reported", Decimal(10), "hour", None), "per"),
        (Rule("organization_life_absent", Decimal(-2), "event", Decimal(10)), "monthly_cap"),
        (Rule("study", Decimal("1.234"), "event", None), "points"),
        (Rule("study", Decimal(1), "event", None, datetime(2026, 11, 1)), "effective_from"),
    ],
)
def test_a_rule_outside_the_rule_book_is_refused_naming_its_field(rule: Rule, field: str) -> None:
    with pytest.raises(InvalidRule) as refused:
        validate_rule(rule)
    assert refused.value.field == field
