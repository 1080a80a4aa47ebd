"""Wiring of the grids service (port 8002): region tree, grid staff, members by grid, visits
and incidents. `uvicorn services.grids.main:create_app --factory --port 8002`."""

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
from shared.service import Runtime, ServiceDefinition, create_service_app
from shared.settings import Settings

from .api import router
from .handlers import CONSUMES, apply
from .metrics import PeriodicRefresh
from .satisfaction_api import router as satisfaction_router
from .visitduty_api import router as visit_duty_router

MIGRATIONS = Path(__file__).parent / "migrations"
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


def create_app(
    settings: Settings | None = None, *, refresh_seconds: float | None = None
) -> FastAPI:
    """Build the grids app. `refresh_seconds` (env GRIDS_REFRESH_SECONDS, default 15) is how
    often overdue incidents are flagged and the incident gauges re-read."""
    every = refresh_seconds or float(
        os.environ.get("GRIDS_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS)
    )

    async def on_start(runtime: Runtime) -> None:
        assert runtime.pool is not None
        refresher = PeriodicRefresh(
            runtime.pool, runtime.settings.source, every, runtime.settings.tz
        )
        runtime.extras["incident_refresh"] = refresher
        await refresher.once()
        refresher.start()

    async def on_stop(runtime: Runtime) -> None:
        refresher = runtime.extras.get("incident_refresh")
        if refresher is not None:
            await refresher.stop()

    definition = ServiceDefinition(
        name="grids",
        title="PartyGrid grids",
        description=(
            "Region tree (district → street → community → grid → building), grid staff "
            "(一网格一支部), members by grid, grid visits (入户走访) and incidents (事在网中办)."
        ),
        migrations=MIGRATIONS,
        api=[router, satisfaction_router, visit_duty_router],
        consumes=CONSUMES,
        publishes=PUBLISHES,
        apply=apply,
        on_start=on_start,
        on_stop=on_stop,
    )
    return create_service_app(definition, settings or Settings(service_name="grids"))
