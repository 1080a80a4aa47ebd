"""What every grids use case shares: the `Context` it runs with, the event it records, and the
checks of where a request points (a region in the caller's scope, a live grid, a `within`).

They raise `shared.refusals.Refusal`, never an HTTP error, so a use case can be called without
a web framework; `shared.api` turns a refusal into its status once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from pydantic import BaseModel

from shared.auth import Principal
from shared.db import Conn
from shared.events import new_event
from shared.events.envelope import CloudEvent
from shared.events.types import RegionLevel
from shared.refusals import Kind, Refusal, conflict, invalid
from shared.regions import require_region

from ..domain.regions import RULE_KIND, Violation
from ..persistence import regions as db

# A client clock may run a little ahead of ours; further ahead is a time in the future.
MAX_CLOCK_SKEW = timedelta(minutes=5)

# What a `within` filter accepts: any region that contains grids (or is one).
WITHIN_LEVELS = (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY, RegionLevel.GRID)


@dataclass(frozen=True)
class Context:
    """What a use case needs besides its input: the pool, who calls, and our event source."""

    pool: asyncpg.Pool
    caller: Principal
    source: str


def own_event(
    ctx: Context, type_: str, data: BaseModel, subject: str, time: datetime
) -> CloudEvent:
    return new_event(type=type_, source=ctx.source, data=data, subject=subject, time=time)


def missing(kind: str, key: str) -> Refusal:
    """`kind` `key` does not exist (or is outside what the caller may see)."""
    return Refusal(Kind.NOT_FOUND, "not_found", f"{kind} {key} does not exist", field=f"{kind}_id")


def violations(problems: list[Violation], message: str | None = None) -> Refusal:
    """One refusal for broken tree rules: a conflict if any rule is about the current state,
    each problem (up to 200) in the details."""
    kinds = {RULE_KIND.get(p.rule, Kind.INVALID) for p in problems}
    first = problems[0]
    refusal = Refusal(
        Kind.CONFLICT if Kind.CONFLICT in kinds else Kind.INVALID,
        first.rule if len({p.rule for p in problems}) == 1 else "invalid_regions",
        message or first.message,
    )
    refusal.details = [p.as_detail() for p in problems[:200]]
    return refusal


async def path_ids(conn: Conn, region_id: str) -> list[str]:
    return [r["region_id"] for r in await db.path_to_root(conn, region_id)]


async def live_grid(conn: Conn, ctx: Context, grid_id: str) -> list[str]:
    """Check `grid_id` is a live grid in the caller's scope; return its path to the root."""
    row = await db.get_region(conn, grid_id)
    if row is None:
        raise missing("grid", grid_id)
    path = await path_ids(conn, grid_id)
    ctx.caller.require_region(path)
    if row["level"] != RegionLevel.GRID.value:
        raise invalid(
            "not_a_grid", f"region {grid_id} is a {row['level']}, not a grid", field="grid_id"
        )
    if row["retired"]:
        raise conflict("retired", f"grid {grid_id} is retired", field="grid_id")
    return path


async def ancestor_at(conn: Conn, path: list[str], level: RegionLevel) -> str | None:
    for region_id in path:
        row = await db.get_region(conn, region_id)
        if row is not None and row["level"] == level.value:
            return region_id
    return None


async def scope_within(conn: Conn, ctx: Context, within: str | None) -> str | None:
    """The region to restrict a listing to: `within`, or the caller's own scope. A `within`
    that names no region above buildings is refused (a retired one is fine: its past is
    readable)."""
    if within is not None:
        await require_region(conn, within, level=WITHIN_LEVELS, field="within", retired_ok=True)
    elif ctx.caller.role not in ("city_admin", "service") and ctx.caller.scope != "*":
        within = ctx.caller.scope
    if within is not None:
        ctx.caller.require_region(await path_ids(conn, within))
    return within
