"""Scores and competition ranks (1, 2, 2, 4): equal scores share a rank, ties listed by id;
and the rankings and lists scoring's reads answer with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .standing import Figures

METRICS = ("avg_points", "total_points", "participation_rate")


@dataclass(frozen=True)
class Standing:
    id: str
    score: Decimal


def region_score(metric: str, total: Decimal, members: int, positive: int) -> Decimal:
    if metric == "total_points":
        value = total
    elif metric == "avg_points":
        value = total / members if members else Decimal(0)
    elif metric == "participation_rate":
        value = Decimal(positive) / members if members else Decimal(0)
    else:
        raise ValueError(f"unknown metric {metric!r}; accepted: {', '.join(METRICS)}")
    places = Decimal("0.0001") if metric == "participation_rate" else Decimal("0.01")
    return value.quantize(places, rounding=ROUND_HALF_UP)


def competition_ranks(standings: Sequence[Standing]) -> list[tuple[int, Standing]]:
    """Sort by score descending then id, and give competition ranks."""
    ordered = sorted(standings, key=lambda s: (-s.score, s.id))
    out: list[tuple[int, Standing]] = []
    for i, s in enumerate(ordered):
        rank = out[-1][0] if out and out[-1][1].score == s.score else i + 1
        out.append((rank, s))
    return out


@dataclass(frozen=True)
class RegionItem:
    """A ranked street, community or grid: its score by the metric and its members' figures."""

    rank: int
    region_id: str
    name: str
    score: Decimal
    members: int
    total_points: Decimal
    active_members: int  # with points above zero


@dataclass(frozen=True)
class RegionRanking:
    """A page of a region ranking; `total` counts the items before paging."""

    period: str
    metric: str
    total: int
    items: tuple[RegionItem, ...]
    figures: Figures


@dataclass(frozen=True)
class MemberItem:
    rank: int
    member_id: str
    name: str | None
    score: Decimal
    community_id: str | None
    grid_id: str | None
    org_life_missed: bool


@dataclass(frozen=True)
class MemberRanking:
    """A page of the members of a scope ranked by points (`total`: members in the scope)."""

    period: str
    metric: str
    total: int
    items: tuple[MemberItem, ...]
    figures: Figures


@dataclass(frozen=True)
class ZeroItem:
    member_id: str
    name: str | None
    community_id: str | None
    points: Decimal


@dataclass(frozen=True)
class ZeroPoints:
    """Counted members with points at zero or below, by member id."""

    period: str
    count: int
    items: tuple[ZeroItem, ...]
    figures: Figures


@dataclass(frozen=True)
class MissingItem:
    member_id: str
    name: str | None
    community_id: str | None


@dataclass(frozen=True)
class MissingOrganizationLife:
    """Counted members with no organization_life in the period, by member id."""

    period: str
    count: int
    items: tuple[MissingItem, ...]
    figures: Figures


def region_page(
    period: str, metric: str, ranked: list[RegionItem], limit: int, offset: int, fig: Figures
) -> RegionRanking:
    return RegionRanking(period, metric, len(ranked), tuple(ranked[offset : offset + limit]), fig)
