"""SQL of organised activities, participations and venue check-in codes. Row locks (`FOR
UPDATE`) serialise the decisions that must not race: the last places of an activity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Conn
from shared.events import ActivityType

from ..domain.activities import Activity, CheckinCode, Participation
from .common import _lock

Row = asyncpg.Record


def as_activity(row: Row | dict[str, Any] | None) -> Activity:
    """The domain activity of a row of ACTIVITY_COLUMNS (and `taken`, in lists)."""
    assert row is not None
    fields = dict(row)
    return Activity(**{**fields, "activity_type": ActivityType(fields["activity_type"])})


def as_participation(row: Row | None) -> Participation:
    """The domain participation of a row of PARTICIPATION_COLUMNS."""
    assert row is not None
    return Participation(**dict(row))


def as_code(row: Row | None) -> CheckinCode:
    assert row is not None
    return CheckinCode(**dict(row))


ACTIVITY_COLUMNS = (
    "activity_id, activity_type, title, organiser_kind, organiser_id, community_id, starts_at, "
    "ends_at, place, capacity, status, created_at, published_at, cancelled_at, cancel_reason"
)


async def insert_activity(conn: Conn, values: dict[str, Any]) -> Row | None:
    cols = list(values)
    params = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return await conn.fetchrow(
        f"INSERT INTO activities ({', '.join(cols)}) VALUES ({params}) "
        f"RETURNING {ACTIVITY_COLUMNS}",
        *values.values(),
    )


async def activity(conn: Conn, activity_id: str, *, lock: bool = False) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {ACTIVITY_COLUMNS} FROM activities WHERE activity_id = $1{_lock(lock)}",
        activity_id,
    )


async def activities(
    conn: Conn, community_id: str | None, status: str | None, limit: int
) -> list[Row]:
    return await conn.fetch(
        f"""SELECT {ACTIVITY_COLUMNS},
                   (SELECT count(*) FROM participations p WHERE p.activity_id = a.activity_id
                      AND p.status <> 'cancelled') AS taken
            FROM activities a
            WHERE ($1::text IS NULL OR community_id = $1) AND ($2::text IS NULL OR status = $2)
            ORDER BY starts_at DESC, activity_id LIMIT $3""",
        community_id,
        status,
        limit,
    )


async def set_activity_status(
    conn: Conn, activity_id: str, status: str, at: datetime, reason: str | None = None
) -> Row | None:
    column = "published_at" if status == "published" else "cancelled_at"
    return await conn.fetchrow(
        f"""UPDATE activities SET status = $2, {column} = $3,
                   cancel_reason = coalesce($4, cancel_reason)
            WHERE activity_id = $1 RETURNING {ACTIVITY_COLUMNS}""",
        activity_id,
        status,
        at,
        reason,
    )


async def places_taken(conn: Conn, activity_id: str) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM participations WHERE activity_id = $1 AND status <> 'cancelled'",
        activity_id,
    )


PARTICIPATION_COLUMNS = (
    "activity_id, member_id, revision, status, signed_up_at, checked_in_at, checked_out_at, "
    "hours, confirmed_at, logged_event_id, cancelled_at, cancel_reason"
)


async def participation(
    conn: Conn, activity_id: str, member_id: str, *, lock: bool = False
) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {PARTICIPATION_COLUMNS} FROM participations "
        f"WHERE activity_id = $1 AND member_id = $2{_lock(lock)}",
        activity_id,
        member_id,
    )


async def participations(conn: Conn, activity_id: str, *, lock: bool = False) -> list[Row]:
    return await conn.fetch(
        f"SELECT {PARTICIPATION_COLUMNS} FROM participations WHERE activity_id = $1 "
        f"ORDER BY member_id{_lock(lock)}",
        activity_id,
    )


async def sign_up(
    conn: Conn,
    activity_id: str,
    member_id: str,
    at: datetime,
    status: str,
    checked_in_at: datetime | None,
) -> Row | None:
    """Insert a participation, or take up a cancelled one again with the next revision."""
    return await conn.fetchrow(
        f"""INSERT INTO participations AS p (activity_id, member_id, status, signed_up_at,
                                             checked_in_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (activity_id, member_id) DO UPDATE SET
                revision = p.revision + 1, status = excluded.status,
                signed_up_at = excluded.signed_up_at, checked_in_at = excluded.checked_in_at,
                checked_out_at = NULL, hours = NULL, confirmed_at = NULL,
                logged_event_id = NULL, cancelled_at = NULL, cancel_reason = NULL
            WHERE p.status = 'cancelled'
            RETURNING {PARTICIPATION_COLUMNS}""",
        activity_id,
        member_id,
        status,
        at,
        checked_in_at,
    )


async def update_participation(
    conn: Conn, activity_id: str, member_id: str, **values: Any
) -> Row | None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=3))
    return await conn.fetchrow(
        f"UPDATE participations SET {sets} WHERE activity_id = $1 AND member_id = $2 "
        f"RETURNING {PARTICIPATION_COLUMNS}",
        activity_id,
        member_id,
        *values.values(),
    )


async def cancel_participations(
    conn: Conn, activity_id: str, at: datetime, reason: str | None
) -> None:
    await conn.execute(
        """UPDATE participations SET status = 'cancelled', cancelled_at = $2, cancel_reason = $3
           WHERE activity_id = $1 AND status <> 'cancelled'""",
        activity_id,
        at,
        reason,
    )


async def usable_code(conn: Conn, activity_id: str, valid_after: datetime) -> Row | None:
    return await conn.fetchrow(
        """SELECT code, issued_at, expires_at FROM checkin_codes
           WHERE activity_id = $1 AND expires_at > $2 ORDER BY expires_at DESC LIMIT 1""",
        activity_id,
        valid_after,
    )


async def insert_code(
    conn: Conn, activity_id: str, code: str, at: datetime, expires_at: datetime
) -> Row | None:
    return await conn.fetchrow(
        """INSERT INTO checkin_codes (activity_id, code, issued_at, expires_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
           RETURNING code, issued_at, expires_at""",
        activity_id,
        code,
        at,
        expires_at,
    )


async def code(conn: Conn, activity_id: str, code: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT code, issued_at, expires_at FROM checkin_codes "
        "WHERE activity_id = $1 AND code = $2",
        activity_id,
        code,
    )
