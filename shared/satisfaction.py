"""Residents' satisfaction, the part both services that collect it share: the rating a
resident gives (1-5 and an optional comment), the summary per region that is read back and
exported as a metric, and the rule that a case is rated once, after it is done.

Pure: no I/O. The grids service rates closed incidents, the activities service fulfilled wishes;
each stores its ratings and counts them per score with SQL, and `summary` turns those counts
into the figures readers see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from .events import CloudEvent, new_event
from .events.satisfaction import SATISFACTION_RATED, SatisfactionRated
from .refusals import Refusal, conflict

SCORES = (1, 2, 3, 4, 5)
SATISFIED = 4  # a score of 4 or 5 counts as satisfied


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied).")
    comment: str | None = Field(
        default=None,
        max_length=1000,
        description="The resident's own words (kept here, never published in events).",
    )


class RatingOut(BaseModel):
    subject_id: str = Field(description="The incident or wish rated.")
    region_id: str = Field(description="Its grid (incident) or community (wish).")
    score: int = Field(description="1 to 5.")
    comment: str | None = Field(description="The resident's comment.")
    rated_at: Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)] = Field(
        description="When it was rated (RFC 3339)."
    )


class RegionSatisfaction(BaseModel):
    region_id: str = Field(description="The grid, community or street.")
    ratings: int = Field(description="How many cases were rated.")
    average: Decimal = Field(description="Mean score, two decimals.")
    satisfied_share: Decimal = Field(
        description="Share of ratings of 4 or 5 (0 to 1, four decimals)."
    )
    by_score: dict[str, int] = Field(description="Ratings per score, '1' to '5'.")


class SatisfactionOut(BaseModel):
    level: str = Field(description="The level the figures are grouped by.")
    within: str | None = Field(description="The region they are restricted to, if any.")
    items: list[RegionSatisfaction] = Field(description="One entry per region with ratings.")


@dataclass(frozen=True)
class Rating:
    """A resident's rating of a case (an incident or a wish) in its region."""

    subject_id: str
    region_id: str
    score: int
    comment: str | None
    rated_at: datetime


@dataclass(frozen=True)
class RegionFigures:
    """One region's ratings: how many, the mean score (two decimals), the share satisfied
    (four decimals) and the count per score ('1' to '5')."""

    region_id: str
    ratings: int
    average: Decimal
    satisfied_share: Decimal
    by_score: Mapping[str, int]


@dataclass(frozen=True)
class Figures:
    """The figures per region of a level, within a region (None: all)."""

    level: str
    within: str | None
    items: tuple[RegionFigures, ...]


def summary(region_id: str, counts: Mapping[int, int]) -> RegionFigures:
    """Figures of one region from its number of ratings per score."""
    ratings = sum(counts.get(s, 0) for s in SCORES)
    total = sum(s * counts.get(s, 0) for s in SCORES)
    satisfied = sum(counts.get(s, 0) for s in SCORES if s >= SATISFIED)
    average = Decimal(total) / ratings if ratings else Decimal(0)
    share = Decimal(satisfied) / ratings if ratings else Decimal(0)
    return RegionFigures(
        region_id=region_id,
        ratings=ratings,
        average=average.quantize(Decimal("0.01"), ROUND_HALF_UP),
        satisfied_share=share.quantize(Decimal("0.0001"), ROUND_HALF_UP),
        by_score={str(s): counts.get(s, 0) for s in SCORES},
    )


def figures(level: str, within: str | None, counts: Mapping[str, Mapping[int, int]]) -> Figures:
    """Figures of each region (in id order) from its number of ratings per score."""
    return Figures(
        level=level,
        within=within,
        items=tuple(summary(region, c) for region, c in sorted(counts.items())),
    )


def check_ratable(kind: str, subject_id: str, status: str, done: str) -> None:
    """Only a case that is done may be rated (an incident closed, a wish fulfilled)."""
    if status != done:
        raise conflict(
            "not_ratable",
            f"{kind} {subject_id} is {status}; residents rate it once it is {done}",
            field="status",
        )


def already_rated(kind: str, subject_id: str) -> Refusal:
    return conflict(
        "already_rated", f"{kind} {subject_id} was rated already; a rating is given once"
    )


def rated_event(
    kind: Literal["incident", "wish"],
    subject_id: str,
    region_id: str,
    score: int,
    source: str,
    now: datetime,
) -> CloudEvent:
    """satisfaction.rated for a rating just recorded (the score only: the comment stays with
    the service); its id is the subject's, so a rating is announced once."""
    return new_event(
        type=SATISFACTION_RATED,
        source=source,
        data=SatisfactionRated(
            subject_kind=kind, subject_id=subject_id, region_id=region_id, score=score
        ),
        subject=subject_id,
        time=now,
        id=f"satisfaction/{kind}/{subject_id}",
    )
