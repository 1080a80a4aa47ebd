"""SQL of grid visits (入户走访): one row per visit; a visit id logged before is not inserted
again (the use case answers 409)."""

from __future__ import annotations

import asyncpg

from shared.db import Conn

from ..domain.visits import Visit


def as_visit(row: asyncpg.Record) -> Visit:
    return Visit(
        visit_id=row["visit_id"],
        grid_id=row["grid_id"],
        staff_id=row["staff_id"],
        member_id=row["member_id"],
        households=row["households"],
        duration_minutes=row["duration_minutes"],
        notes=row["notes"],
        visited_at=row["visited_at"],
    )


async def insert_visit(conn: Conn, v: Visit) -> bool:
    row = await conn.fetchrow(
        """INSERT INTO visits (visit_id, grid_id, staff_id, member_id, households,
               duration_minutes, notes, visited_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING visit_id""",
        v.visit_id,
        v.grid_id,
        v.staff_id,
        v.member_id,
        v.households,
        v.duration_minutes,
        v.notes,
        v.visited_at,
    )
    return row is not None


async def visits_of(conn: Conn, grid_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM visits WHERE grid_id = $1 ORDER BY visited_at DESC, visit_id LIMIT $2",
        grid_id,
        limit,
    )
