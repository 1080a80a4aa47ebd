"""Gauges of the grids service (incidents, satisfaction, visiting duty), on the shared registry
so /metrics exports them.

They show figures read from the database (not counted in memory) so every replica reports the
same, correct numbers. The use cases read the figures and hand them to the `show_*` functions
here after their transaction commits; `usecases.refresh` does the same periodically, because an
incident becomes overdue by the clock alone, without any request. This module imports nothing of
the service, so the use cases can depend on it without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from prometheus_client import Gauge

from shared.metrics import REGISTRY

INCIDENTS_OPEN = Gauge(
    "partygrid_grids_incidents_open",
    "Incidents not yet resolved (status open or assigned).",
    registry=REGISTRY,
)
INCIDENTS_OVERDUE = Gauge(
    "partygrid_grids_incidents_overdue",
    "Incidents not yet resolved and past their time limit.",
    registry=REGISTRY,
)

# Per community, for the overdue-incidents alert: only communities with overdue incidents have
# a series (a bounded label: the city's communities).
INCIDENTS_OVERDUE_BY_COMMUNITY = Gauge(
    "partygrid_grids_incidents_overdue_by_community",
    "Incidents not yet resolved and past their time limit, per community.",
    ["community"],
    registry=REGISTRY,
)


def show_incidents(open_: int, overdue: int, by_community: dict[str, int]) -> None:
    INCIDENTS_OPEN.set(open_)
    INCIDENTS_OVERDUE.set(overdue)
    # replaced as a whole with no await in between, so a scrape never sees half of it
    INCIDENTS_OVERDUE_BY_COMMUNITY.clear()
    for community, n in by_community.items():
        INCIDENTS_OVERDUE_BY_COMMUNITY.labels(community).set(n)


# Residents' satisfaction with incidents, per street (a city has tens of streets, not
# thousands of grids: a label per street keeps the series few).
SATISFACTION_AVERAGE = Gauge(
    "partygrid_grids_satisfaction_average",
    "Mean rating (1-5) residents gave closed incidents of the street's grids.",
    ["street"],
    registry=REGISTRY,
)
SATISFACTION_RATINGS = Gauge(
    "partygrid_grids_satisfaction_ratings",
    "Closed incidents rated by residents, per street.",
    ["street"],
    registry=REGISTRY,
)


def show_satisfaction(per_street: Iterable[tuple[str, Decimal, int]]) -> None:
    """`per_street`: each street with its mean rating and number of ratings."""
    for street, average, ratings in per_street:
        SATISFACTION_AVERAGE.labels(street).set(float(average))
        SATISFACTION_RATINGS.labels(street).set(ratings)


# The daily visiting duty, for the last complete day, per street.
VISIT_DUTY_WORKERS = Gauge(
    "partygrid_grids_visit_duty_workers",
    "Grid leaders and workers who met (status=met) or did not meet (status=not_met) the daily "
    "visiting duty yesterday, per street.",
    ["street", "status"],
    registry=REGISTRY,
)


def show_visit_duty(per_street: Iterable[tuple[str, int, int]]) -> None:
    """`per_street`: each street, with how many workers met the duty and how many did not."""
    for street, met, not_met in per_street:
        VISIT_DUTY_WORKERS.labels(street, "met").set(met)
        VISIT_DUTY_WORKERS.labels(street, "not_met").set(not_met)
