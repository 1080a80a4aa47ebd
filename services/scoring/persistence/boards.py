"""SQL of the red and black boards (红黑榜): a board row holds its snapshot (jsonb) and its
workflow state; who drafted, reviewed and published it comes from the audit actor."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from shared.db import Conn


async def insert(
    conn: Conn, period: str, subject: str, size: int, street_id: str | None, snapshot: Any
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO boards (period, subject, size, street_id, status, snapshot)
           VALUES ($1, $2, $3, $4, 'draft', $5::jsonb) RETURNING *""",
        period,
        subject,
        size,
        street_id,
        json.dumps(snapshot),
    )
    assert row is not None  # RETURNING of a row that exists
    return row


async def listed(conn: Any, period: str | None, status: str | None) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM boards WHERE ($1::text IS NULL OR period = $1)
           AND ($2::text IS NULL OR status = $2) ORDER BY board_id DESC LIMIT 200""",
        period,
        status,
    )
    return rows


async def get(conn: Any, board_id: int, *, for_update: bool = False) -> asyncpg.Record | None:
    sql = "SELECT * FROM boards WHERE board_id = $1"
    row: asyncpg.Record | None = await conn.fetchrow(
        sql + " FOR UPDATE" if for_update else sql, board_id
    )
    return row


async def mark_reviewed(conn: Conn, board_id: int, reviewer: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE boards SET status = 'reviewed', reviewed_by = $2, reviewed_at = now() "
        "WHERE board_id = $1 RETURNING *",
        board_id,
        reviewer,
    )
    assert row is not None  # RETURNING of a row that exists
    return row


async def mark_published(conn: Conn, board_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE boards SET status = 'published', published_at = now() WHERE board_id = $1 RETURNING *",
        board_id,
    )
    assert row is not None  # RETURNING of a row that exists
    return row
