"""SQL of small wishes; a claim locks the wish so that one member wins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Conn

from ..domain import wishes as domain
from .common import _lock

Row = asyncpg.Record


def as_wish(row: Row | dict[str, Any] | None, now: datetime) -> domain.Wish:
    """The domain wish of a row of WISH_COLUMNS, as of `now`."""
    assert row is not None
    return domain.wish(**dict(row), now=now)


WISH_COLUMNS = (
    "wish_id, community_id, title, description, beneficiary, posted_at, expires_at, status, "
    "claimed_by, claimed_at, fulfilled_at, logged_event_id, cancelled_at"
)


async def insert_wish(conn: Conn, values: dict[str, Any]) -> Row | None:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return await conn.fetchrow(
        f"INSERT INTO wishes ({', '.join(cols)}) VALUES ({params}) RETURNING {WISH_COLUMNS}",
        *values.values(),
    )


async def wish(conn: Conn, wish_id: str, *, lock: bool = False) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {WISH_COLUMNS} FROM wishes WHERE wish_id = $1{_lock(lock)}", wish_id
    )


async def wishes(
    conn: Conn,
    community_id: str | None,
    status: str | None,
    now: datetime,
    limit: int,
) -> list[Row]:
    """`status` is the status a reader sees (open excludes expired; expired is open + past)."""
    return await conn.fetch(
        f"""SELECT {WISH_COLUMNS} FROM wishes
            WHERE ($1::text IS NULL OR community_id = $1)
              AND ($2::text IS NULL
                   OR ($2 = 'expired' AND status = 'open' AND expires_at <= $3)
                   OR ($2 = 'open' AND status = 'open' AND expires_at > $3)
                   OR ($2 NOT IN ('open', 'expired') AND status = $2))
            ORDER BY posted_at DESC, wish_id LIMIT $4""",
        community_id,
        status,
        now,
        limit,
    )


async def claim_wish(conn: Conn, wish_id: str, member_id: str, now: datetime) -> Row | None:
    """Atomic: only an open, unexpired wish is claimed; concurrent claims — one wins."""
    return await conn.fetchrow(
        f"""UPDATE wishes SET status = 'claimed', claimed_by = $2, claimed_at = $3
            WHERE wish_id = $1 AND status = 'open' AND expires_at > $3
            RETURNING {WISH_COLUMNS}""",
        wish_id,
        member_id,
        now,
    )


async def update_wish(conn: Conn, wish_id: str, **values: Any) -> Row | None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=2))
    return await conn.fetchrow(
        f"UPDATE wishes SET {sets} WHERE wish_id = $1 RETURNING {WISH_COLUMNS}",
        wish_id,
        *values.values(),
    )
