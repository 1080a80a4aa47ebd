"""The values the use cases of the member registry and of 双报到 return: a member with their
current report, a member's report history (moves marked), and the member as a caller may see
them (personal data masked for everyone but city admins, docs/design.md §5.3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shared.events.types import DeregistrationReason, MemberCategory

from .identity import mask_id_number, mask_phone


@dataclass(frozen=True)
class Report:
    """A 双报到 report of a member to a community (and grid), with the skills it offers; a
    report in the history that moved the member names the community it moved from."""

    community_id: str
    grid_id: str | None
    skills: tuple[str, ...]
    reported_at: datetime
    source: str
    moved_from: str | None = None


@dataclass(frozen=True)
class Member:
    """A registered member (active or deregistered) with their current report, if any."""

    member_id: str
    name: str
    category: MemberCategory
    party_org_id: str
    joined_on: date | None
    skills: tuple[str, ...]
    phone: str | None
    id_number: str | None
    address_community_id: str | None
    status: Literal["active", "deregistered"]
    deregistered_reason: DeregistrationReason | None
    current_report: Report | None


@dataclass(frozen=True)
class ReportHistory:
    """A member's current report and every report, oldest first."""

    member_id: str
    current: Report | None
    history: tuple[Report, ...]


def seen_by(member: Member, *, city_admin: bool) -> Member:
    """The member as a caller sees them: phone and ID number unmasked only for city admins."""
    if city_admin:
        return member
    return dataclasses.replace(
        member, phone=mask_phone(member.phone), id_number=mask_id_number(member.id_number)
    )


def with_moves(reports: Sequence[Report]) -> tuple[Report, ...]:
    """The history, oldest first, in which a report to another community than the one before
    is a move and names where it moved from."""
    out: list[Report] = []
    previous: str | None = None
    for r in reports:
        moved = previous if previous not in (None, r.community_id) else None
        out.append(dataclasses.replace(r, moved_from=moved))
        previous = r.community_id
    return tuple(out)
