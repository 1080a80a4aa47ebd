"""Use cases of the daily visiting duty (每天至少在网格内走访2个小时): the city's setting, and
who met the duty and who did not for a day, an ISO week or a month, per worker and per grid,
community and street, from the visits logged. Rules are in `domain.visitduty`; the gauge per
street (yesterday, a complete day) is refreshed with the incident gauges."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from shared.db import Conn

from . import persistence as db
from .domain import visitduty as rules
from .usecases import Context, _scope_within


async def _setting(conn: Conn) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT minutes_per_day, weekdays, updated_at FROM visit_duty_setting"
    )
    if row is None:
        return {
            "minutes_per_day": rules.DEFAULT_MINUTES,
            "weekdays": list(rules.ALL_WEEKDAYS),
            "updated_at": None,
        }
    return {**dict(row), "weekdays": sorted(row["weekdays"])}


async def get_setting(ctx: Context) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        return await _setting(conn)


async def put_setting(ctx: Context, minutes_per_day: int, weekdays: list[int]) -> dict[str, Any]:
    ctx.caller.require_city()
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO visit_duty_setting (only_row, minutes_per_day, weekdays, updated_at)
               VALUES (true, $1, $2, $3)
               ON CONFLICT (only_row) DO UPDATE SET minutes_per_day = excluded.minutes_per_day,
                   weekdays = excluded.weekdays, updated_at = excluded.updated_at""",
            minutes_per_day,
            sorted(set(weekdays)),
            datetime.now(UTC),
        )
        return await _setting(conn)


async def _staff(conn: Conn, grids: list[str] | None) -> list[asyncpg.Record]:
    """Leaders and workers with their grid's community and street."""
    return await conn.fetch(
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


async def _minutes(
    conn: Conn, start: datetime, end: datetime, tz: ZoneInfo
) -> dict[tuple[str, str], dict[date, int]]:
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


async def figures(
    conn: Conn, tz: ZoneInfo, period_text: str, grids: list[str] | None
) -> dict[str, Any]:
    today = datetime.now(tz).date()
    period = rules.parse_period(period_text, today)
    setting = await _setting(conn)
    start = datetime.combine(period.first, time(0), tz)
    end = datetime.combine(period.end, time(0), tz)
    minutes = await _minutes(conn, start, end, tz)
    workers = []
    for s in await _staff(conn, grids):
        days = rules.duty_days(
            period, today, setting["weekdays"], s["assigned_at"].astimezone(tz).date()
        )
        if not days:
            continue  # assigned after the period, or no duty day in it: nothing is owed
        result = rules.worker_result(
            minutes.get((s["grid_id"], s["staff_id"]), {}), days, setting["minutes_per_day"]
        )
        workers.append(
            {
                "staff_id": s["staff_id"],
                "role": s["role"],
                "grid_id": s["grid_id"],
                "community_id": s["community_id"],
                "street_id": s["street_id"],
                **result,
            }
        )
    return {
        "period": period.label,
        "kind": period.kind,
        "minutes_per_day": setting["minutes_per_day"],
        "weekdays": setting["weekdays"],
        "workers": workers,
        "by_grid": rules.by_region(workers, "grid_id"),
        "by_community": rules.by_region(workers, "community_id"),
        "by_street": rules.by_region(workers, "street_id"),
    }


async def visit_duty(
    ctx: Context, tz: ZoneInfo, period: str | None, within: str | None, met: bool | None
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        within = await _scope_within(conn, ctx, within)
        grids = None if within is None else await db.grids_within(conn, within)
        result = await figures(conn, tz, period or datetime.now(tz).date().isoformat(), grids)
    if met is not None:
        result["workers"] = [w for w in result["workers"] if w["met"] is met]
    return {"within": within, **result}


async def yesterday_by_street(pool: asyncpg.Pool, tz: ZoneInfo) -> list[dict[str, Any]]:
    """For the gauge: the last complete day, per street; a street where no worker owed the
    day reads 0 met and 0 not met (a figure, not a gap on the dashboard and the alert)."""
    yesterday = (datetime.now(tz) - timedelta(days=1)).date().isoformat()
    async with pool.acquire() as conn:
        owed = {r["region_id"]: r for r in (await figures(conn, tz, yesterday, None))["by_street"]}
        streets = await db.live_streets(conn)
    idle = {"workers": 0, "met": 0, "not_met": 0}
    return [owed.get(s, {"region_id": s, **idle}) for s in sorted(set(streets) | set(owed))]
