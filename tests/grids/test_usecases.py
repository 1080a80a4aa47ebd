"""The grids use cases called directly, without HTTP: a real database (migrated like the service
does it), a `Context` with a caller, and refusals that are `shared.refusals.Refusal` values of
the right kind, not HTTP errors. Events land in the outbox of the same transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dev.embedded import EmbeddedPostgres
from dev.testing import settings_for_test
from services.grids.usecases import incidents, regions, staff, visits
from services.grids.usecases.context import Context
from shared.auth import Principal
from shared.db import create_pool
from shared.events import ACTIVITY_LOGGED
from shared.events.grids import IncidentCategory, StaffRole
from shared.events.types import RegionLevel
from shared.migrate import migrate_service
from shared.refusals import Kind, Refusal

TREE = """region_id,level,name,parent_id
UD,district,District,
US,street,Street,UD
UC,community,Community,US
UG,grid,Grid,UC
UR,grid,Retired grid,UC
"""
CITY = Principal(name="test", role="city_admin", scope="*")


@pytest.fixture(scope="module")
async def ctx(pg_server: EmbeddedPostgres) -> AsyncIterator[Context]:
    """A migrated grids database with a small tree (one live grid, one retired)."""
    settings = settings_for_test(pg_server.url, "localhost:9", "grids")
    await migrate_service(settings)
    pool = await create_pool(settings.service_database_url, max_size=4)
    context = Context(pool=pool, caller=CITY, source=settings.source)
    try:
        await regions.import_csv(context, TREE)
        await regions.update_region(context, "UR", retired=True)
        yield context
    finally:
        await pool.close()


async def _outbox(pool: asyncpg.Pool, topic: str) -> list[dict]:
    rows = await pool.fetch("SELECT value FROM outbox WHERE topic = $1 ORDER BY seq", topic)
    return [json.loads(r["value"]) for r in rows]


async def test_a_region_code_taken_already_is_a_conflict(ctx: Context) -> None:
    with pytest.raises(Refusal) as caught:
        await regions.create_region(ctx, "US", RegionLevel.STREET, "again", "UD")
    assert caught.value.kind is Kind.CONFLICT and caught.value.code == "duplicate_code"


async def test_an_import_refuses_every_bad_line_at_once(ctx: Context) -> None:
    broken = "region_id,level,name,parent_id\nUX,street,x,UD,extra\nUY,grid,,UC\n"
    with pytest.raises(Refusal) as caught:
        await regions.import_csv(ctx, broken)
    assert caught.value.kind is Kind.INVALID
    assert sorted(d["line"] for d in caught.value.details) == [2, 3]


async def test_a_missing_region_is_not_found(ctx: Context) -> None:
    with pytest.raises(Refusal) as caught:
        await regions.get_region(ctx, "NOPE")
    assert caught.value.kind is Kind.NOT_FOUND and caught.value.detail == {"field": "region_id"}


async def test_staff_are_not_assigned_to_a_retired_grid(ctx: Context) -> None:
    with pytest.raises(Refusal) as caught:
        await staff.assign_staff(
            ctx,
            "UR",
            staff_id="P1",
            role=StaffRole.WORKER,
            name="x",
            member_id=None,
            building_id=None,
        )
    assert caught.value.kind is Kind.CONFLICT and caught.value.code == "retired"


async def test_a_visit_by_a_member_records_activity_logged_in_its_transaction(
    ctx: Context,
) -> None:
    await staff.assign_staff(
        ctx,
        "UG",
        staff_id="UW",
        role=StaffRole.WORKER,
        name="worker",
        member_id="UM1",
        building_id=None,
    )
    visit = await visits.log_visit(
        ctx,
        "UG",
        staff_id="UW",
        households=2,
        duration_minutes=30,
        notes="",
        visited_at=None,
        visit_id="u-visit-1",
    )
    assert visit.counts_for_scoring is True
    logged = [e for e in await _outbox(ctx.pool, ACTIVITY_LOGGED) if e["subject"] == "UM1"]
    assert [e["data"]["activity_id"] for e in logged] == ["u-visit-1"]
    assert logged[0]["data"]["community_id"] == "UC"


async def test_an_action_not_allowed_now_is_a_conflict_naming_the_status(ctx: Context) -> None:
    opened = await incidents.report_incident(
        ctx,
        "UG",
        category=IncidentCategory("sanitation"),
        title="t",
        description="",
        time_limit_hours=1,
        reported_at=None,
    )
    with pytest.raises(Refusal) as caught:
        await incidents.transition(ctx, opened.incident_id, "close")
    assert caught.value.kind is Kind.CONFLICT and caught.value.code == "invalid_transition"
    assert caught.value.detail == {
        "incident_id": opened.incident_id,
        "current_status": "open",
        "action": "close",
    }
