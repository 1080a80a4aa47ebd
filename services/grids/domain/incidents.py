"""The incident life cycle (事在网中办), without I/O.

open → assigned (reassigning stays assigned) → resolved → closed. Supervision (督办) is a flag
that can be raised once on an incident that is not yet resolved; it may tighten or extend the
time limit. An unresolved incident past its time limit is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events.grids import IncidentStatus

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


@dataclass(frozen=True)
class Refusal:
    """Why an action is not allowed now (answered as 409)."""

    action: str
    status: IncidentStatus
    message: str


def check(action: str, status: IncidentStatus, *, supervised: bool = False) -> Refusal | None:
    allowed, _ = TRANSITIONS[action]
    if status not in allowed:
        return Refusal(
            action,
            status,
            f"cannot {action} an incident that is {status.value}; {action} is allowed only "
            f"when it is {' or '.join(sorted(s.value for s in allowed))}",
        )
    if action == "supervise" and supervised:
        return Refusal(action, status, "the incident is already under supervision")
    return None


def next_status(action: str, status: IncidentStatus) -> IncidentStatus:
    target = TRANSITIONS[action][1]
    return status if target is None else target


def is_overdue(status: IncidentStatus, due_at: datetime, now: datetime) -> bool:
    """Not yet resolved and past its time limit."""
    return status in (OPEN, ASSIGNED) and now > due_at


def resolved_late(due_at: datetime, resolved_at: datetime) -> bool:
    return resolved_at > due_at
