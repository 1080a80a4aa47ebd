"""The periodic refresh of the grids service: every few seconds, flag incidents that became
overdue (publishing incident.overdue) and re-read the gauges. It runs on a clock, not on a
request, because an incident becomes overdue and a day of visiting duty ends without one."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from shared.service import Runtime

from .incidents import flag_overdue, refresh_incident_gauges
from .satisfaction import refresh_satisfaction_gauges
from .visitduty import refresh_visit_duty_gauges

log = logging.getLogger(__name__)


async def once(runtime: Runtime) -> None:
    assert runtime.pool is not None
    await flag_overdue(runtime.pool, runtime.settings.source)
    await refresh_incident_gauges(runtime.pool)
    await refresh_satisfaction_gauges(runtime.pool)
    await refresh_visit_duty_gauges(runtime.pool, runtime.settings.tz)


class PeriodicRefresh:
    """Runs `once` every `seconds` from the service's start to its stop (the hooks of its
    definition); the first run completes before the service starts serving."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._task: asyncio.Task[None] | None = None

    async def start(self, runtime: Runtime) -> None:
        await once(runtime)
        self._task = asyncio.create_task(self._run(runtime), name="grids-incident-refresh")

    async def stop(self, _: Runtime) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, runtime: Runtime) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                await once(runtime)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("incident refresh failed; retrying")
