"""Wiring of the activities service: organised activities with sign-up, venue check-in codes
and confirmation; small wishes; service posts; the three lists and co-building projects;
organisation-life meetings with their roll.

Run: `uvicorn services.activities.main:create_app --factory --port 8003`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.db import Conn
from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED
from shared.events.activities import (
    ACTIVITY_CANCELLED,
    ACTIVITY_PUBLISHED,
    PROJECT_CREATED,
    WISH_CLAIMED,
    WISH_POSTED,
)
from shared.events.satisfaction import SATISFACTION_RATED
from shared.events.timebank import TIMEBANK_CHANGED, TIMEBANK_OFFER_CHANGED
from shared.inbox import Incoming
from shared.service import Runtime, ServiceDefinition, create_service_app
from shared.settings import Settings

from . import api, handlers
from .api import meetings as meetings_api
from .usecases import banking, satisfaction

# What the use cases send through the outbox (the AsyncAPI document lists them).
PUBLISHES = (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    ACTIVITY_PUBLISHED,
    ACTIVITY_CANCELLED,
    WISH_POSTED,
    WISH_CLAIMED,
    PROJECT_CREATED,
    TIMEBANK_CHANGED,
    TIMEBANK_OFFER_CHANGED,
    SATISFACTION_RATED,
)


async def _gauges(runtime: Runtime) -> None:
    assert runtime.pool is not None
    await satisfaction.refresh_gauges(runtime.pool)  # the metric is right from the start


def definition(source: str = "/partygrid/activities") -> ServiceDefinition:
    async def apply(conn: Conn, events: list[Incoming]) -> None:
        await handlers.apply(conn, events)
        await banking.apply(conn, events, source)  # volunteer hours of other systems

    return ServiceDefinition(
        name="activities",
        title="PartyGrid activities",
        description=f"{(api.__doc__ or '').strip()}\n\n{(meetings_api.__doc__ or '').strip()}",
        migrations=Path(__file__).parent / "migrations",
        api=api.ROUTERS,
        on_start=_gauges,
        consumes=handlers.CONSUMES,
        publishes=PUBLISHES,
        apply=apply,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service_name="activities")
    return create_service_app(definition(settings.source), settings)
