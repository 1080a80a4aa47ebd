"""The values of the follow-up of members due for it (批评教育 of 零分党员, docs/design.md
§4.10): the city's organisation-life rule, the talks recorded, and who is due in a period —
a member who missed organisation life or has zero points — with the talks held with them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from .standing import Figures

TalkKind = Literal["heart_to_heart", "criticism_education"]


@dataclass(frozen=True)
class OrgLifeRule:
    """Each quarter needs an organization_life entry (if set); absences allowed."""

    every_quarter: bool
    max_absences: int


@dataclass(frozen=True)
class Talk:
    """A talk held with a member due (谈心谈话 or 批评教育)."""

    kind: TalkKind
    held_on: date
    note: str | None
    recorded_by: str | None


@dataclass(frozen=True)
class Followup:
    """A recorded talk with the period it was due for."""

    followup_id: int
    member_id: str
    period: str
    kind: TalkKind
    held_on: date
    note: str | None
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class Candidate:
    """A member counted in the period's figures, with their points."""

    member_id: str
    name: str | None
    community_id: str | None
    points: Decimal


@dataclass(frozen=True)
class DueItem:
    member_id: str
    name: str | None
    community_id: str | None
    points: float
    org_life_missed: bool
    zero_points: bool
    followed_up: bool
    talks: tuple[Talk, ...]


@dataclass(frozen=True)
class DueList:
    """The members due, by member id, and how many of them have had a talk."""

    period: str
    figures: Figures
    count: int
    followed_up: int
    items: tuple[DueItem, ...]


def is_due(points: Decimal, missed: bool) -> bool:
    return missed or points <= 0


def due_list(
    period: str,
    figures: Figures,
    members: Sequence[Candidate],
    missed: set[str],
    talks: Mapping[str, Sequence[Talk]],
) -> DueList:
    """Of `members`, those due (missed organisation life, or zero points or fewer), with the
    talks held with them."""
    items = tuple(
        DueItem(
            member_id=m.member_id,
            name=m.name,
            community_id=m.community_id,
            points=float(m.points),
            org_life_missed=m.member_id in missed,
            zero_points=m.points <= 0,
            followed_up=bool(talks.get(m.member_id)),
            talks=tuple(talks.get(m.member_id, ())),
        )
        for m in sorted(members, key=lambda m: m.member_id)
        if is_due(m.points, m.member_id in missed)
    )
    return DueList(
        period=period,
        figures=figures,
        count=len(items),
        followed_up=sum(i.followed_up for i in items),
        items=items,
    )
