"""SQL of the activities service (asyncpg). Every function takes the connection of the caller's
transaction; the use cases decide where transactions begin and end. Row locks (`FOR UPDATE`)
serialise the decisions that must not race: the last places of an activity, a wish's claim,
a post's slots, a list item's claim."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from shared.db import Conn

Row = asyncpg.Record


def _lock(lock: bool) -> str:
    return " FOR UPDATE" if lock else ""


# --- projections ---------------------------------------------------------------------------


async def member(conn: Conn, member_id: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT member_id, status, community_id FROM member_projection WHERE member_id = $1",
        member_id,
    )


async def unit(conn: Conn, unit_id: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT unit_id, name, community_id FROM unit_projection WHERE unit_id = $1", unit_id
    )


async def region_path(conn: Conn, region_id: str) -> list[str]:
    """The region and its ancestors, nearest first (just the region if it is not known)."""
    rows = await conn.fetch(
        """WITH RECURSIVE up(region_id, parent_id, depth) AS (
               SELECT region_id, parent_id, 0 FROM region_projection WHERE region_id = $1
               UNION ALL
               SELECT r.region_id, r.parent_id, up.depth + 1
               FROM region_projection r JOIN up ON r.region_id = up.parent_id
               WHERE up.depth < 10)
           SELECT region_id FROM up ORDER BY depth""",
        region_id,
    )
    return [r["region_id"] for r in rows] or [region_id]


# --- activities ----------------------------------------------------------------------------

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


# --- wishes --------------------------------------------------------------------------------

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


# --- service posts -------------------------------------------------------------------------

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


# --- three lists and projects --------------------------------------------------------------

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
