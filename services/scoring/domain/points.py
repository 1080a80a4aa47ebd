"""Awarding points within one bucket (member, month, activity type), and the yearly
member_reported bonus. Pure functions of the set of entries: the result never depends on
the order entries arrived in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from .rules import Rule, RuleBook

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Entry:
    """One logged activity (not revoked) as the ledger holds it."""

    time: datetime
    source: str
    id: str
    activity_type: str
    hours: Decimal | None = None

    @property
    def key(self) -> tuple[datetime, str, str]:
        return (self.time, self.source, self.id)


@dataclass(frozen=True)
class BucketTotal:
    points: Decimal
    events: int
    hours: Decimal
    last_key: tuple[datetime, str, str] | None


EMPTY_BUCKET = BucketTotal(ZERO, 0, ZERO, None)


def award(entry: Entry, given: Decimal, rules: RuleBook) -> Decimal:
    """Points for one entry when `given` points were already given in its bucket: its rule's
    points, trimmed to what the monthly cap leaves, never below zero; negative rules uncapped."""
    rule = rules.rule_for(entry.activity_type, entry.time)
    if rule is None:
        return ZERO
    raw = money(rule.raw_points(entry.hours))
    if rule.monthly_cap is None or raw < 0:
        return raw
    return max(ZERO, min(raw, rule.monthly_cap - given))


def extend_bucket(total: BucketTotal, entries: Iterable[Entry], rules: RuleBook) -> BucketTotal:
    """Add entries that all come after `total.last_key` (the append-only fast path)."""
    points, events, hours, last = total.points, total.events, total.hours, total.last_key
    for e in sorted(entries, key=lambda e: e.key):
        assert last is None or e.key > last, "extend_bucket needs entries after the last one"
        points += award(e, points, rules)
        events += 1
        hours += e.hours or ZERO
        last = e.key
    return BucketTotal(money(points), events, money(hours), last)


def compute_bucket(entries: Iterable[Entry], rules: RuleBook) -> BucketTotal:
    """Every non-revoked entry of one bucket, taken in (time, source, id) order."""
    return extend_bucket(EMPTY_BUCKET, entries, rules)


def first_report(reports: Iterable[Entry]) -> Entry | None:
    """The member.reported that earns the yearly bonus: the first of the year by key."""
    return min(reports, key=lambda e: e.key, default=None)


@dataclass
class Outcome:
    """What a batch or a rule change did, for metrics and callers."""

    buckets_changed: int = 0
    points_by_type: dict[str, Decimal] = field(default_factory=dict)
    newest_event: datetime | None = None
    members_moved: int = 0
    members_counted: int = 0  # change in the members counted in rankings


@dataclass(frozen=True)
class RuleChange:
    """What adding a rule version did: the version, and the buckets and members whose points
    the exact re-evaluation changed."""

    rule: Rule
    buckets_reevaluated: int
    members_affected: int
    outcome: Outcome
