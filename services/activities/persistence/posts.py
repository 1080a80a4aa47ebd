"""SQL of service posts, their holders and confirmed months; a claim locks the post's slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Conn

from ..domain.posts import ServicePost
from .common import _lock

Row = asyncpg.Record


def as_post(row: Row | dict[str, Any] | None, holders: list[str]) -> ServicePost:
    """The domain post of a row of POST_COLUMNS with its holders."""
    assert row is not None
    return ServicePost(**dict(row), holders=tuple(holders))


POST_COLUMNS = "post_id, community_id, title, category, duties, slots, status, created_at"


async def insert_post(conn: Conn, values: dict[str, Any]) -> Row | None:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return await conn.fetchrow(
        f"INSERT INTO service_posts ({', '.join(cols)}) VALUES ({params}) RETURNING {POST_COLUMNS}",
        *values.values(),
    )


async def post(conn: Conn, post_id: str, *, lock: bool = False) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {POST_COLUMNS} FROM service_posts WHERE post_id = $1{_lock(lock)}", post_id
    )


async def posts(conn: Conn, community_id: str | None, limit: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {POST_COLUMNS} FROM service_posts WHERE ($1::text IS NULL OR community_id = $1) "
        "ORDER BY created_at DESC, post_id LIMIT $2",
        community_id,
        limit,
    )


async def post_holders(conn: Conn, post_id: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT member_id FROM post_claims WHERE post_id = $1 AND released_at IS NULL "
        "ORDER BY claimed_at, member_id",
        post_id,
    )
    return [r["member_id"] for r in rows]


async def claim_post(conn: Conn, post_id: str, member_id: str, at: datetime) -> bool:
    """Claim (or claim again after a release); False if the member holds it already."""
    row = await conn.fetchrow(
        """INSERT INTO post_claims AS c (post_id, member_id, claimed_at) VALUES ($1, $2, $3)
           ON CONFLICT (post_id, member_id) DO UPDATE
               SET claimed_at = excluded.claimed_at, released_at = NULL
               WHERE c.released_at IS NOT NULL
           RETURNING post_id""",
        post_id,
        member_id,
        at,
    )
    return row is not None


async def release_post(conn: Conn, post_id: str, member_id: str, at: datetime) -> bool:
    return (
        await conn.fetchval(
            "UPDATE post_claims SET released_at = $3 WHERE post_id = $1 AND member_id = $2 "
            "AND released_at IS NULL RETURNING 1",
            post_id,
            member_id,
            at,
        )
        is not None
    )


async def holds_post(conn: Conn, post_id: str, member_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM post_claims WHERE post_id = $1 AND member_id = $2)",
            post_id,
            member_id,
        )
    )


async def insert_fulfilment(
    conn: Conn,
    post_id: str,
    member_id: str,
    month: str,
    at: datetime,
    event_id: str,
) -> bool:
    row = await conn.fetchrow(
        """INSERT INTO post_fulfilments (post_id, member_id, month, confirmed_at, logged_event_id)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING post_id""",
        post_id,
        member_id,
        month,
        at,
        event_id,
    )
    return row is not None
