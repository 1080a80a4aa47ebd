"""Rankings and lists of a period (docs/design.md §4.10): streets, communities and grids by a
metric, members of a scope by points (with who missed organisation life), members at zero
points, members without organisation life. Each answers from the closed figures once the
period is closed, unless live ones are asked for (`figures.choose`). SQL in `persistence.live`
and `persistence.closed`, rows mapped by `persistence.ranked`."""

from __future__ import annotations

from typing import Any

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


async def communities(
    pool: Any,
    p: Period,
    metric: str,
    street_id: str | None,
    limit: int,
    offset: int,
    figures: Figures | None,
) -> RegionRanking:
    """The communities of a street (all of them without one)."""
    src, fig = await choose(pool, p.label, figures)
    await known_region(pool, street_id, RegionLevel.STREET, "street_id")
    rows = await src.child_rows(pool, p.label, "community", street_id)
    return region_page(p.label, metric, ranked.ranked_regions(rows, metric), limit, offset, fig)


async def grids(
    pool: Any,
    p: Period,
    metric: str,
    community_id: str | None,
    limit: int,
    offset: int,
    figures: Figures | None,
) -> RegionRanking:
    """The grids of a community (all of them without one)."""
    src, fig = await choose(pool, p.label, figures)
    await known_region(pool, community_id, RegionLevel.COMMUNITY, "community_id")
    rows = await src.child_rows(pool, p.label, "grid", community_id)
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
