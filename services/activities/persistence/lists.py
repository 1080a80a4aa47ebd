"""SQL of the three lists (needs, resources) and the co-building projects born of a claim."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from shared.db import Conn

from ..domain.lists import (
    ListItem,
    ProgressReport,
    Project,
    ProjectParticipant,
    ServiceEntry,
)
from .common import _lock

Row = asyncpg.Record


def as_item(row: Row | None) -> ListItem:
    assert row is not None
    return ListItem(**dict(row))


def as_project(row: Row | dict[str, Any] | None) -> Project:
    assert row is not None
    return Project(**dict(row))


def as_participant(row: Row) -> ProjectParticipant:
    return ProjectParticipant(**dict(row))


def as_report(row: Row) -> ProgressReport:
    return ProgressReport(**dict(row))


def as_entry(row: Row) -> ServiceEntry:
    return ServiceEntry(**dict(row))


ITEM_COLUMNS = "item_id, kind, community_id, unit_id, title, description, status, created_at"
PROJECT_COLUMNS = "project_id, item_id, community_id, unit_id, title, status, progress, created_at"


async def insert_item(conn: Conn, values: dict[str, Any]) -> Row | None:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return await conn.fetchrow(
        f"INSERT INTO list_items ({', '.join(cols)}) VALUES ({params}) RETURNING {ITEM_COLUMNS}",
        *values.values(),
    )


async def item(conn: Conn, item_id: str, kind: str) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {ITEM_COLUMNS} FROM list_items WHERE item_id = $1 AND kind = $2", item_id, kind
    )


async def items(
    conn: Conn, kind: str, community_id: str | None, status: str | None, limit: int
) -> list[Row]:
    return await conn.fetch(
        f"""SELECT {ITEM_COLUMNS} FROM list_items
            WHERE kind = $1 AND ($2::text IS NULL OR community_id = $2)
              AND ($3::text IS NULL OR status = $3)
            ORDER BY created_at DESC, item_id LIMIT $4""",
        kind,
        community_id,
        status,
        limit,
    )


async def claim_item(conn: Conn, item_id: str, kind: str) -> Row | None:
    """Atomic: only an open item is claimed; concurrent claims — one wins."""
    return await conn.fetchrow(
        f"""UPDATE list_items SET status = 'claimed'
            WHERE item_id = $1 AND kind = $2 AND status = 'open' RETURNING {ITEM_COLUMNS}""",
        item_id,
        kind,
    )


async def insert_project(conn: Conn, values: dict[str, Any]) -> Row | None:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return await conn.fetchrow(
        f"INSERT INTO projects ({', '.join(cols)}) VALUES ({params}) RETURNING {PROJECT_COLUMNS}",
        *values.values(),
    )


async def project(conn: Conn, project_id: str, *, lock: bool = False) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {PROJECT_COLUMNS} FROM projects WHERE project_id = $1{_lock(lock)}", project_id
    )


async def projects(conn: Conn, community_id: str | None, limit: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {PROJECT_COLUMNS} FROM projects WHERE ($1::text IS NULL OR community_id = $1) "
        "ORDER BY created_at DESC, project_id LIMIT $2",
        community_id,
        limit,
    )


async def set_progress(
    conn: Conn,
    project_id: str,
    progress: int,
    status: str,
    note: str | None,
    at: datetime,
) -> Row | None:
    await conn.execute(
        "INSERT INTO project_updates (project_id, progress, note, at) VALUES ($1, $2, $3, $4)",
        project_id,
        progress,
        note,
        at,
    )
    return await conn.fetchrow(
        f"UPDATE projects SET progress = $2, status = $3 WHERE project_id = $1 "
        f"RETURNING {PROJECT_COLUMNS}",
        project_id,
        progress,
        status,
    )


async def project_updates(conn: Conn, project_id: str) -> list[Row]:
    return await conn.fetch(
        "SELECT progress, note, at FROM project_updates WHERE project_id = $1 ORDER BY seq",
        project_id,
    )


async def add_participant(conn: Conn, project_id: str, member_id: str, at: datetime) -> bool:
    row = await conn.fetchrow(
        "INSERT INTO project_participants (project_id, member_id, joined_at) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING member_id",
        project_id,
        member_id,
        at,
    )
    return row is not None


async def project_participants(conn: Conn, project_id: str) -> list[Row]:
    return await conn.fetch(
        """SELECT pp.member_id, pp.joined_at, coalesce(sum(s.hours), 0) AS hours
           FROM project_participants pp
           LEFT JOIN project_service s USING (project_id, member_id)
           WHERE pp.project_id = $1 GROUP BY pp.member_id, pp.joined_at ORDER BY pp.member_id""",
        project_id,
    )


async def is_participant(conn: Conn, project_id: str, member_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM project_participants "
            "WHERE project_id = $1 AND member_id = $2)",
            project_id,
            member_id,
        )
    )


async def service_entry(conn: Conn, entry_id: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT entry_id, project_id, member_id, hours, served_at, logged_event_id "
        "FROM project_service WHERE entry_id = $1",
        entry_id,
    )


async def insert_service(
    conn: Conn,
    entry_id: str,
    project_id: str,
    member_id: str,
    hours: Decimal,
    served_at: datetime,
    event_id: str,
) -> Row | None:
    return await conn.fetchrow(
        """INSERT INTO project_service (entry_id, project_id, member_id, hours, served_at,
                                        logged_event_id)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
           RETURNING entry_id, project_id, member_id, hours, served_at, logged_event_id""",
        entry_id,
        project_id,
        member_id,
        hours,
        served_at,
        event_id,
    )
