"""Grid visits (入户走访), without I/O: a visit as it is read back, and the rule that a visit by
a Party member counts for scoring (as activity grid_visit)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime


@dataclass(frozen=True)
class Visit:
    """One visit: who of the grid's staff made it (and their member id, if any), to how many
    households, for how long, and when."""

    visit_id: str
    grid_id: str
    staff_id: str
    member_id: str | None
    households: int
    duration_minutes: int
    notes: str
    visited_at: datetime


@dataclass(frozen=True)
class LoggedVisit(Visit):
    """A visit just logged, saying whether it counts for scoring."""

    counts_for_scoring: bool


def counts_for_scoring(visit: Visit) -> bool:
    """A visit by a Party member counts as activity grid_visit."""
    return visit.member_id is not None


def logged(visit: Visit) -> LoggedVisit:
    return LoggedVisit(
        **{f.name: getattr(visit, f.name) for f in fields(Visit)},
        counts_for_scoring=counts_for_scoring(visit),
    )
