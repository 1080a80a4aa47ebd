"""Residents' satisfaction with incidents (以社区居民满意度为主要衡量标准): once an incident is
closed, the resident's rating (1-5, optional comment) is recorded, once, and announced as
satisfaction.rated (score only); figures per grid, community and street are read back and
exported as a metric per street. Rules and figures are in `shared.satisfaction`."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import asyncpg

from shared import satisfaction as rules
from shared.outbox import add_to_outbox

from .. import metrics
from ..persistence import incidents as incidents_db
from ..persistence import regions as regions_db
from ..persistence import satisfaction as db
from .context import Context, missing, path_ids, scope_within


async def rate_incident(
    ctx: Context, incident_id: str, score: int, comment: str | None
) -> rules.Rating:
    ctx.caller.require_write()
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        incident = await incidents_db.get_incident(conn, incident_id)
        if incident is None:
            raise missing("incident", incident_id)
        grid_id = incident["grid_id"]
        ctx.caller.require_region(await path_ids(conn, grid_id) or [grid_id])
        rules.check_ratable("incident", incident_id, incident["status"], "closed")
        rating = await db.insert_rating(conn, incident_id, grid_id, score, comment, now)
        if rating is None:
            raise rules.already_rated("incident", incident_id)
        event = rules.rated_event("incident", incident_id, grid_id, score, ctx.source, now)
        await add_to_outbox(conn, [event])
    await refresh_satisfaction_gauges(ctx.pool)
    return rating


async def figures(
    pool: asyncpg.Pool, level: str, grids: list[str] | None, within: str | None = None
) -> rules.Figures:
    async with pool.acquire() as conn:
        rows = await db.counts(conn, level, grids)
    per_region: dict[str, dict[int, int]] = defaultdict(dict)
    for r in rows:
        per_region[r["region_id"]][r["score"]] = r["n"]
    return rules.figures(level, within, per_region)


async def satisfaction(ctx: Context, level: str, within: str | None) -> rules.Figures:
    async with ctx.pool.acquire() as conn:
        within = await scope_within(conn, ctx, within)
        grids = None if within is None else await regions_db.grids_within(conn, within)
    return await figures(ctx.pool, level, grids, within)


async def refresh_satisfaction_gauges(pool: asyncpg.Pool) -> None:
    """Re-read the per-street figures (after a rating and with the periodic refresh)."""
    metrics.show_satisfaction(
        (r.region_id, r.average, r.ratings) for r in (await figures(pool, "street", None)).items
    )
