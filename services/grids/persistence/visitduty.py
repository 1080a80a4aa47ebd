"""SQL of the daily visiting duty (asyncpg): the city's setting, the leaders and workers who owe
the duty, and the minutes of visits per worker and day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.db import Conn

from ..domain.visitduty import DutySetting, DutyWorker
from ..domain.visitduty import setting as duty_setting


async def setting(conn: Conn) -> DutySetting | None:
    """The stored setting (None: never changed)."""
    row = await conn.fetchrow(
        "SELECT minutes_per_day, weekdays, updated_at FROM visit_duty_setting"
    )
    if row is None:
        return None
    return duty_setting(row["minutes_per_day"], row["weekdays"], row["updated_at"])


async def save_setting(conn: Conn, duty: DutySetting) -> None:
    await conn.execute(
        """INSERT INTO visit_duty_setting (only_row, minutes_per_day, weekdays, updated_at)
           VALUES (true, $1, $2, $3)
           ON CONFLICT (only_row) DO UPDATE SET minutes_per_day = excluded.minutes_per_day,
               weekdays = excluded.weekdays, updated_at = excluded.updated_at""",
        duty.minutes_per_day,
        list(duty.weekdays),
        duty.updated_at,
    )


async def duty_staff(conn: Conn, grids: list[str] | None) -> list[tuple[DutyWorker, datetime]]:
    """Leaders and workers with their grid's community and street, and when each was
    assigned."""
    rows = await conn.fetch(
        """SELECT s.grid_id, s.staff_id, s.role, s.assigned_at,
                  g.parent_id AS community_id, c.parent_id AS street_id
           FROM grid_staff s
           JOIN regions g ON g.region_id = s.grid_id AND NOT g.retired
           LEFT JOIN regions c ON c.region_id = g.parent_id
           WHERE s.role IN ('leader', 'worker')
             AND ($1::text[] IS NULL OR s.grid_id = ANY($1::text[]))
           ORDER BY s.grid_id, s.staff_id""",
        grids,
    )
    return [
        (
            DutyWorker(
                staff_id=r["staff_id"],
                role=r["role"],
                grid_id=r["grid_id"],
                community_id=r["community_id"],
                street_id=r["street_id"],
            ),
            r["assigned_at"],
        )
        for r in rows
    ]


async def minutes_by_day(
    conn: Conn, start: datetime, end: datetime, tz: ZoneInfo
) -> dict[tuple[str, str], dict[date, int]]:
    """Minutes of visits per (grid, staff) and local day, for visits in [start, end)."""
    rows = await conn.fetch(
        """SELECT grid_id, staff_id, (visited_at AT TIME ZONE $3)::date AS day,
                  sum(duration_minutes)::int AS minutes
           FROM visits WHERE visited_at >= $1 AND visited_at < $2 GROUP BY 1, 2, 3""",
        start,
        end,
        tz.key,
    )
    out: dict[tuple[str, str], dict[date, int]] = defaultdict(dict)
    for r in rows:
        out[(r["grid_id"], r["staff_id"])][r["day"]] = r["minutes"]
    return out
