"""Examples of the events about the region tree, grid staff and branches, visits, incidents and
the satisfaction rating of a handled incident."""

from __future__ import annotations

from typing import Any

from ..grids import (
    GRID_BRANCH_ATTACHED,
    GRID_BRANCH_DETACHED,
    GRID_STAFF_ASSIGNED,
    GRID_STAFF_REMOVED,
    INCIDENT_ASSIGNED,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    INCIDENT_OVERDUE,
    INCIDENT_RESOLVED,
    INCIDENT_SUPERVISED,
    VISIT_LOGGED,
)
from ..regions import REGION_DEFINED
from ..satisfaction import SATISFACTION_RATED
from .common import T, event

_VISIT = "V-2026-1121-07"
_INCIDENT = "I-2026-0311"

EXAMPLES: list[dict[str, Any]] = [
    event(
        REGION_DEFINED,
        "/city/civil-affairs",
        "region-350302001001-v1",
        T,
        "350302001001",
        {
            "region_id": "350302001001",
            "level": "community",
            "name": "凤山社区",
            "parent_id": "350302001",
        },
    ),
    event(
        GRID_STAFF_ASSIGNED,
        "/partygrid/grids",
        "grid-350302001001-G03-staff-S0042",
        T,
        "350302001001-G03",
        {
            "grid_id": "350302001001-G03",
            "staff_id": "S0042",
            "role": "leader",
            "member_id": "M000123",
        },
    ),
    event(
        GRID_STAFF_REMOVED,
        "/partygrid/grids",
        "grid-350302001001-G03-staff-S0017-removed",
        T,
        "350302001001-G03",
        {"grid_id": "350302001001-G03", "staff_id": "S0017", "role": "worker"},
    ),
    event(
        GRID_BRANCH_ATTACHED,
        "/partygrid/grids",
        "grid-350302001001-G03-branch-PO-G03",
        T,
        "350302001001-G03",
        {"grid_id": "350302001001-G03", "party_org_id": "PO-G03"},
    ),
    event(
        GRID_BRANCH_DETACHED,
        "/partygrid/grids",
        "grid-350302001001-G03-branch-PO-G03-detached",
        T,
        "350302001001-G03",
        {"grid_id": "350302001001-G03", "party_org_id": "PO-G03"},
    ),
    event(
        VISIT_LOGGED,
        "/partygrid/grids",
        _VISIT,
        T,
        "350302001001-G03",
        {
            "visit_id": _VISIT,
            "grid_id": "350302001001-G03",
            "staff_id": "S0042",
            "member_id": "M000123",
            "households": 6,
            "duration_minutes": 90,
        },
    ),
    event(
        INCIDENT_OPENED,
        "/partygrid/grids",
        f"{_INCIDENT}-opened",
        T,
        _INCIDENT,
        {
            "incident_id": _INCIDENT,
            "grid_id": "350302001001-G03",
            "category": "facilities",
            "due_at": "2026-11-24T09:30:00+08:00",
        },
    ),
    event(
        INCIDENT_ASSIGNED,
        "/partygrid/grids",
        f"{_INCIDENT}-assigned-1",
        T,
        _INCIDENT,
        {"incident_id": _INCIDENT, "grid_id": "350302001001-G03", "assignee_id": "S0042"},
    ),
    event(
        INCIDENT_RESOLVED,
        "/partygrid/grids",
        f"{_INCIDENT}-resolved",
        T,
        _INCIDENT,
        {
            "incident_id": _INCIDENT,
            "grid_id": "350302001001-G03",
            "assignee_id": "S0042",
            "overdue": False,
        },
    ),
    event(
        INCIDENT_CLOSED,
        "/partygrid/grids",
        f"{_INCIDENT}-closed",
        T,
        _INCIDENT,
        {"incident_id": _INCIDENT, "grid_id": "350302001001-G03", "overdue": False},
    ),
    event(
        INCIDENT_SUPERVISED,
        "/partygrid/grids",
        f"{_INCIDENT}-supervised-1",
        T,
        _INCIDENT,
        {
            "incident_id": _INCIDENT,
            "grid_id": "350302001001-G03",
            "due_at": "2026-11-22T18:00:00+08:00",
        },
    ),
    event(
        INCIDENT_OVERDUE,
        "/partygrid/grids",
        f"{_INCIDENT}-overdue",
        T,
        _INCIDENT,
        {
            "incident_id": _INCIDENT,
            "grid_id": "350302001001-G03",
            "due_at": "2026-11-21T09:00:00+08:00",
            "status": "assigned",
        },
    ),
    event(
        SATISFACTION_RATED,
        "/partygrid/grids",
        f"satisfaction/incident/{_INCIDENT}",
        T,
        _INCIDENT,
        {
            "subject_kind": "incident",
            "subject_id": _INCIDENT,
            "region_id": "350302001001-G03",
            "score": 5,
        },
    ),
]
