"""Use cases of the daily visiting duty (每天至少在网格内走访2个小时): the city's setting, and
who met the duty and who did not for a day, an ISO week or a month, per worker and per grid,
community and street, from the visits logged. Rules are in `domain.visitduty`; the gauge per
street (yesterday, a complete day) is refreshed with the incident gauges."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from shared.db import Conn

from .. import metrics
from ..domain import visitduty as rules
from ..persistence import regions as regions_db
from ..persistence import visitduty as db
from .context import Context, scope_within


async def _setting(conn: Conn) -> dict[str, Any]:
    row = await db.setting(conn)
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
        await db.save_setting(conn, minutes_per_day, sorted(set(weekdays)), datetime.now(UTC))
        return await _setting(conn)


async def figures(
    conn: Conn, tz: ZoneInfo, period_text: str, grids: list[str] | None
) -> dict[str, Any]:
    today = datetime.now(tz).date()
    period = rules.parse_period(period_text, today)
    setting = await _setting(conn)
    start = datetime.combine(period.first, time(0), tz)
    end = datetime.combine(period.end, time(0), tz)
    minutes = await db.minutes_by_day(conn, start, end, tz)
    workers = []
    for s in await db.duty_staff(conn, grids):
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
        within = await scope_within(conn, ctx, within)
        grids = None if within is None else await regions_db.grids_within(conn, within)
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
        streets = await regions_db.live_streets(conn)
    idle = {"workers": 0, "met": 0, "not_met": 0}
    return [owed.get(s, {"region_id": s, **idle}) for s in sorted(set(streets) | set(owed))]


async def refresh_visit_duty_gauges(pool: asyncpg.Pool, tz: ZoneInfo) -> None:
    """Re-read yesterday's figures per street (with the periodic refresh)."""
    metrics.show_visit_duty(await yesterday_by_street(pool, tz))
