"""Reading grids: one grid's people, branch and members, the grids lacking a leader, a worker
or a branch, and member counts per grid (from the members-by-grid projection). What each
answer holds is worked out in `domain.grids`."""

from __future__ import annotations

import asyncpg

from shared.events.types import RegionLevel

from ..domain import grids as rules
from ..persistence import members as members_db
from ..persistence import regions as regions_db
from ..persistence import staff as staff_db
from .context import Context, missing, path_ids, scope_within


def _counts(rows: list[asyncpg.Record]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["grid_id"], {})[r["category"]] = int(r["n"])
    return out


async def grid_overview(ctx: Context, grid_id: str) -> rules.GridOverview:
    async with ctx.pool.acquire() as conn:
        region = await regions_db.get_region(conn, grid_id)
        if region is None or region["level"] != RegionLevel.GRID.value:
            raise missing("grid", grid_id)
        path = await path_ids(conn, grid_id)
        ctx.caller.require_region(path)
        staff = await staff_db.staff_of(conn, grid_id)
        branch = await staff_db.branch_of(conn, grid_id)
        counts = _counts(await members_db.member_counts(conn, [grid_id])).get(grid_id, {})
    return rules.overview(
        regions_db.as_region(region),
        path,
        [staff_db.as_staff(s) for s in staff],
        None if branch is None else staff_db.as_branch(branch),
        counts,
    )


async def coverage(ctx: Context, within: str | None) -> rules.Coverage:
    async with ctx.pool.acquire() as conn:
        within = await scope_within(conn, ctx, within)
        rows = await staff_db.coverage(conn, within)
    return rules.coverage(within, [staff_db.as_staffing(r) for r in rows])


async def grid_members(ctx: Context, grid_id: str) -> rules.GridMembers:
    async with ctx.pool.acquire() as conn:
        ctx.caller.require_region(await path_ids(conn, grid_id) or [grid_id])
        rows = await members_db.grid_members(conn, grid_id)
    return rules.grid_members(grid_id, [members_db.as_grid_member(r) for r in rows])


async def member_counts(ctx: Context, within: str | None) -> rules.MemberCountsWithin:
    async with ctx.pool.acquire() as conn:
        within = await scope_within(conn, ctx, within)
        grids = await regions_db.grids_within(conn, within)
        counts = _counts(await members_db.member_counts(conn, grids))
    return rules.counts_within(within, grids, counts)
