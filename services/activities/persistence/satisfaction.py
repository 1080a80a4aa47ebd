"""SQL of residents' ratings of fulfilled small wishes: one rating per wish, and the counts per
score that the figures per community or street are computed from."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import Conn
from shared.satisfaction import Rating

# the region at each level of a rated wish: its community, or the community's parent street
_LEVEL_COLUMN = {"community": "w.community_id", "street": "c.parent_id"}


async def counts(conn: Conn, level: str, community_id: str | None) -> list[asyncpg.Record]:
    """(region_id, score, n) of the ratings within a community or street (all if None)."""
    column = _LEVEL_COLUMN[level]
    return await conn.fetch(
        f"""SELECT {column} AS region_id, w.score, count(*) AS n
            FROM wish_ratings w LEFT JOIN regions c ON c.region_id = w.community_id
            WHERE ($1::text IS NULL OR w.community_id = $1 OR c.parent_id = $1)
              AND {column} IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2""",
        community_id,
    )


async def insert_rating(
    conn: Conn, wish_id: str, community_id: str, score: int, comment: str | None, at: datetime
) -> Rating | None:
    """The new rating, or None when the wish was rated before (a wish is rated once)."""
    row = await conn.fetchrow(
        """INSERT INTO wish_ratings (wish_id, community_id, score, comment, rated_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
           RETURNING score, comment, rated_at""",
        wish_id,
        community_id,
        score,
        comment,
        at,
    )
    if row is None:
        return None
    return Rating(wish_id, community_id, row["score"], row["comment"], row["rated_at"])
