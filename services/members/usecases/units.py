"""Use cases of resident units (驻区单位): register or change one (unit.reported again when a
reported unit's data changed), report it to its community (双报到, unit.reported), and read
units with their co-building agreements."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.auth import Principal
from shared.events import UNIT_REPORTED, CloudEvent, UnitReported, new_event
from shared.outbox import publish_own

from ..domain.registry import RowLike
from ..domain.rules import next_time
from ..domain.units import Unit
from ..models import UnitIn, UnitReportIn
from ..persistence import party_orgs
from ..persistence import units as db
from ..persistence.common import Conn
from .common import Clock, broken, community, missing, require_community_scope, utcnow


def unit_event(source: str, unit: RowLike, when: datetime) -> CloudEvent:
    return new_event(
        type=UNIT_REPORTED,
        source=source,
        subject=unit["unit_id"],
        time=when,
        data=UnitReported(
            unit_id=unit["unit_id"],
            name=unit["name"],
            party_org_id=unit["party_org_id"],
            community_id=unit["community_id"],
            member_count=unit["member_count"],
        ),
    )


async def register_unit(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    unit_id: str,
    body: UnitIn,
    now: Clock = utcnow,
) -> bool:
    """Create or change a unit. A reported unit whose data changed is re-published
    (unit.reported carries name, Party organisation and member count)."""
    async with pool.acquire() as conn, conn.transaction():
        if await party_orgs.get_party_org(conn, body.party_org_id) is None:
            raise broken("party_org_id", "must be an existing Party organisation")
        current = await db.get_unit(conn, unit_id, lock=True)
        if current is not None and current["community_id"]:
            await require_community_scope(conn, caller, current["community_id"])
        wanted = (body.name, body.party_org_id, body.address, body.member_count)
        if current is not None and wanted == (
            current["name"],
            current["party_org_id"],
            current["address"],
            current["member_count"],
        ):
            return False
        await db.upsert_unit(conn, unit_id, *wanted)
        unit = await db.get_unit(conn, unit_id)
        assert unit is not None
        if unit["community_id"]:
            await publish_own(conn, [unit_event(source, unit, now())])
        return True


async def report_unit(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    unit_id: str,
    body: UnitReportIn,
    now: Clock = utcnow,
) -> bool:
    """Report the unit to the community it is located in; False when it already is."""
    async with pool.acquire() as conn, conn.transaction():
        await community(conn, body.community_id, "community_id")
        await require_community_scope(conn, caller, body.community_id)
        unit = await db.get_unit(conn, unit_id, lock=True)
        if unit is None:
            raise missing(
                "unit_id",
                f"no unit {unit_id}",
                "must be a registered unit (PUT /v1/units/{unit_id})",
            )
        if unit["community_id"] == body.community_id:
            return False
        when = next_time(now(), unit["reported_at"])
        event = unit_event(source, {**dict(unit), "community_id": body.community_id}, when)
        await db.set_unit_report(conn, unit_id, body.community_id, when, event.id)
        await publish_own(conn, [event])
        return True


async def _views(conn: Conn, units: list[asyncpg.Record]) -> list[Unit]:
    agreements = await db.unit_agreements(conn, [u["unit_id"] for u in units])
    return [
        db.as_unit(u, [db.as_agreement(a) for a in agreements if a["unit_id"] == u["unit_id"]])
        for u in units
    ]


async def unit_view(pool: asyncpg.Pool, unit_id: str) -> Unit:
    """The unit with its agreements, as a write just left it."""
    async with pool.acquire() as conn:
        unit = await db.get_unit(conn, unit_id)
        if unit is None:
            raise missing("unit_id", f"no unit {unit_id}", "must be a registered unit")
        return (await _views(conn, [unit]))[0]


async def get_unit(pool: asyncpg.Pool, caller: Principal, unit_id: str) -> Unit:
    """The unit with its agreements; a reported unit only within the caller's region."""
    unit = await unit_view(pool, unit_id)
    if unit.community_id:
        async with pool.acquire() as conn:
            await require_community_scope(conn, caller, unit.community_id)
    return unit


async def community_units(pool: asyncpg.Pool, caller: Principal, community_id: str) -> list[Unit]:
    """The units reported to the community, by id, with their agreements."""
    async with pool.acquire() as conn:
        await require_community_scope(conn, caller, community_id)
        return await _views(conn, await db.units_of_community(conn, community_id))
