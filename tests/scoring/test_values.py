"""The values scoring's read use cases return, built by pure functions of `domain/`
(docs/design.md §8): who is due for a follow-up, a community board, a period's status and
order, a member's record and a page of a ranking. No database, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.scoring.domain.boards import CommunityEntry, community_snapshot
from services.scoring.domain.followups import Candidate, Talk, due_list
from services.scoring.domain.periods import (
    Closing,
    PeriodStatus,
    latest_first,
    parse_period,
    period_bounds,
    period_status,
)
from services.scoring.domain.points import Entry
from services.scoring.domain.ranking import RegionItem, region_page
from services.scoring.domain.record import Arrival, Line, member_record
from services.scoring.domain.rulebook import rules_in_force
from services.scoring.domain.rules import Rule, RuleBook

TZ = ZoneInfo("Asia/Shanghai")
NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def candidate(member_id: str, points: str) -> Candidate:
    return Candidate(member_id, None, "C1", Decimal(points))


def test_a_member_is_due_who_missed_organisation_life_or_has_no_points() -> None:
    members = [candidate("M3", "0"), candidate("M2", "5"), candidate("M1", "-1")]
    due = due_list("2026-Q4", "live", members, {"M2"}, {})
    assert [(i.member_id, i.org_life_missed, i.zero_points) for i in due.items] == [
        ("M1", False, True),
        ("M2", True, False),
        ("M3", False, True),
    ]


def test_a_member_with_points_who_attended_is_not_due() -> None:
    due = due_list("2026-Q4", "live", [candidate("M1", "0.01")], set(), {})
    assert (due.count, due.items) == (0, ())


def test_a_due_member_is_followed_up_once_a_talk_is_recorded() -> None:
    talk = Talk("heart_to_heart", NOV.date(), None, "admin")
    due = due_list(
        "2026-Q4", "live", [candidate("M1", "0"), candidate("M2", "0")], set(), {"M2": [talk]}
    )
    assert [(i.member_id, i.followed_up, i.talks) for i in due.items] == [
        ("M1", False, ()),
        ("M2", True, (talk,)),
    ]
    assert (due.count, due.followed_up) == (2, 1)


def test_a_community_board_lists_the_best_first_on_red_and_the_worst_first_on_black() -> None:
    ranked = [CommunityEntry(i + 1, f"C{i}", None, float(10 - i), 3) for i in range(5)]
    snap = community_snapshot(ranked, 2)
    assert snap.red == (ranked[0], ranked[1])
    assert snap.black == (ranked[4], ranked[3])


def test_a_period_never_closed_is_open_with_its_bounds() -> None:
    p = parse_period("2026-11")
    status = period_status(p, TZ, None, ())
    assert (status.status, status.closed_at, status.summary) == ("open", None, None)
    assert (status.starts_at, status.ends_at) == period_bounds(p, TZ)


def test_periods_are_listed_the_one_ending_latest_first_a_year_before_its_last_month() -> None:
    def closed(label: str, at: datetime) -> PeriodStatus:
        return period_status(parse_period(label), TZ, Closing("closed", at, None, None), ())

    listed = [closed("2026-11", NOV), closed("2026-12", NOV), closed("2026", NOV)]
    assert [s.period for s in latest_first(listed)] == ["2026", "2026-12", "2026-11"]


def test_a_record_marks_the_entries_that_arrived_after_the_close_and_adds_up_its_lines() -> None:
    def line(id: str, earned: str) -> Line:
        e = Entry(NOV, "test", id, "grid_visit")
        return Line(
            e, "2026-11", "activity", None, Decimal(earned), Decimal(0), Decimal(earned), False
        )

    close = NOV + timedelta(days=30)
    arrivals = {
        ("test", "a"): Arrival(NOV, None, None, None),
        ("test", "b"): Arrival(close + timedelta(seconds=1), None, None, None),
    }
    rec = member_record(
        "M1", "2026-11", [line("a", "2.00"), line("b", "3.00")], arrivals, None, close
    )
    assert [ln.after_close for ln in rec.lines] == [False, True]
    assert rec.points == Decimal("5.00")


def test_a_page_of_a_region_ranking_keeps_the_count_before_paging() -> None:
    items = [
        RegionItem(i + 1, f"R{i}", "r", Decimal(9 - i), 1, Decimal(9 - i), 1) for i in range(5)
    ]
    page = region_page("2026-11", "avg_points", items, 2, 1, "live")
    assert page.total == 5
    assert [i.region_id for i in page.items] == ["R1", "R2"]


def test_the_rules_in_force_are_the_latest_versions_each_with_who_added_it() -> None:
    old = Rule("grid_visit", Decimal(1), "event", None, NOV - timedelta(days=60))
    new = Rule("grid_visit", Decimal(2), "event", None, NOV - timedelta(days=1))
    later = Rule("grid_visit", Decimal(3), "event", None, NOV + timedelta(days=1))
    authors = {("grid_visit", new.effective_from): "alice"}
    found = rules_in_force(RuleBook([later, old, new]), authors, NOV)
    [current] = [v for v in found.current if v.activity_type == "grid_visit"]
    assert (current.points, current.created_by) == (Decimal(2), "alice")
    grid = [v for v in found.versions if v.activity_type == "grid_visit"]
    assert [v.points for v in grid] == [Decimal(1), Decimal(2), Decimal(3)]
