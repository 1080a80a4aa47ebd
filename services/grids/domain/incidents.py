"""The incident life cycle (事在网中办), without I/O.

open → assigned (reassigning stays assigned) → resolved → closed. Supervision (督办) is a flag
that can be raised once on an incident that is not yet resolved; it may tighten or extend the
time limit. An unresolved incident past its time limit is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events.grids import IncidentStatus
from shared.refusals import Refusal, conflict

OPEN, ASSIGNED, RESOLVED, CLOSED = (
    IncidentStatus.OPEN,
    IncidentStatus.ASSIGNED,
    IncidentStatus.RESOLVED,
    IncidentStatus.CLOSED,
)

# action → the statuses it may start from, and the status it leads to (None: unchanged)
TRANSITIONS: dict[str, tuple[frozenset[IncidentStatus], IncidentStatus | None]] = {
    "assign": (frozenset({OPEN, ASSIGNED}), ASSIGNED),
    "resolve": (frozenset({ASSIGNED}), RESOLVED),
    "close": (frozenset({RESOLVED}), CLOSED),
    "supervise": (frozenset({OPEN, ASSIGNED}), None),
}


def check(
    action: str,
    status: IncidentStatus,
    *,
    supervised: bool = False,
    incident_id: str | None = None,
) -> Refusal | None:
    """Why `action` is not allowed now (a conflict with the incident's status), or None."""
    about = {"incident_id": incident_id} if incident_id is not None else {}
    allowed, _ = TRANSITIONS[action]
    if status not in allowed:
        message = (
            f"cannot {action} an incident that is {status.value}; {action} is allowed only "
            f"when it is {' or '.join(sorted(s.value for s in allowed))}"
        )
    elif action == "supervise" and supervised:
        message = "the incident is already under supervision"
    else:
        return None
    return conflict(
        "invalid_transition", message, **about, current_status=status.value, action=action
    )


def next_status(action: str, status: IncidentStatus) -> IncidentStatus:
    target = TRANSITIONS[action][1]
    return status if target is None else target


def is_overdue(status: IncidentStatus, due_at: datetime, now: datetime) -> bool:
    """Not yet resolved and past its time limit."""
    return status in (OPEN, ASSIGNED) and now > due_at


def resolved_late(due_at: datetime, resolved_at: datetime) -> bool:
    return resolved_at > due_at


@dataclass(frozen=True)
class Incident:
    """An incident as it is read back, with what the rules derive from it: overdue (unresolved
    past its limit, as of when it was read) and resolved late."""

    incident_id: str
    grid_id: str
    category: str
    title: str
    description: str
    status: IncidentStatus
    reported_at: datetime
    due_at: datetime
    overdue: bool
    resolved_late: bool
    assignee_id: str | None
    resolution: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    supervised: bool
    supervised_at: datetime | None
    supervision_note: str | None


def incident(
    *,
    incident_id: str,
    grid_id: str,
    category: str,
    title: str,
    description: str,
    status: IncidentStatus,
    reported_at: datetime,
    due_at: datetime,
    assignee_id: str | None,
    resolution: str | None,
    resolved_at: datetime | None,
    closed_at: datetime | None,
    supervised_at: datetime | None,
    supervision_note: str | None,
    now: datetime,
) -> Incident:
    """The incident with its derived flags as of `now`."""
    return Incident(
        incident_id=incident_id,
        grid_id=grid_id,
        category=category,
        title=title,
        description=description,
        status=status,
        reported_at=reported_at,
        due_at=due_at,
        overdue=is_overdue(status, due_at, now),
        resolved_late=resolved_at is not None and resolved_late(due_at, resolved_at),
        assignee_id=assignee_id,
        resolution=resolution,
        resolved_at=resolved_at,
        closed_at=closed_at,
        supervised=supervised_at is not None,
        supervised_at=supervised_at,
        supervision_note=supervision_note,
    )
