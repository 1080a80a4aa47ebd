"""A member's record (全程记实): every ledger entry of a period with what it earned, computed
by the same rules as the buckets (domain.points), so the lines add up to the member's points."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class Arrival:
    """When scoring received an entry, and the activity.revoked that hit it, if any."""

    received_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None  # the revocation as 'source id'
    revoked_reason: str | None


@dataclass(frozen=True)
class RecordLine:
    """A line of the record: the entry, the rule version applied (its activity type is the
    entry's) and what it earned; revocation and arrival; whether it came after the close."""

    source: str
    id: str
    kind: str
    activity_type: str
    time: datetime
    hours: Decimal | None
    rule: Rule | None
    raw_points: Decimal
    trimmed: Decimal
    points: Decimal
    revoked: bool
    revoked_at: datetime | None
    revoked_by: str | None
    revoked_reason: str | None
    arrived_at: datetime
    after_close: bool


@dataclass(frozen=True)
class MemberRecord:
    """A member's record of a period: the lines add up to `points` (live); `closed_points` is
    None unless the period is closed."""

    member_id: str
    period: str
    points: Decimal
    closed_points: Decimal | None
    lines: tuple[RecordLine, ...]


def member_record(
    member_id: str,
    period: str,
    lines: Iterable[Line],
    arrivals: Mapping[tuple[str, str], Arrival],
    closed_points: Decimal | None,
    closed_at: datetime | None,
) -> MemberRecord:
    """The record of `lines` (from `record`), each with its arrival by (source, id); an entry
    that arrived after `closed_at` (the close compared with) is marked after_close."""
    out = []
    for ln in lines:
        a = arrivals[(ln.entry.source, ln.entry.id)]
        out.append(
            RecordLine(
                source=ln.entry.source,
                id=ln.entry.id,
                kind=ln.kind,
                activity_type=ln.entry.activity_type,
                time=ln.entry.time,
                hours=ln.entry.hours,
                rule=ln.rule,
                raw_points=ln.raw,
                trimmed=ln.trimmed,
                points=ln.earned,
                revoked=ln.revoked,
                revoked_at=a.revoked_at if ln.revoked else None,
                revoked_by=a.revoked_by if ln.revoked else None,
                revoked_reason=a.revoked_reason if ln.revoked else None,
                arrived_at=a.received_at,
                after_close=closed_at is not None and a.received_at > closed_at,
            )
        )
    return MemberRecord(
        member_id=member_id,
        period=period,
        points=sum((r.points for r in out), ZERO),
        closed_points=closed_points,
        lines=tuple(out),
    )
