"""Pure rules of the grids service: tree placement, CSV parsing, incident transitions, the daily
visiting duty."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.grids.domain import grids, incidents, visits
from services.grids.domain.regions import (
    Node,
    Region,
    check_import,
    check_placement,
    parse_csv,
)
from services.grids.domain.visitduty import (
    ALL_WEEKDAYS,
    DutyWorker,
    RegionDuty,
    by_region,
    duty_days,
    parse_period,
    worker_result,
)
from shared.events.grids import IncidentStatus, StaffRole
from shared.events.types import RegionLevel as L
from shared.refusals import Kind, Refusal

TREE = {
    "D": Node("D", L.DISTRICT, "District", None),
    "S": Node("S", L.STREET, "Street", "D"),
    "C": Node("C", L.COMMUNITY, "Community", "S"),
    "G": Node("G", L.GRID, "Grid", "C"),
}


def rules(problems: list) -> list[str]:
    return [p.rule for p in problems]


def test_a_grid_under_a_community_is_placed() -> None:
    assert check_placement(Node("G2", L.GRID, "g", "C"), TREE) == []


def test_a_parent_must_be_exactly_one_level_up() -> None:
    assert rules(check_placement(Node("G2", L.GRID, "g", "S"), TREE)) == ["level_order"]
    assert rules(check_placement(Node("S2", L.STREET, "s", None), TREE)) == ["level_order"]
    assert rules(check_placement(Node("D2", L.DISTRICT, "d", "D"), TREE)) == ["level_order"]


def test_an_unknown_parent_is_refused() -> None:
    assert rules(check_placement(Node("G2", L.GRID, "g", "NOPE"), TREE)) == ["unknown_parent"]


def test_a_move_under_its_own_descendant_is_a_cycle() -> None:
    moved = dict(TREE, S=Node("S", L.STREET, "Street", "G"))
    assert rules(check_placement(moved["S"], moved)) == ["cycle"]


def test_nothing_is_placed_under_a_retired_parent() -> None:
    retired = dict(TREE, C=Node("C", L.COMMUNITY, "Community", "S", retired=True))
    assert rules(check_placement(Node("G2", L.GRID, "g", "C"), retired)) == ["retired_parent"]


def test_csv_parse_reports_line_numbers() -> None:
    text = (
        "region_id,level,name,parent_id\n"
        "D1,district,思明区,\n"
        "S1,street,街道,D1\n"
        "bad id!,street,x,D1\n"
        "S2,town,x,D1\n"
        "S3,street,x\n"
        "S1,street,again,D1\n"
    )
    parsed = parse_csv(text)
    assert [r.node.region_id for r in parsed.rows] == ["D1", "S1"]
    found = sorted((p.line, p.rule, p.field) for p in parsed.problems)
    assert found == [
        (4, "malformed_row", "region_id"),
        (5, "malformed_row", "level"),
        (6, "malformed_row", None),
        (7, "duplicate_code", "region_id"),
    ]
    assert parse_csv("id,name\n1,2\n").problems[0].line == 1


def test_an_import_accepts_children_before_their_parents() -> None:
    rows = parse_csv("region_id,level,name,parent_id\nG1,grid,g,C1\nC1,community,c,S\n").rows
    assert check_import(rows, TREE) == []


def test_an_import_does_not_retire_a_parent_of_live_children() -> None:
    retire = parse_csv("region_id,level,name,parent_id,retired\nC,community,c,S,true\n").rows
    assert rules(check_import(retire, TREE)) == ["has_children"]


def test_an_import_does_not_change_a_regions_level() -> None:
    relevel = parse_csv("region_id,level,name,parent_id\nC,street,c,D\n").rows
    assert "level_change" in rules(check_import(relevel, TREE))


OP, A, R, C = (IncidentStatus(s) for s in ("open", "assigned", "resolved", "closed"))


def test_an_open_or_assigned_incident_is_assigned() -> None:
    assert incidents.check("assign", OP) is None
    assert incidents.check("assign", A) is None
    assert incidents.check("assign", C) is not None


def test_only_an_assigned_incident_is_resolved() -> None:
    assert incidents.check("resolve", OP) is not None
    assert incidents.next_status("resolve", A) is R


def test_only_a_resolved_incident_is_closed() -> None:
    assert incidents.check("close", A) is not None
    assert incidents.check("close", R) is None


def test_supervision_is_raised_once() -> None:
    assert incidents.check("supervise", A) is None
    assert incidents.check("supervise", A, supervised=True) is not None


def test_a_refused_action_is_a_conflict_naming_the_status_and_the_action() -> None:
    refusal = incidents.check("close", OP, incident_id="i1")
    assert refusal is not None and refusal.kind is Kind.CONFLICT
    assert refusal.code == "invalid_transition"
    assert refusal.detail == {"incident_id": "i1", "current_status": "open", "action": "close"}


def test_an_unresolved_incident_past_its_limit_is_overdue() -> None:
    now = datetime.now(UTC)
    assert incidents.is_overdue(A, now - timedelta(minutes=1), now)
    assert not incidents.is_overdue(R, now - timedelta(minutes=1), now)


def _incident(
    status: IncidentStatus, due: datetime, resolved: datetime | None, now: datetime
) -> incidents.Incident:
    return incidents.incident(
        incident_id="I1",
        grid_id="G1",
        category="sanitation",
        title="t",
        description="",
        status=status,
        reported_at=due - timedelta(hours=1),
        due_at=due,
        assignee_id=None,
        resolution=None,
        resolved_at=resolved,
        closed_at=None,
        supervised_at=None,
        supervision_note=None,
        now=now,
    )


def test_an_incident_read_back_says_whether_it_is_overdue_or_was_resolved_late() -> None:
    now = datetime.now(UTC)
    due = now - timedelta(minutes=1)
    late = _incident(A, due, None, now)
    assert (late.overdue, late.resolved_late, late.supervised) == (True, False, False)
    resolved = _incident(R, due, now, now)
    assert (resolved.overdue, resolved.resolved_late) == (False, True)


def test_coverage_names_what_each_incomplete_grid_lacks() -> None:
    staffing = [
        grids.GridStaffing("G1", "one", "C1", has_leader=True, has_worker=True, has_branch=True),
        grids.GridStaffing("G2", "two", "C1", has_leader=False, has_worker=True, has_branch=False),
    ]
    cover = grids.coverage("C1", staffing)
    assert (cover.grids, cover.complete, cover.lacking_leader, cover.lacking_worker) == (2, 1, 1, 0)
    assert cover.gaps == (grids.CoverageGap("G2", "two", "C1", ("leader", "branch")),)


def test_a_grid_overview_sorts_its_people_by_role_and_totals_its_members() -> None:
    now = datetime.now(UTC)
    people = [
        grids.StaffMember("W1", StaffRole.WORKER, "w", None, None, now),
        grids.StaffMember("L1", StaffRole.LEADER, "l", "M1", None, now),
    ]
    region = Region("G1", L.GRID, "g", "C1", False, False, False, now, "test")
    view = grids.overview(region, ["G1", "C1"], people, None, {"worker": 2, "retired": 1})
    assert view.leader is not None and view.leader.staff_id == "L1"
    assert [w.staff_id for w in view.workers] == ["W1"] and view.household_contacts == ()
    assert view.members.total == 3


def test_only_a_visit_by_a_party_member_counts_for_scoring() -> None:
    now = datetime.now(UTC)
    by_member = visits.Visit("V1", "G1", "W1", "M1", 2, 30, "", now)
    assert visits.logged(by_member).counts_for_scoring is True
    by_other = visits.Visit("V2", "G1", "W2", None, 2, 30, "", now)
    assert visits.logged(by_other).counts_for_scoring is False


# Pure rules of the daily visiting duty: periods, the days owed, and the verdicts.

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
