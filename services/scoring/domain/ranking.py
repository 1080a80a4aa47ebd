"""Scores and competition ranks (1, 2, 2, 4): equal scores share a rank, ties listed by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
