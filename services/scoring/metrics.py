"""Scoring's own metrics, on the process registry: points given by type, freshness, members
counted."""

from __future__ import annotations

import time
from datetime import datetime

from prometheus_client import Counter, Gauge

from shared.metrics import REGISTRY

from .domain.points import Outcome

POINTS_AWARDED = Counter(
    "partygrid_scoring_points_awarded_total",
    "Points given (net of trims and revocations, positive changes only), by activity type.",
    ["activity_type"],
    registry=REGISTRY,
)
POINTS_WITHDRAWN = Counter(
    "partygrid_scoring_points_withdrawn_total",
    "Points taken back (revocations, penalties, re-evaluations), by activity type.",
    ["activity_type"],
    registry=REGISTRY,
)
_newest_event: list[float] = [0.0]
FRESHNESS = Gauge(
    "partygrid_scoring_freshness_seconds",
    "Age of the newest applied event (now minus its time); 0 before the first event.",
    registry=REGISTRY,
)
FRESHNESS.set_function(lambda: time.time() - _newest_event[0] if _newest_event[0] else 0.0)
MEMBERS_COUNTED = Gauge(
    "partygrid_scoring_members_counted",
    "Members counted in rankings (reported to a community, not deregistered).",
    registry=REGISTRY,
)


def note_newest(t: datetime) -> None:
    _newest_event[0] = max(_newest_event[0], t.timestamp())


def observe_applied(outcome: Outcome) -> None:
    """Count what a committed batch or rule change did (call it after the commit only)."""
    for activity_type, delta in outcome.points_by_type.items():
        if delta > 0:
            POINTS_AWARDED.labels(activity_type).inc(float(delta))
        elif delta < 0:
            POINTS_WITHDRAWN.labels(activity_type).inc(float(-delta))
    if outcome.members_counted:
        MEMBERS_COUNTED.inc(outcome.members_counted)
    if outcome.newest_event is not None:
        note_newest(outcome.newest_event)
