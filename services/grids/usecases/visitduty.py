"""Use cases of the daily visiting duty (每天至少在网格内走访2个小时): the city's setting, and
who met the duty and who did not for a day, an ISO week or a month, per worker and per grid,
community and street, from the visits logged. Rules are in `domain.visitduty`; the gauge per
street (yesterday, a complete day) is refreshed with the incident gauges."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from shared.db import Conn

from .. import metrics
from ..domain import visitduty as rules
from ..persistence import regions as regions_db
from ..persistence import visitduty as db
from .context import Context, scope_within


async def _setting(conn: Conn) -> rules.DutySetting:
    stored = await db.setting(conn)
    return rules.DEFAULT_SETTING if stored is None else stored


async def get_setting(ctx: Context) -> rules.DutySetting:
    async with ctx.pool.acquire() as conn:
        return await _setting(conn)


async def put_setting(ctx: Context, minutes_per_day: int, weekdays: list[int]) -> rules.DutySetting:
    ctx.caller.require_city()
    async with ctx.pool.acquire() as conn:
        await db.save_setting(conn, rules.setting(minutes_per_day, weekdays, datetime.now(UTC)))
        return await _setting(conn)


async def figures(
    conn: Conn,
    tz: ZoneInfo,
    period_text: str,
    grids: list[str] | None,
    *,
    within: str | None = None,
    met: bool | None = None,
) -> rules.DutyFigures:
    today = datetime.now(tz).date()
    period = rules.parse_period(period_text, today)
    duty = await _setting(conn)
    start = datetime.combine(period.first, time(0), tz)
    end = datetime.combine(period.end, time(0), tz)
    minutes = await db.minutes_by_day(conn, start, end, tz)
    workers = []
    for worker, assigned_at in await db.duty_staff(conn, grids):
        days = rules.duty_days(period, today, duty.weekdays, assigned_at.astimezone(tz).date())
        if not days:
            continue  # assigned after the period, or no duty day in it: nothing is owed
        workers.append(
            rules.worker_result(
                worker,
                minutes.get((worker.grid_id, worker.staff_id), {}),
                days,
                duty.minutes_per_day,
            )
        )
    return rules.duty_figures(within, period, duty, workers, met)


async def visit_duty(
    ctx: Context, tz: ZoneInfo, period: str | None, within: str | None, met: bool | None
) -> rules.DutyFigures:
    async with ctx.pool.acquire() as conn:
        within = await scope_within(conn, ctx, within)
        grids = None if within is None else await regions_db.grids_within(conn, within)
        return await figures(
            conn, tz, period or datetime.now(tz).date().isoformat(), grids, within=within, met=met
        )


async def yesterday_by_street(pool: asyncpg.Pool, tz: ZoneInfo) -> list[rules.RegionDuty]:
    """For the gauge: the last complete day, per street; a street where no worker owed the
    day reads 0 met and 0 not met (a figure, not a gap on the dashboard and the alert)."""
    yesterday = (datetime.now(tz) - timedelta(days=1)).date().isoformat()
    async with pool.acquire() as conn:
        owed = {r.region_id: r for r in (await figures(conn, tz, yesterday, None)).by_street}
        streets = await regions_db.live_streets(conn)
    return [
        owed.get(s, rules.RegionDuty(s, workers=0, met=0, not_met=0))
        for s in sorted(set(streets) | set(owed))
    ]


async def refresh_visit_duty_gauges(pool: asyncpg.Pool, tz: ZoneInfo) -> None:
    """Re-read yesterday's figures per street (with the periodic refresh)."""
    metrics.show_visit_duty(
        (r.region_id, r.met, r.not_met) for r in await yesterday_by_street(pool, tz)
    )
