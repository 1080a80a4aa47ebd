"""Scoring service entry point: `uvicorn services.scoring.main:create_app --factory --port 8004`.

Wires the API, the inbox handler (with the Party organisation tree) and the migrations into the
shared service skeleton; nothing happens at import time.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.events import POINTS_CHANGED
from shared.events.scoring import FEEDBACK_ISSUED, PERIOD_CLOSED
from shared.service import Runtime, ServiceDefinition, create_service_app
from shared.settings import Settings

from . import api, handlers
from .metrics import MEMBERS_COUNTED
from .usecases.partyorgs import with_party_orgs

# What the use cases send through the outbox (the AsyncAPI document lists them).
PUBLISHES = (POINTS_CHANGED, PERIOD_CLOSED, FEEDBACK_ISSUED)


async def _on_start(runtime: Runtime) -> None:
    assert runtime.pool is not None
    MEMBERS_COUNTED.set(await runtime.pool.fetchval("SELECT count(*) FROM members WHERE counted"))


def definition(settings: Settings) -> ServiceDefinition:
    return ServiceDefinition(
        name="scoring",
        title="PartyGrid scoring",
        description=api.__doc__ or "",
        migrations=Path(__file__).parent / "migrations",
        api=api.ROUTERS,
        consumes=handlers.CONSUMES,
        publishes=PUBLISHES,
        apply=with_party_orgs(handlers.make_apply(settings.tz, settings.source)),
        on_start=_on_start,
        pages=True,  # the ranking board
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service_name="scoring")
    return create_service_app(definition(settings), settings)
