"""Adjustments of a closed period, per late arrival: what each entry, revocation and rule
revision that arrived after the close changed in one member's points of the period.

The member's points are replayed from the close, applying the late arrivals one at a time in
the order they arrived; each one's delta is the points after it minus the points before. The
points at the close are what the close froze, and the deltas add up to live - closed, caps,
revocations and the yearly report bonus included (the same rules as the record: domain.record).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from .points import ZERO, Entry
from .record import record
from .rules import Rule, RuleBook


@dataclass(frozen=True)
class Held:
    """One ledger entry of the member as scoring holds it, with when it (and its revocation)
    arrived."""

    entry: Entry
    month: str
    kind: str  # activity | reported
    arrived_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Revision:
    """One rule revision (a version or a correction), with when it was recorded."""

    revision_id: int
    rule: Rule
    recorded_at: datetime
    corrects: int | None = None  # the revision it corrects; None for a version
    note: str | None = None  # why it changed
    created_by: str | None = None


@dataclass(frozen=True)
class Late:
    """One arrival after the close and what it changed in the member's points."""

    change: Literal["event", "revocation", "rule"]
    at: datetime
    held: Held | None  # the entry (event, revocation)
    revision: Revision | None  # the rule revision (rule)
    delta: Decimal


def _book(revisions: Iterable[Revision]) -> RuleBook:
    latest: dict[tuple[str, datetime], Rule] = {}
    for r in sorted(revisions, key=lambda r: r.revision_id):  # a correction after its original
        latest[(r.rule.activity_type, r.rule.effective_from)] = r.rule
    return RuleBook(latest.values())


def _points(
    held: Sequence[Held], arrived: set[int], revoked: set[int], book: RuleBook, months: list[str]
) -> Decimal:
    activities = [
        (h.entry, h.month, i in revoked)
        for i, h in enumerate(held)
        if i in arrived and h.kind == "activity"
    ]
    reports = [
        (h.entry, h.month) for i, h in enumerate(held) if i in arrived and h.kind == "reported"
    ]
    return sum((ln.earned for ln in record(activities, reports, months, book)), ZERO)


def replay(
    held: Sequence[Held], revisions: Sequence[Revision], months: Iterable[str], closed_at: datetime
) -> tuple[Decimal, list[Late]]:
    """The member's points at the close and each later arrival with its delta, in arrival
    order (ties: entries, then revocations, then rules, each by source and id or revision)."""
    months = list(months)
    arrived = {i for i, h in enumerate(held) if h.arrived_at <= closed_at}
    revoked = {i for i, h in enumerate(held) if h.revoked_at and h.revoked_at <= closed_at}
    known = [r for r in revisions if r.recorded_at <= closed_at]
    steps: list[tuple[tuple, Literal["event", "revocation", "rule"], int]] = []
    for i, h in enumerate(held):
        if h.arrived_at > closed_at:
            steps.append(((h.arrived_at, 0, h.entry.source, h.entry.id), "event", i))
        if h.revoked_at and h.revoked_at > closed_at:
            steps.append(((h.revoked_at, 1, h.entry.source, h.entry.id), "revocation", i))
    for i, r in enumerate(revisions):
        if r.recorded_at > closed_at:
            steps.append(((r.recorded_at, 2, "", str(r.revision_id).zfill(20)), "rule", i))
    before = at_close = _points(held, arrived, revoked, _book(known), months)
    out: list[Late] = []
    for key, change, i in sorted(steps):
        if change == "event":
            arrived.add(i)
        elif change == "revocation":
            revoked.add(i)
        else:
            known.append(revisions[i])
        after = _points(held, arrived, revoked, _book(known), months)
        out.append(
            Late(
                change,
                key[0],
                held[i] if change != "rule" else None,
                revisions[i] if change == "rule" else None,
                after - before,
            )
        )
        before = after
    return at_close, out


@dataclass(frozen=True)
class MemberDelta:
    """A member whose live points of the period differ from the closed ones."""

    member_id: str
    closed: Decimal
    live: Decimal
    delta: Decimal


@dataclass(frozen=True)
class AdjustedEvent:
    """A late entry or revocation, the member's delta it made, and when it arrived."""

    change: Literal["event", "revocation"]
    member_id: str
    delta: Decimal
    source: str
    id: str
    kind: str
    activity_type: str
    time: datetime
    arrived_at: datetime


@dataclass(frozen=True)
class RuleEffect:
    member_id: str
    delta: Decimal


@dataclass(frozen=True)
class AdjustedRule:
    """A revision recorded after the close reaching back before the period's end, and what it
    changed per member (possibly nothing)."""

    revision_id: int
    corrects: int | None
    activity_type: str
    points: Decimal
    effective_from: datetime
    note: str | None
    created_by: str | None
    recorded_at: datetime
    members: tuple[RuleEffect, ...]


@dataclass(frozen=True)
class Adjustments:
    period: str
    closed_at: datetime
    members: tuple[MemberDelta, ...]
    events: tuple[AdjustedEvent, ...]  # in arrival order
    rules: tuple[AdjustedRule, ...]


def member_delta(member_id: str, closed: Decimal, live: Decimal) -> MemberDelta:
    return MemberDelta(member_id, closed, live, live - closed)


def _event(member_id: str, late: Late) -> AdjustedEvent:
    assert late.held is not None and late.change != "rule"
    e = late.held.entry
    return AdjustedEvent(
        change=late.change,
        member_id=member_id,
        delta=late.delta,
        source=e.source,
        id=e.id,
        kind=late.held.kind,
        activity_type=e.activity_type,
        time=e.time,
        arrived_at=late.at,
    )


def _order(event: AdjustedEvent) -> tuple[datetime, bool, str, str]:
    return (event.arrived_at, event.change != "event", event.source, event.id)


def adjustments(
    period: str,
    months: Sequence[str],
    ends_at: datetime,
    closed_at: datetime,
    held: Mapping[str, Sequence[Held]],
    revisions: Sequence[Revision],
    members: Sequence[MemberDelta],
) -> Adjustments:
    """Each member's late arrivals replayed from the close (`held`: their entries of the
    period), in arrival order; the revisions recorded after the close that reach back before
    `ends_at`, each with what it changed per member."""
    events: list[AdjustedEvent] = []
    effects: dict[int, list[RuleEffect]] = {}
    for member_id, entries in held.items():
        _, lates = replay(entries, revisions, months, closed_at)
        for late in lates:
            if late.revision is not None:
                if late.delta:
                    effects.setdefault(late.revision.revision_id, []).append(
                        RuleEffect(member_id, late.delta)
                    )
            elif late.held is not None and (late.held.month in months or late.delta):
                # a report of another month of the year counts here only if it moved the bonus
                events.append(_event(member_id, late))
    return Adjustments(
        period=period,
        closed_at=closed_at,
        members=tuple(members),
        events=tuple(sorted(events, key=_order)),
        rules=tuple(
            AdjustedRule(
                revision_id=v.revision_id,
                corrects=v.corrects,
                activity_type=v.rule.activity_type,
                points=v.rule.points,
                effective_from=v.rule.effective_from,
                note=v.note,
                created_by=v.created_by,
                recorded_at=v.recorded_at,
                members=tuple(effects.get(v.revision_id, [])),
            )
            for v in revisions
            if v.recorded_at > closed_at and v.rule.effective_from < ends_at
        ),
    )
