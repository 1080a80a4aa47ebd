"""The incident life cycle (事在网中办), without I/O.

open → assigned (reassigning stays assigned) → resolved → closed. Supervision (督办) is a flag
that can be raised once on an incident that is not yet resolved; it may tighten or extend the
time limit. An unresolved incident past its time limit is overdue.
"""

from __future__ import annotations

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
