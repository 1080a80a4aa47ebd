"""The yearly score of a resident unit (双向考核: its part in the area's Party building counts
in its evaluation), pure.

A unit's score for a year, out of 100:
- 40 for commitments kept: the share of the year's commitments marked done, where the year's
  commitments are those of its agreements in force that year, dated in it or undated (a unit
  with no commitment for the year gets 0 here: it has promised nothing);
- 30 for its report back (述职): excellent 30, good 24, fair 18, poor 6, none 0;
- 30 for its in-service members' participation: the share of its active in-service members
  (members of its Party organisation) who earned points in community life in the year.
Units are ranked by score, highest first; equal scores share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

COMMITMENTS_WEIGHT = Decimal(40)
REVIEW_POINTS = {
    "excellent": Decimal(30),
    "good": Decimal(24),
    "fair": Decimal(18),
    "poor": Decimal(6),
}
PARTICIPATION_WEIGHT = Decimal(30)
_CENT = Decimal("0.01")


def in_force(signed_on: date, valid_until: date | None, year: int) -> bool:
    return signed_on <= date(year, 12, 31) and (valid_until is None or valid_until.year >= year)


def commitments_of_year(
    agreements: Iterable[dict[str, Any]], statuses: dict[tuple[str, int], str], year: int
) -> tuple[int, int]:
    """(due, done) over the commitments of the year; `statuses` by (agreement, number)."""
    due = done = 0
    for agreement in agreements:
        if not in_force(agreement["signed_on"], agreement["valid_until"], year):
            continue
        for no, commitment in enumerate(agreement["commitments"], start=1):
            due_on = commitment.get("due_on")
            if due_on is not None and date.fromisoformat(str(due_on)).year != year:
                continue
            due += 1
            done += statuses.get((agreement["agreement_id"], no)) == "done"
    return due, done


@dataclass(frozen=True)
class CommitmentStatus:
    """A commitment of an agreement marked planned, done (on a day) or missed."""

    agreement_id: str
    commitment_no: int
    status: str
    done_on: date | None
    note: str | None


@dataclass(frozen=True)
class ReportBack:
    """A unit's report back (述职) for a year to its community or street, and its evaluation."""

    unit_id: str
    region_id: str
    reported_on: date
    evaluation: str
    note: str | None


@dataclass(frozen=True)
class Review(ReportBack):
    """A report back as recorded, with the year it reports on."""

    year: int


@dataclass(frozen=True)
class CommitteeMember:
    """A part-time committee member (兼职委员) a unit provides to its community or street."""

    unit_id: str
    member_id: str
    region_id: str
    post: str
    since: date
    until: date | None


@dataclass(frozen=True)
class Score:
    """A unit's score for a year (out of 100) and its three parts, with what they come from."""

    commitments_due: int
    commitments_done: int
    evaluation: str | None
    in_service_members: int
    participating_members: int
    commitments_score: Decimal
    review_score: Decimal
    participation_score: Decimal
    score: Decimal


def score(
    due: int, done: int, evaluation: str | None, in_service: int, participating: int
) -> Score:
    commitments = COMMITMENTS_WEIGHT * done / due if due else Decimal(0)
    review = REVIEW_POINTS.get(evaluation or "", Decimal(0))
    participation = PARTICIPATION_WEIGHT * participating / in_service if in_service else Decimal(0)
    return Score(
        commitments_due=due,
        commitments_done=done,
        evaluation=evaluation,
        in_service_members=in_service,
        participating_members=participating,
        commitments_score=commitments.quantize(_CENT, ROUND_HALF_UP),
        review_score=review.quantize(_CENT),
        participation_score=participation.quantize(_CENT, ROUND_HALF_UP),
        score=(commitments + review + participation).quantize(_CENT, ROUND_HALF_UP),
    )


@dataclass(frozen=True)
class UnitEvaluation(Score):
    """A unit's evaluation for a year: its score, report back and committee members; `rank`
    only in a ranking."""

    unit_id: str
    name: str
    community_id: str
    street_id: str | None
    year: int
    review: ReportBack | None
    committee_members: tuple[CommitteeMember, ...]
    rank: int | None = None


def ranked(items: Sequence[UnitEvaluation]) -> list[UnitEvaluation]:
    """Highest score first (ties by unit id); equal scores share the rank."""
    ordered = sorted(items, key=lambda i: (-i.score, i.unit_id))
    out, rank, previous = [], 0, None
    for position, item in enumerate(ordered, start=1):
        if item.score != previous:
            rank, previous = position, item.score
        out.append(replace(item, rank=rank))
    return out
