"""Incident gauges of the grids service, on the shared registry so /metrics exports them.

They are read from the database (not counted in memory) so every replica reports the same,
correct numbers; they are refreshed after each incident transition and by a periodic task,
because an incident becomes overdue by the clock alone, without any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
from prometheus_client import Gauge

from shared.metrics import REGISTRY

log = logging.getLogger(__name__)

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


async def refresh_incident_gauges(pool: asyncpg.Pool) -> tuple[int, int]:
    from . import persistence

    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        open_, overdue = await persistence.incident_counts(conn, now)
        by_community = await persistence.overdue_by_community(conn, now)
    INCIDENTS_OPEN.set(open_)
    INCIDENTS_OVERDUE.set(overdue)
    # replaced as a whole with no await in between, so a scrape never sees half of it
    INCIDENTS_OVERDUE_BY_COMMUNITY.clear()
    for community, n in by_community.items():
        INCIDENTS_OVERDUE_BY_COMMUNITY.labels(community).set(n)
    return open_, overdue


class PeriodicRefresh:
    """Every `seconds`: flag incidents that became overdue (publishing incident.overdue)
    and refresh the gauges."""

    def __init__(
        self, pool: asyncpg.Pool, source: str, seconds: float, tz: ZoneInfo | None = None
    ) -> None:
        self.pool = pool
        self.tz = tz
        self.source = source
        self.seconds = seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="grids-incident-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def once(self) -> None:
        from .usecases import flag_overdue

        await flag_overdue(self.pool, self.source)
        await refresh_incident_gauges(self.pool)
        await refresh_satisfaction_gauges(self.pool)
        if self.tz is not None:
            await refresh_visit_duty_gauges(self.pool, self.tz)

    async def _run(self) -> None:
        while True:
            try:
                await self.once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("incident refresh failed; retrying")
            await asyncio.sleep(self.seconds)


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


async def refresh_satisfaction_gauges(pool: asyncpg.Pool) -> None:
    """Re-read the per-street figures (after a rating and with the periodic refresh)."""
    from .satisfaction import figures

    for item in await figures(pool, "street", None):
        SATISFACTION_AVERAGE.labels(item["region_id"]).set(float(item["average"]))
        SATISFACTION_RATINGS.labels(item["region_id"]).set(item["ratings"])


# The daily visiting duty, for the last complete day, per street.
VISIT_DUTY_WORKERS = Gauge(
    "partygrid_grids_visit_duty_workers",
    "Grid leaders and workers who met (status=met) or did not meet (status=not_met) the daily "
    "visiting duty yesterday, per street.",
    ["street", "status"],
    registry=REGISTRY,
)


async def refresh_visit_duty_gauges(pool: asyncpg.Pool, tz: ZoneInfo) -> None:
    from .visitduty import yesterday_by_street

    for item in await yesterday_by_street(pool, tz):
        VISIT_DUTY_WORKERS.labels(item["region_id"], "met").set(item["met"])
        VISIT_DUTY_WORKERS.labels(item["region_id"], "not_met").set(item["not_met"])
