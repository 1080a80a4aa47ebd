"""The values the use cases of resident units (驻区单位) return: a unit with its co-building
agreements (契约化共建) and their commitments, and the 双报到 reporting rate of a community."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Commitment:
    """What the unit commits to (承诺事项), and when it is due if dated."""

    content: str
    due_on: date | None


@dataclass(frozen=True)
class Agreement:
    """A co-building agreement a unit signed with a community."""

    agreement_id: str
    unit_id: str
    community_id: str
    signed_on: date
    valid_until: date | None
    commitments: tuple[Commitment, ...]


@dataclass(frozen=True)
class Unit:
    """A resident unit, the community it reported to (if it did), and its agreements."""

    unit_id: str
    name: str
    party_org_id: str
    address: str | None
    member_count: int | None
    community_id: str | None
    reported_at: datetime | None
    agreements: tuple[Agreement, ...]


@dataclass(frozen=True)
class ReportingRate:
    """In-service members living in a community against those of them reported there (the
    rate, four decimals; None when none live there), and all in service reported there."""

    community_id: str
    in_service_residents: int
    reported_residents: int
    reported_here: int
    rate: float | None


def reporting_rate(
    community_id: str, residents: int, reported: int, reported_here: int
) -> ReportingRate:
    return ReportingRate(
        community_id=community_id,
        in_service_residents=residents,
        reported_residents=reported,
        reported_here=reported_here,
        rate=round(reported / residents, 4) if residents else None,
    )
