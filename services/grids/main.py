"""Wiring of the grids service (port 8002): region tree, grid staff, members by grid, visits,
incidents, residents' satisfaction and the daily visiting duty. Nothing happens at import time.

Run: `uvicorn services.grids.main:create_app --factory --port 8002`.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from shared.events import ACTIVITY_LOGGED, REGION_DEFINED
from shared.events.grids import (
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
from shared.events.satisfaction import SATISFACTION_RATED
from shared.service import ServiceDefinition, create_service_app
from shared.settings import Settings

from . import handlers
from .api import ROUTERS
from .usecases.refresh import PeriodicRefresh

DEFAULT_REFRESH_SECONDS = 15.0
# What the use cases send through the outbox (the AsyncAPI document lists them); a grid visit
# by a member is also an activity.logged (grid_visit) for scoring.
PUBLISHES = (
    REGION_DEFINED,
    GRID_STAFF_ASSIGNED,
    GRID_STAFF_REMOVED,
    GRID_BRANCH_ATTACHED,
    GRID_BRANCH_DETACHED,
    VISIT_LOGGED,
    ACTIVITY_LOGGED,
    INCIDENT_OPENED,
    INCIDENT_ASSIGNED,
    INCIDENT_RESOLVED,
    INCIDENT_CLOSED,
    INCIDENT_SUPERVISED,
    INCIDENT_OVERDUE,
    SATISFACTION_RATED,
)


def definition(refresh_seconds: float | None = None) -> ServiceDefinition:
    """`refresh_seconds` (env GRIDS_REFRESH_SECONDS, default 15) is how often overdue incidents
    are flagged and the gauges re-read."""
    every = refresh_seconds or float(
        os.environ.get("GRIDS_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS)
    )
    refresh = PeriodicRefresh(every)
    return ServiceDefinition(
        name="grids",
        title="PartyGrid grids",
        description=(
            "Region tree (district → street → community → grid → building), grid staff "
            "(一网格一支部), members by grid, grid visits (入户走访) and incidents (事在网中办)."
        ),
        migrations=Path(__file__).parent / "migrations",
        api=ROUTERS,
        consumes=handlers.CONSUMES,
        publishes=PUBLISHES,
        apply=handlers.apply,
        on_start=refresh.start,
        on_stop=refresh.stop,
    )


def create_app(
    settings: Settings | None = None, *, refresh_seconds: float | None = None
) -> FastAPI:
    return create_service_app(
        definition(refresh_seconds), settings or Settings(service_name="grids")
    )
