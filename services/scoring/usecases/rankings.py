"""Rankings and lists of a period (docs/design.md §4.10): streets, communities and grids by a
metric, members of a scope by points (with who missed organisation life), members at zero
points, members without organisation life. Each answers from the closed figures once the
period is closed, unless live ones are asked for (`figures.choose`). SQL in `persistence.live`
and `persistence.closed`, rows mapped by `persistence.ranked`."""

from __future__ import annotations

from typing import Any, Literal

from shared.events import RegionLevel

from ..domain.periods import Period
from ..domain.ranking import (
    MemberRanking,
    MissingOrganizationLife,
    RegionRanking,
    ZeroPoints,
    region_page,
)
from ..persistence import live as q
from ..persistence import ranked
from ..persistence.orglife import missed_among
from .figures import Figures, choose
from .reads import known_region


async def streets(
    pool: Any, p: Period, metric: str, limit: int, offset: int, figures: Figures | None
) -> RegionRanking:
    src, fig = await choose(pool, p.label, figures)
    items = ranked.ranked_regions(await src.street_rows(pool, p.label), metric)
    return region_page(p.label, metric, items, limit, offset, fig)


async def children(
    pool: Any,
    p: Period,
    metric: str,
    kind: Literal["community", "grid"],
    parent_id: str | None,
    limit: int,
    offset: int,
    figures: Figures | None,
) -> RegionRanking:
    """The communities of a street or the grids of a community (all of them without one)."""
    parent_level, field = (
        (RegionLevel.STREET, "street_id")
        if kind == "community"
        else (RegionLevel.COMMUNITY, "community_id")
    )
    src, fig = await choose(pool, p.label, figures)
    await known_region(pool, parent_id, parent_level, field)
    rows = await src.child_rows(pool, p.label, kind, parent_id)
    return region_page(p.label, metric, ranked.ranked_regions(rows, metric), limit, offset, fig)


async def members(
    pool: Any, p: Period, scope: q.MemberScope, limit: int, offset: int, figures: Figures | None
) -> MemberRanking:
    src, fig = await choose(pool, p.label, figures)
    total, rows = await src.member_ranking(pool, p.label, scope, limit, offset)
    missed = await missed_among(pool, p, [r["member_id"] for r in rows], fig == "closed")
    items = tuple(ranked.as_member_item(r, r["member_id"] in missed) for r in rows)
    return MemberRanking(p.label, "points", total, items, fig)


async def zero_points(
    pool: Any, p: Period, scope: q.MemberScope, figures: Figures | None
) -> ZeroPoints:
    src, fig = await choose(pool, p.label, figures)
    items = tuple(
        ranked.as_zero_item(r) for r in await src.zero_point_members(pool, p.label, scope)
    )
    return ZeroPoints(p.label, len(items), items, fig)


async def missing_org_life(
    pool: Any, p: Period, scope: q.MemberScope, figures: Figures | None
) -> MissingOrganizationLife:
    src, fig = await choose(pool, p.label, figures)
    rows = await src.missing_organization_life(pool, p, scope)
    items = tuple(ranked.as_missing_item(r) for r in rows)
    return MissingOrganizationLife(p.label, len(items), items, fig)
