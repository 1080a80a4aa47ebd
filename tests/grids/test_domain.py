"""Pure rules of the grids service: tree placement, CSV parsing, incident transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.grids.domain import incidents
from services.grids.domain.regions import Node, check_import, check_placement, parse_csv
from shared.events.grids import IncidentStatus
from shared.events.types import RegionLevel as L

TREE = {
    "D": Node("D", L.DISTRICT, "District", None),
    "S": Node("S", L.STREET, "Street", "D"),
    "C": Node("C", L.COMMUNITY, "Community", "S"),
    "G": Node("G", L.GRID, "Grid", "C"),
}


def rules(problems: list) -> list[str]:
    return [p.rule for p in problems]


def test_placement_rules() -> None:
    assert check_placement(Node("G2", L.GRID, "g", "C"), TREE) == []
    assert rules(check_placement(Node("G2", L.GRID, "g", "S"), TREE)) == ["level_order"]
    assert rules(check_placement(Node("G2", L.GRID, "g", "NOPE"), TREE)) == ["unknown_parent"]
    assert rules(check_placement(Node("S2", L.STREET, "s", None), TREE)) == ["level_order"]
    assert rules(check_placement(Node("D2", L.DISTRICT, "d", "D"), TREE)) == ["level_order"]
    # moving the street under its own grid: a cycle, reported as such
    moved = dict(TREE, S=Node("S", L.STREET, "Street", "G"))
    assert rules(check_placement(moved["S"], moved)) == ["cycle"]
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


def test_import_accepts_children_before_parents_and_rejects_retiring_a_live_parent() -> None:
    rows = parse_csv("region_id,level,name,parent_id\nG1,grid,g,C1\nC1,community,c,S\n").rows
    assert check_import(rows, TREE) == []
    retire = parse_csv("region_id,level,name,parent_id,retired\nC,community,c,S,true\n").rows
    assert rules(check_import(retire, TREE)) == ["has_children"]
    relevel = parse_csv("region_id,level,name,parent_id\nC,street,c,D\n").rows
    assert "level_change" in rules(check_import(relevel, TREE))


def test_incident_transitions() -> None:
    OP, A, R, C = (IncidentStatus(s) for s in ("open", "assigned", "resolved", "closed"))
    assert incidents.check("assign", OP) is None
    assert incidents.check("assign", A) is None
    assert incidents.check("resolve", OP) is not None
    assert incidents.check("close", A) is not None
    assert incidents.check("close", R) is None
    assert incidents.check("assign", C) is not None
    assert incidents.check("supervise", A, supervised=True) is not None
    assert incidents.next_status("resolve", A) is R
    now = datetime.now(UTC)
    assert incidents.is_overdue(A, now - timedelta(minutes=1), now)
    assert not incidents.is_overdue(R, now - timedelta(minutes=1), now)
