"""SQL shared by every concept of the activities service: the lock clause and the reads of the
local projections (members, resident units, the region tree) the use cases check against.
Every function takes the connection of the caller's transaction; the use cases decide where
transactions begin and end."""

from __future__ import annotations

import asyncpg

from shared import projections
from shared.db import Conn

Row = asyncpg.Record


def _lock(lock: bool) -> str:
    return " FOR UPDATE" if lock else ""


# --- projections ---------------------------------------------------------------------------


async def member(conn: Conn, member_id: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT member_id, status, community_id FROM member_projection WHERE member_id = $1",
        member_id,
    )


async def unit(conn: Conn, unit_id: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT unit_id, name, community_id FROM unit_projection WHERE unit_id = $1", unit_id
    )


async def region_path(conn: Conn, region_id: str) -> list[str]:
    """The region and its ancestors, nearest first (just the region if it is not known)."""
    return await projections.region_path(conn, region_id)
