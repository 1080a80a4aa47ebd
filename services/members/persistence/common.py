"""SQL every concept of the members service shares: the connection type, and the local
projection of partygrid.region.defined (communities and grids that 双报到 needs) the use cases
check against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared import projections

from ..domain.rules import Version

Row = asyncpg.Record
# a plain connection, or one lent by the pool
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# --- regions (projection of partygrid.region.defined) ---------------------------------------


async def get_region(conn: Conn, region_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM regions WHERE region_id = $1", region_id)


async def region_path(conn: Conn, region_id: str) -> list[str]:
    """The region and its known ancestors, nearest first (just the id when it is unknown)."""
    return await projections.region_path(conn, region_id)


async def upsert_region(
    conn: Conn,
    region_id: str,
    level: str,
    name: str,
    parent_id: str | None,
    retired: bool,
    version: Version,
) -> None:
    """Keep the region as its latest event by (time, source, id) says."""
    await projections.upsert_regions(
        conn,
        [projections.RegionVersion(region_id, level, name, parent_id, retired, version)],
    )


async def existing_regions(conn: Conn, ids: Sequence[str], level: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT region_id FROM regions WHERE region_id = ANY($1::text[]) AND level = $2 "
        "AND NOT retired",
        list(ids),
        level,
    )
    return {r["region_id"] for r in rows}
