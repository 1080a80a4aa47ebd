"""SQL of organisation-life meetings and their rolls. The meeting row is locked (`FOR UPDATE`)
while a roll is confirmed, so two confirmations of one meeting run one after the other and the
second compares against what the first stored."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Conn

from ..domain.meetings import (
    Attendance,
    Entry,
    Meeting,
    MeetingKind,
    RollVersion,
    Standing,
)
from ..domain.meetings import (
    meeting as meeting_of,
)

Row = asyncpg.Record

COLUMNS = (
    "meeting_id, kind, branch_id, community_id, title, held_at, place, created_at, roll_version"
)


def as_meeting(row: Row | Mapping[str, Any], roll: Mapping[str, Standing]) -> Meeting:
    """The domain meeting of a row of `meetings` (COLUMNS) with its roll."""
    return meeting_of(
        meeting_id=row["meeting_id"],
        kind=MeetingKind(row["kind"]),
        branch_id=row["branch_id"],
        community_id=row["community_id"],
        title=row["title"],
        held_at=row["held_at"],
        place=row["place"],
        created_at=row["created_at"],
        roll_version=row["roll_version"],
        roll=roll,
    )


async def insert_meeting(conn: Conn, values: dict[str, Any]) -> Row | None:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return await conn.fetchrow(
        f"INSERT INTO meetings ({', '.join(cols)}) VALUES ({params}) RETURNING {COLUMNS}",
        *values.values(),
    )


async def meeting(conn: Conn, meeting_id: str, *, lock: bool = False) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM meetings WHERE meeting_id = $1{' FOR UPDATE' if lock else ''}",
        meeting_id,
    )


async def meetings(
    conn: Conn,
    community_id: str | None,
    branch_id: str | None,
    kind: str | None,
    limit: int,
) -> list[Row]:
    return await conn.fetch(
        f"""SELECT {COLUMNS} FROM meetings
            WHERE ($1::text IS NULL OR community_id = $1) AND ($2::text IS NULL OR branch_id = $2)
              AND ($3::text IS NULL OR kind = $3)
            ORDER BY held_at DESC, meeting_id LIMIT $4""",
        community_id,
        branch_id,
        kind,
        limit,
    )


async def rolls(conn: Conn, meeting_ids: Sequence[str]) -> dict[str, dict[str, Standing]]:
    """The confirmed roll of each meeting (empty when none was confirmed), in one query."""
    rows = await conn.fetch(
        "SELECT meeting_id, member_id, status, reason, version, logged_event_id "
        "FROM meeting_roll WHERE meeting_id = ANY($1::text[]) ORDER BY meeting_id, member_id",
        list(meeting_ids),
    )
    result: dict[str, dict[str, Standing]] = {m: {} for m in meeting_ids}
    for r in rows:
        result[r["meeting_id"]][r["member_id"]] = Standing(
            Attendance(r["status"]), r["reason"], r["version"], r["logged_event_id"]
        )
    return result


async def roll(conn: Conn, meeting_id: str) -> dict[str, Standing]:
    return (await rolls(conn, [meeting_id]))[meeting_id]


async def member_problems(conn: Conn, member_ids: Sequence[str]) -> dict[str, str]:
    """Of `member_ids`, those unknown here or deregistered, with why."""
    rows = await conn.fetch(
        "SELECT member_id, status FROM member_projection WHERE member_id = ANY($1::text[])",
        list(member_ids),
    )
    known = {r["member_id"]: r["status"] for r in rows}
    return {
        m: "unknown" if m not in known else "deregistered"
        for m in member_ids
        if m not in known or known[m] == "deregistered"
    }


async def store_roll(
    conn: Conn,
    meeting_id: str,
    version: int,
    new_roll: Mapping[str, Standing],
    *,
    confirmed_at: datetime,
    confirmed_by: str,
    entries: list[dict[str, Any]],
    revoked: int,
    logged: int,
) -> None:
    """Replace the roll by `new_roll` at `version` and keep the version's record."""
    await conn.execute(
        "DELETE FROM meeting_roll WHERE meeting_id = $1 AND NOT (member_id = ANY($2::text[]))",
        meeting_id,
        list(new_roll),
    )
    await conn.executemany(
        """INSERT INTO meeting_roll AS r
               (meeting_id, member_id, status, reason, version, logged_event_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (meeting_id, member_id) DO UPDATE SET
               status = excluded.status, reason = excluded.reason, version = excluded.version,
               logged_event_id = excluded.logged_event_id""",
        [
            (meeting_id, m, s.status.value, s.reason, s.version, s.logged_event_id)
            for m, s in new_roll.items()
        ],
    )
    await conn.execute(
        "UPDATE meetings SET roll_version = $2 WHERE meeting_id = $1", meeting_id, version
    )
    await conn.execute(
        """INSERT INTO meeting_roll_versions
               (meeting_id, version, confirmed_at, confirmed_by, entries, revoked, logged)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)""",
        meeting_id,
        version,
        confirmed_at,
        confirmed_by,
        json.dumps(entries, ensure_ascii=False),
        revoked,
        logged,
    )


async def roll_versions(conn: Conn, meeting_id: str) -> list[RollVersion]:
    rows = await conn.fetch(
        "SELECT version, confirmed_at, confirmed_by, entries, revoked, logged "
        "FROM meeting_roll_versions WHERE meeting_id = $1 ORDER BY version",
        meeting_id,
    )
    return [
        RollVersion(
            version=r["version"],
            confirmed_at=r["confirmed_at"],
            confirmed_by=r["confirmed_by"],
            entries=tuple(
                Entry(e["member_id"], Attendance(e["status"]), e.get("reason"))
                for e in json.loads(r["entries"])
            ),
            revoked=r["revoked"],
            logged=r["logged"],
        )
        for r in rows
    ]
