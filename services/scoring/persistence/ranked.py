"""The rows of the ranking queries as domain values: `live` and `closed` answer with the same
columns, so one mapping serves both figures."""

from __future__ import annotations

from typing import Any

from ..domain.ranking import MemberItem, MissingItem, RegionItem, ZeroItem
from .live import RegionRow, rank_regions


def ranked_regions(rows: list[RegionRow], metric: str) -> list[RegionItem]:
    """Every region of `rows` with its competition rank by the metric."""
    return [
        RegionItem(
            rank=rank,
            region_id=r.region_id,
            name=r.name,
            score=score,
            members=r.members,
            total_points=r.total,
            active_members=r.positive,
        )
        for rank, r, score in rank_regions(rows, metric)
    ]


def as_member_item(row: Any, org_life_missed: bool) -> MemberItem:
    return MemberItem(
        rank=row["rank"],
        member_id=row["member_id"],
        name=row["name"],
        score=row["points"],
        community_id=row["community_id"],
        grid_id=row["grid_id"],
        org_life_missed=org_life_missed,
    )


def as_zero_item(row: Any) -> ZeroItem:
    return ZeroItem(row["member_id"], row["name"], row["community_id"], row["points"])


def as_missing_item(row: Any) -> MissingItem:
    return MissingItem(row["member_id"], row["name"], row["community_id"])
