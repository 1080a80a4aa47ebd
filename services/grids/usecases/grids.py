"""Reading grids: one grid's people, branch and members, the grids lacking a leader, a worker
or a branch, and member counts per grid (from the members-by-grid projection)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.events.types import RegionLevel

from ..persistence import members as members_db
from ..persistence import regions as regions_db
from ..persistence import staff as staff_db
from .context import Context, missing, path_ids, region_json, scope_within
from .staff import staff_json


def _counts(rows: list[asyncpg.Record]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["grid_id"], {})[r["category"]] = int(r["n"])
    return out


async def grid_overview(ctx: Context, grid_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        region = await regions_db.get_region(conn, grid_id)
        if region is None or region["level"] != RegionLevel.GRID.value:
            raise missing("grid", grid_id)
        path = await path_ids(conn, grid_id)
        ctx.caller.require_region(path)
        staff = await staff_db.staff_of(conn, grid_id)
        branch = await staff_db.branch_of(conn, grid_id)
        counts = _counts(await members_db.member_counts(conn, [grid_id])).get(grid_id, {})
    return {
        "grid": region_json(region),
        "path": path,
        "leader": next((staff_json(s) for s in staff if s["role"] == "leader"), None),
        "workers": [staff_json(s) for s in staff if s["role"] == "worker"],
        "household_contacts": [staff_json(s) for s in staff if s["role"] == "household_contact"],
        "branch": None
        if branch is None
        else {
            "party_org_id": branch["party_org_id"],
            "name": branch["name"],
            "attached_at": branch["attached_at"],
        },
        "members": {"total": sum(counts.values()), "by_category": counts},
    }


async def coverage(ctx: Context, within: str | None) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        within = await scope_within(conn, ctx, within)
        rows = await staff_db.coverage(conn, within)
    gaps = []
    for r in rows:
        missing = [
            what
            for what, present in (
                ("leader", r["has_leader"]),
                ("worker", r["has_worker"]),
                ("branch", r["has_branch"]),
            )
            if not present
        ]
        if missing:
            gaps.append(
                {
                    "grid_id": r["grid_id"],
                    "name": r["name"],
                    "community_id": r["community_id"],
                    "missing": missing,
                }
            )
    return {
        "within": within,
        "grids": len(rows),
        "complete": len(rows) - len(gaps),
        "lacking_leader": sum(1 for g in gaps if "leader" in g["missing"]),
        "lacking_worker": sum(1 for g in gaps if "worker" in g["missing"]),
        "lacking_branch": sum(1 for g in gaps if "branch" in g["missing"]),
        "gaps": gaps,
    }


async def grid_members(ctx: Context, grid_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        ctx.caller.require_region(await path_ids(conn, grid_id) or [grid_id])
        rows = await members_db.grid_members(conn, grid_id)
    by_category: dict[str, int] = {}
    for r in rows:
        by_category[r["category"]] = by_category.get(r["category"], 0) + 1
    return {
        "grid_id": grid_id,
        "total": len(rows),
        "by_category": by_category,
        "members": [{"member_id": r["member_id"], "category": r["category"]} for r in rows],
    }


async def member_counts(ctx: Context, within: str | None) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        within = await scope_within(conn, ctx, within)
        grids = await regions_db.grids_within(conn, within)
        counts = _counts(await members_db.member_counts(conn, grids))
    return {
        "within": within,
        "items": [
            {
                "grid_id": g,
                "total": sum(counts.get(g, {}).values()),
                "by_category": counts.get(g, {}),
            }
            for g in grids
        ],
    }
