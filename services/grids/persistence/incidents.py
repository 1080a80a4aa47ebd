"""SQL of incidents (asyncpg). Every function takes a connection that the caller runs inside its
one transaction; nothing here commits on its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Conn
from shared.events.grids import IncidentStatus

from ..domain.incidents import Incident, incident


def as_incident(row: asyncpg.Record, now: datetime) -> Incident:
    """The domain incident of a row of `incidents`, its flags as of `now`."""
    return incident(
        incident_id=row["incident_id"],
        grid_id=row["grid_id"],
        category=row["category"],
        title=row["title"],
        description=row["description"],
        status=IncidentStatus(row["status"]),
        reported_at=row["reported_at"],
        due_at=row["due_at"],
        assignee_id=row["assignee_id"],
        resolution=row["resolution"],
        resolved_at=row["resolved_at"],
        closed_at=row["closed_at"],
        supervised_at=row["supervised_at"],
        supervision_note=row["supervision_note"],
        now=now,
    )


async def insert_incident(conn: Conn, i: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO incidents (incident_id, grid_id, category, title, description, status,
               reported_at, due_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)""",
        i["incident_id"],
        i["grid_id"],
        i["category"],
        i["title"],
        i["description"],
        i["reported_at"],
        i["due_at"],
    )


async def get_incident(
    conn: Conn, incident_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM incidents WHERE incident_id = $1" + (" FOR UPDATE" if for_update else ""),
        incident_id,
    )


async def update_incident(conn: Conn, incident_id: str, **values: Any) -> None:
    names = list(values)
    sets = ", ".join(f"{n} = ${i + 2}" for i, n in enumerate(names))
    await conn.execute(
        f"UPDATE incidents SET {sets}, updated_at = now() WHERE incident_id = $1",
        incident_id,
        *[values[n] for n in names],
    )


async def list_incidents(
    conn: Conn,
    *,
    grid_ids: Sequence[str] | None,
    status: str | None,
    overdue_only: bool,
    supervised_only: bool,
    now: datetime,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT * FROM incidents
           WHERE ($1::text[] IS NULL OR grid_id = ANY($1::text[]))
             AND ($2::text IS NULL OR status = $2)
             AND (NOT $3 OR (status IN ('open', 'assigned') AND due_at < $4))
             AND (NOT $5 OR supervised_at IS NOT NULL)
           ORDER BY due_at, incident_id LIMIT $6""",
        list(grid_ids) if grid_ids is not None else None,
        status,
        overdue_only,
        now,
        supervised_only,
        limit,
    )


async def incident_counts(conn: Conn, now: datetime) -> tuple[int, int]:
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE status IN ('open', 'assigned')) AS open,
                  count(*) FILTER (WHERE status IN ('open', 'assigned') AND due_at < $1)
                      AS overdue
           FROM incidents""",
        now,
    )
    assert row is not None
    return int(row["open"]), int(row["overdue"])


async def overdue_by_community(conn: Conn, now: datetime) -> dict[str, int]:
    """Unresolved incidents past their time limit per community (the grid's parent region;
    "unknown" for a grid not yet known to the region tree)."""
    rows = await conn.fetch(
        """SELECT coalesce(g.parent_id, 'unknown') AS community, count(*) AS overdue
           FROM incidents i LEFT JOIN regions g ON g.region_id = i.grid_id
           WHERE i.status IN ('open', 'assigned') AND i.due_at < $1
           GROUP BY 1""",
        now,
    )
    return {r["community"]: int(r["overdue"]) for r in rows}


async def flag_newly_overdue(conn: Conn, now: datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        """UPDATE incidents SET overdue_flagged_at = $1
           WHERE status IN ('open', 'assigned') AND due_at < $1 AND overdue_flagged_at IS NULL
           RETURNING incident_id, grid_id, due_at, status""",
        now,
    )
