"""SQL every concept of the members service shares: the connection type, and the local
projection of partygrid.region.defined (communities and grids that 双报到 needs) the use cases
check against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ..domain.rules import Version

Row = asyncpg.Record
# a plain connection, or one lent by the pool
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# --- regions (projection of partygrid.region.defined) ---------------------------------------


async def get_region(conn: Conn, region_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM regions WHERE region_id = $1", region_id)


async def region_path(conn: Conn, region_id: str) -> list[str]:
    """The region and its known ancestors, nearest first (just the id when it is unknown)."""
    rows = await conn.fetch(
        """WITH RECURSIVE up(region_id, parent_id, depth) AS (
               SELECT region_id, parent_id, 0 FROM regions WHERE region_id = $1
               UNION ALL
               SELECT r.region_id, r.parent_id, up.depth + 1
               FROM regions r JOIN up ON r.region_id = up.parent_id WHERE up.depth < 10)
           SELECT region_id FROM up ORDER BY depth""",
        region_id,
    )
    return [r["region_id"] for r in rows] or [region_id]


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
    await conn.execute(
        """INSERT INTO regions AS r (region_id, level, name, parent_id, retired,
                                     ev_time, ev_source, ev_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (region_id) DO UPDATE SET
               level = excluded.level, name = excluded.name, parent_id = excluded.parent_id,
               retired = excluded.retired, ev_time = excluded.ev_time,
               ev_source = excluded.ev_source, ev_id = excluded.ev_id
           WHERE (r.ev_time, r.ev_source COLLATE "C", r.ev_id COLLATE "C")
               < (excluded.ev_time, excluded.ev_source COLLATE "C", excluded.ev_id COLLATE "C")""",
        region_id,
        level,
        name,
        parent_id,
        retired,
        *version,
    )


async def existing_regions(conn: Conn, ids: Sequence[str], level: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT region_id FROM regions WHERE region_id = ANY($1::text[]) AND level = $2 "
        "AND NOT retired",
        list(ids),
        level,
    )
    return {r["region_id"] for r in rows}
