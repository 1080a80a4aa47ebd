"""Point rules (docs/design.md §4.1): points per event or per hour, an optional monthly cap per member,
versioned by `effective_from` — an event is scored by the version in force at its `time`."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from shared.events import ActivityType

MEMBER_REPORTED = "member_reported"
RULE_TYPES: tuple[str, ...] = (*(t.value for t in ActivityType), MEMBER_REPORTED)
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidRule(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Rule:
    activity_type: str
    points: Decimal
    per: str  # "event" | "hour"
    monthly_cap: Decimal | None
    effective_from: datetime = BEGINNING

    def raw_points(self, hours: Decimal | None) -> Decimal:
        if self.per == "hour":
            return self.points * (hours or Decimal(0))
        return self.points


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("organization_life", Decimal(5), "event", None),
    Rule("theme_party_day", Decimal(5), "event", None),
    Rule("volunteer_service", Decimal(2), "hour", Decimal(40)),
    Rule("wish_fulfilled", Decimal(5), "event", Decimal(20)),
    Rule("service_post", Decimal(3), "event", Decimal(15)),
    Rule("grid_visit", Decimal(1), "event", Decimal(10)),
    Rule("study", Decimal(1), "event", Decimal(10)),
    Rule("organization_life_absent", Decimal(-2), "event", None),
    Rule(MEMBER_REPORTED, Decimal(10), "event", None),
)


def validate_rule(rule: Rule) -> None:
    """Raise InvalidRule naming the field and what is accepted."""
    if rule.activity_type not in RULE_TYPES:
        raise InvalidRule(
            "activity_type",
            f"unknown activity_type {rule.activity_type!r}; accepted: {', '.join(RULE_TYPES)}",
        )
    if rule.per not in ("event", "hour"):
        raise InvalidRule("per", "per must be 'event' or 'hour'")
    if rule.activity_type == MEMBER_REPORTED and rule.per != "event":
        raise InvalidRule("per", "member_reported is scored per event")
    if rule.monthly_cap is not None:
        if rule.monthly_cap < 0:
            raise InvalidRule("monthly_cap", "monthly_cap must be zero or more, or null for no cap")
        if rule.points < 0:
            raise InvalidRule("monthly_cap", "negative rules have no cap; send monthly_cap null")
        if rule.activity_type == MEMBER_REPORTED:
            raise InvalidRule("monthly_cap", "member_reported counts once a year; it has no cap")
    if abs(rule.points) > 1000:
        raise InvalidRule("points", "points must be between -1000 and 1000")
    if rule.points != rule.points.quantize(Decimal("0.01")):
        raise InvalidRule("points", "points have at most 2 decimal places")
    if rule.effective_from.tzinfo is None:
        raise InvalidRule("effective_from", "effective_from needs a UTC offset (RFC 3339)")


class RuleBook:
    """All rule versions; `rule_for(type, time)` is the version in force at `time`."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        by_type: dict[str, list[Rule]] = {}
        for r in rules:
            by_type.setdefault(r.activity_type, []).append(r)
        self._versions = {t: sorted(v, key=lambda r: r.effective_from) for t, v in by_type.items()}
        self._starts = {t: [r.effective_from for r in v] for t, v in self._versions.items()}

    def rule_for(self, activity_type: str, time: datetime) -> Rule | None:
        versions = self._versions.get(activity_type)
        if not versions:
            return None
        i = bisect.bisect_right(self._starts[activity_type], time) - 1
        return versions[i] if i >= 0 else None

    def versions(self) -> list[Rule]:
        return [r for v in self._versions.values() for r in v]

    def current(self, now: datetime) -> list[Rule]:
        out = []
        for t in RULE_TYPES:
            r = self.rule_for(t, now)
            if r is not None:
                out.append(r)
        return out
