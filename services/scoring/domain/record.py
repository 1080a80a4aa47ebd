"""A member's record (全程记实): every ledger entry of a period with what it earned, computed
by the same rules as the buckets (domain.points), so the lines add up to the member's points."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .points import ZERO, Entry, award, money
from .rules import Rule, RuleBook


@dataclass(frozen=True)
class Line:
    entry: Entry
    month: str
    kind: str  # activity | reported
    rule: Rule | None  # the version in force at the entry's time
    raw: Decimal  # what the rule gives before the cap
    trimmed: Decimal  # taken off by the monthly cap (or: not the year's first report)
    earned: Decimal  # what the entry counts for in the member's points
    revoked: bool


def record(
    activities: Iterable[tuple[Entry, str, bool]],
    reports: Iterable[tuple[Entry, str]],
    months: Iterable[str],
    rules: RuleBook,
) -> list[Line]:
    """`activities`: the member's activity entries of the period's months (entry, month,
    revoked); `reports`: every member.reported of the years those months are in."""
    wanted = set(months)
    lines: list[Line] = []
    buckets: dict[tuple[str, str], list[tuple[Entry, bool]]] = defaultdict(list)
    for e, month, revoked in activities:
        buckets[(month, e.activity_type)].append((e, revoked))
    for (month, _), items in buckets.items():
        given = ZERO
        for e, revoked in sorted(items, key=lambda i: i[0].key):
            rule = rules.rule_for(e.activity_type, e.time)
            raw = money(rule.raw_points(e.hours)) if rule else ZERO
            earned = ZERO if revoked else award(e, given, rules)
            given += earned
            trimmed = ZERO if revoked or raw < 0 else raw - earned
            lines.append(Line(e, month, "activity", rule, raw, trimmed, earned, revoked))
    by_year: dict[str, list[tuple[Entry, str]]] = defaultdict(list)
    for e, month in reports:
        by_year[month[:4]].append((e, month))
    for reps in by_year.values():
        first = min(reps, key=lambda i: i[0].key)[0]
        rule = rules.rule_for(first.activity_type, first.time)
        for e, month in reps:
            if month not in wanted:
                continue
            raw = rule.points if rule else ZERO
            earned = raw if e == first else ZERO
            lines.append(Line(e, month, "reported", rule, raw, raw - earned, earned, False))
    return sorted(lines, key=lambda ln: ln.entry.key)
