"""Scoring's own metrics, on the process registry: points given by type, freshness, members
counted, and where the set-based write path spends a batch's time (what bounds ingest and
freshness; docs/design.md §4.9)."""

from __future__ import annotations

import time
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

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


# the statements of the set-based path (services.scoring.bulk), in the order a batch runs them;
# `exact` is the exact path's recomputation of the buckets the set-based one cannot extend
WRITE_STEPS = ("stage", "claim", "lock", "extend", "exact", "propagate")
WRITE_STEP_SECONDS = Histogram(
    "partygrid_scoring_write_step_seconds",
    "Time of each step of the set-based write path per committed batch: stage (COPY into the "
    "staging table), claim (inbox and ledger), lock (member rows), extend (buckets), exact "
    "(buckets recomputed from the ledger), propagate (member totals, region aggregates, rank "
    "counts, points.changed).",
    ["step"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
for _step in WRITE_STEPS:  # every series from the start, so rate() and dashboards see them
    WRITE_STEP_SECONDS.labels(_step)


def observe_steps(seconds: dict[str, float]) -> None:
    """Record a committed batch's step times (call it after the commit only)."""
    for step, value in seconds.items():
        WRITE_STEP_SECONDS.labels(step).observe(value)


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
