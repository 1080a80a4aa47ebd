"""SQL of the members-by-grid projection, fed by member.reported / registered / deregistered:
each part (report, registration, status) latest-wins on its own (shared.projections)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared import projections
from shared.db import Conn

from ..domain.grids import GridMember

Version = projections.Version
TABLE = "grid_members"  # the member projection


def as_grid_member(row: asyncpg.Record) -> GridMember:
    """A row of `grid_members`."""
    return GridMember(member_id=row["member_id"], category=row["category"])


# not deregistered: registered, or known only from a report so far
COUNTED = "m.status IS DISTINCT FROM 'deregistered'"


async def apply_reported(conn: Conn, rows: Sequence[tuple[str, str, str | None, Version]]) -> None:
    """rows: (member_id, community_id, grid_id, version); the latest report wins."""
    await projections.upsert_members(
        conn, TABLE, projections.REPORT, ((m, (c, g), v) for m, c, g, v in rows)
    )


async def apply_registered(conn: Conn, rows: Sequence[tuple[str, str, Version]]) -> None:
    """rows: (member_id, category, version); the latest registration wins, and the latest of
    registrations and deregistrations decides the status."""
    await projections.upsert_members(
        conn, TABLE, projections.REGISTRATION, ((m, (c,), v) for m, c, v in rows)
    )
    await apply_status(conn, [(m, "registered", v) for m, _, v in rows])


async def apply_status(conn: Conn, rows: Sequence[tuple[str, str, Version]]) -> None:
    """rows: (member_id, 'registered' or 'deregistered', version); the latest wins."""
    await projections.upsert_members(
        conn, TABLE, projections.STATUS, ((m, (s,), v) for m, s, v in rows)
    )


async def grid_members(conn: Conn, grid_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT m.member_id, coalesce(m.category, 'unknown') AS category, m.community_id
            FROM grid_members m WHERE m.grid_id = $1 AND {COUNTED} ORDER BY m.member_id""",
        grid_id,
    )


async def member_counts(conn: Conn, grid_ids: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT m.grid_id, coalesce(m.category, 'unknown') AS category, count(*) AS n
            FROM grid_members m WHERE m.grid_id = ANY($1::text[]) AND {COUNTED}
            GROUP BY 1, 2 ORDER BY 1, 2""",
        list(grid_ids),
    )
