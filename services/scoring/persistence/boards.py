"""SQL of the red and black boards (红黑榜): a board row holds its snapshot (jsonb) and its
workflow state; who drafted, reviewed and published it comes from the audit actor."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import asyncpg

from shared.db import Conn, from_jsonb

from ..domain.boards import Board, BoardEntry, CommunityEntry, MemberEntry, Snapshot


def _entry(subject: str, item: dict[str, Any]) -> BoardEntry:
    if subject == "members":
        return MemberEntry(
            rank=item["rank"],
            member_id=item["member_id"],
            name=item["name"],
            community_id=item["community_id"],
            score=item["score"],
        )
    return CommunityEntry(
        rank=item["rank"],
        region_id=item["region_id"],
        name=item["name"],
        score=item["score"],
        members=item["members"],
    )


def as_board(row: asyncpg.Record) -> Board:
    """The domain board of a row of `boards` (its snapshot stored as jsonb)."""
    snap = from_jsonb(row["snapshot"])
    return Board(
        board_id=row["board_id"],
        period=row["period"],
        subject=row["subject"],
        size=row["size"],
        street_id=row["street_id"],
        status=row["status"],
        red=tuple(_entry(row["subject"], i) for i in snap["red"]),
        black=tuple(_entry(row["subject"], i) for i in snap["black"]),
        created_at=row["created_at"],
        reviewed_by=row["reviewed_by"],
        published_at=row["published_at"],
        drafted_by=row["drafted_by"],
        review_entered_by=row["review_entered_by"],
        published_by=row["published_by"],
    )


async def insert(
    conn: Conn, period: str, subject: str, size: int, street_id: str | None, snapshot: Snapshot
) -> Board:
    row = await conn.fetchrow(
        """INSERT INTO boards (period, subject, size, street_id, status, snapshot)
           VALUES ($1, $2, $3, $4, 'draft', $5::jsonb) RETURNING *""",
        period,
        subject,
        size,
        street_id,
        json.dumps(dataclasses.asdict(snapshot)),
    )
    assert row is not None  # RETURNING of a row that exists
    return as_board(row)


async def listed(conn: Any, period: str | None, status: str | None) -> list[Board]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM boards WHERE ($1::text IS NULL OR period = $1)
           AND ($2::text IS NULL OR status = $2) ORDER BY board_id DESC LIMIT 200""",
        period,
        status,
    )
    return [as_board(r) for r in rows]


async def get(conn: Any, board_id: int, *, for_update: bool = False) -> Board | None:
    sql = "SELECT * FROM boards WHERE board_id = $1"
    row: asyncpg.Record | None = await conn.fetchrow(
        sql + " FOR UPDATE" if for_update else sql, board_id
    )
    return None if row is None else as_board(row)


async def mark_reviewed(conn: Conn, board_id: int, reviewer: str) -> Board:
    row = await conn.fetchrow(
        "UPDATE boards SET status = 'reviewed', reviewed_by = $2, reviewed_at = now() "
        "WHERE board_id = $1 RETURNING *",
        board_id,
        reviewer,
    )
    assert row is not None  # RETURNING of a row that exists
    return as_board(row)


async def mark_published(conn: Conn, board_id: int) -> Board:
    row = await conn.fetchrow(
        "UPDATE boards SET status = 'published', published_at = now() WHERE board_id = $1 RETURNING *",
        board_id,
    )
    assert row is not None  # RETURNING of a row that exists
    return as_board(row)
