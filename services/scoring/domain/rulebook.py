"""The values of scoring's rule reads (docs/design.md §4.1): each version with who added it,
the rules in force now beside every version, and every revision with what corrects it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .rules import Rule, RuleBook


@dataclass(frozen=True)
class Version:
    """A rule version and who added it (None for the defaults)."""

    activity_type: str
    points: Decimal
    per: str
    monthly_cap: Decimal | None
    effective_from: datetime
    created_by: str | None


@dataclass(frozen=True)
class RulesInForce:
    current: tuple[Version, ...]  # in force now, by type
    versions: tuple[Version, ...]  # every version, by type and effective_from


@dataclass(frozen=True)
class RevisionEntry:
    """A revision of the rule history; in force unless a later revision corrects it."""

    revision_id: int
    activity_type: str
    points: Decimal
    per: str
    monthly_cap: Decimal | None
    effective_from: datetime
    note: str | None
    created_by: str | None
    recorded_at: datetime
    correction: bool
    corrects: int | None
    corrected_by: int | None
    in_force: bool


def version(rule: Rule, created_by: str | None) -> Version:
    return Version(
        rule.activity_type,
        rule.points,
        rule.per,
        rule.monthly_cap,
        rule.effective_from,
        created_by,
    )


def rules_in_force(
    book: RuleBook, authors: Mapping[tuple[str, datetime], str | None], now: datetime
) -> RulesInForce:
    def out(r: Rule) -> Version:
        return version(r, authors.get((r.activity_type, r.effective_from)))

    versions = sorted(book.versions(), key=lambda r: (r.activity_type, r.effective_from))
    return RulesInForce(
        current=tuple(out(r) for r in book.current(now)),
        versions=tuple(out(r) for r in versions),
    )
