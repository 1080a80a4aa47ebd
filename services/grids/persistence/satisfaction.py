"""SQL of residents' satisfaction with incidents: the one rating per incident, and ratings
counted per score and per grid, community or street (a grid's parent is its community, the
community's parent its street)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import Conn
from shared.satisfaction import Rating

# the column of the rated grid's row path that names the region at each level
_LEVEL_COLUMN = {"grid": "g.region_id", "community": "c.region_id", "street": "c.parent_id"}


async def insert_rating(
    conn: Conn, incident_id: str, grid_id: str, score: int, comment: str | None, at: datetime
) -> Rating | None:
    """Record the rating; None if the incident was rated already (also under a race)."""
    row = await conn.fetchrow(
        """INSERT INTO incident_ratings (incident_id, grid_id, score, comment, rated_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
           RETURNING incident_id, grid_id, score, comment, rated_at""",
        incident_id,
        grid_id,
        score,
        comment,
        at,
    )
    if row is None:
        return None
    return Rating(incident_id, grid_id, row["score"], row["comment"], row["rated_at"])


async def counts(conn: Conn, level: str, grids: list[str] | None) -> list[asyncpg.Record]:
    """(region_id, score, n) for each region of `level` with ratings, among `grids`."""
    column = _LEVEL_COLUMN[level]
    return await conn.fetch(
        f"""SELECT {column} AS region_id, ir.score, count(*) AS n
            FROM incident_ratings ir
            JOIN regions g ON g.region_id = ir.grid_id
            LEFT JOIN regions c ON c.region_id = g.parent_id
            WHERE ($1::text[] IS NULL OR ir.grid_id = ANY($1::text[]))
              AND {column} IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2""",
        grids,
    )
