"""The values of scoring's reads of one member and of one Party organisation: a member's
points (by type) and competition rank in each scope they count in, and the half-yearly
feedback (每半年反馈) of an organisation's in-service members."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ScopeName = Literal["grid", "community", "street", "city"]
Figures = Literal["closed", "live"]


@dataclass(frozen=True)
class ScoredMember:
    """A member as scoring knows them from the members' events (or as they stood at a
    close): where they count, and whether they do (reported and registered)."""

    member_id: str
    name: str | None
    category: str | None
    party_org_id: str | None
    community_id: str | None
    grid_id: str | None
    deregistered: bool
    counted: bool


@dataclass(frozen=True)
class ScopeRank:
    scope: ScopeName
    scope_id: str | None  # None for the city
    rank: int
    members: int  # counted in the scope


@dataclass(frozen=True)
class MemberStanding:
    """A member's points in a period by the figures read; `ranks` is empty when they do not
    count (not reported, deregistered) or ranks were not asked for."""

    member_id: str
    period: str
    points: Decimal
    by_type: dict[str, Decimal]
    counted: bool
    ranks: tuple[ScopeRank, ...]
    figures: Figures


@dataclass(frozen=True)
class FeedbackItem:
    """An in-service member of the organisation (or of one below it) and their half."""

    member_id: str
    party_org_id: str
    name: str | None
    community_id: str | None
    community_name: str | None
    points: Decimal
    by_type: dict[str, Decimal]
    volunteer_hours: Decimal
    activities: int
    deregistered: bool


@dataclass(frozen=True)
class Feedback:
    party_org_id: str
    period: str
    members: tuple[FeedbackItem, ...]  # by member id
    figures: Figures
