"""Adjustments of a closed period, per late arrival: what each entry, revocation and rule
revision that arrived after the close changed in one member's points of the period.

The member's points are replayed from the close, applying the late arrivals one at a time in
the order they arrived; each one's delta is the points after it minus the points before. The
points at the close are what the close froze, and the deltas add up to live - closed, caps,
revocations and the yearly report bonus included (the same rules as the record: domain.record).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
