"""Members service entry point: `uvicorn services.members.main:create_app --factory --port 8001`.

Wires the API, the inbox handler and the migrations into the shared service skeleton; nothing
happens at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import FastAPI

from shared.events import MEMBER_DEREGISTERED, MEMBER_REGISTERED, MEMBER_REPORTED, UNIT_REPORTED
from shared.events.members import PARTY_ORG_DEFINED, UNIT_AGREEMENT_SIGNED
from shared.events.units import (
    UNIT_COMMITMENT_UPDATED,
    UNIT_COMMITTEE_MEMBER_CHANGED,
    UNIT_REVIEWED,
)
from shared.service import Runtime, ServiceDefinition, create_service_app
from shared.settings import Settings

from . import api, handlers
from .usecases import imports

# What the use cases send through the outbox (the AsyncAPI document lists them).
PUBLISHES = (
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    MEMBER_DEREGISTERED,
    UNIT_REPORTED,
    PARTY_ORG_DEFINED,
    UNIT_AGREEMENT_SIGNED,
    UNIT_COMMITMENT_UPDATED,
    UNIT_REVIEWED,
    UNIT_COMMITTEE_MEMBER_CHANGED,
)


async def _on_start(runtime: Runtime) -> None:
    assert runtime.pool is not None
    await imports.fail_interrupted_jobs(runtime.pool)


async def _on_stop(runtime: Runtime) -> None:
    tasks = list(runtime.extras.get("import_tasks", ()))
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="members",
        title="PartyGrid members",
        description=api.__doc__ or "",
        migrations=Path(__file__).parent / "migrations",
        api=api.ROUTERS,
        consumes=handlers.CONSUMES,
        publishes=PUBLISHES,
        apply=handlers.apply,
        on_start=_on_start,
        on_stop=_on_stop,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(definition(), settings or Settings(service_name="members"))
