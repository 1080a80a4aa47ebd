"""Entry point of the scoring service: `uvicorn services.scoring.main:create_app --factory`.

This is the wiring point: settings → handlers (inbox use case) → API → the shared skeleton.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.events import POINTS_CHANGED
from shared.events.scoring import FEEDBACK_ISSUED, PERIOD_CLOSED
from shared.service import Runtime, ServiceDefinition, create_service_app
from shared.settings import Settings

from .api import router
from .board import router as board_router
from .boards_api import router as boards_router
from .followups import router as followups_router
from .handlers import CONSUMES, make_apply
from .metrics import MEMBERS_COUNTED
from .partyorgs import with_party_orgs
from .periods_api import router as periods_router
from .record import router as record_router
from .rules_history import router as rules_router


async def _on_start(runtime: Runtime) -> None:
    assert runtime.pool is not None
    MEMBERS_COUNTED.set(await runtime.pool.fetchval("SELECT count(*) FROM members WHERE counted"))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service_name="scoring")
    definition = ServiceDefinition(
        name="scoring",
        title="PartyGrid scoring",
        description=__doc__ or "",
        migrations=Path(__file__).parent / "migrations",
        api=[
            rules_router,
            router,
            boards_router,
            periods_router,
            record_router,
            followups_router,
            board_router,
        ],
        consumes=CONSUMES,
        publishes=(
            POINTS_CHANGED,
            PERIOD_CLOSED,
            FEEDBACK_ISSUED,
        ),  # sent through the outbox (the AsyncAPI document lists it)
        apply=with_party_orgs(make_apply(settings.tz, settings.source)),
        on_start=_on_start,
        pages=True,  # the ranking board
    )
    return create_service_app(definition, settings)
