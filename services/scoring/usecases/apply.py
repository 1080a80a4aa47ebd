"""Applying a batch of events (a rule change, in `rules`, re-evaluates with the same helpers).
Both keep every
derived table (buckets, member period totals, region aggregates) exactly equal to a
recomputation from the ledger, touching only what the change affects.

How a batch is applied (one transaction, see shared.inbox):
1. members, regions: the latest definition by (time, source, id) wins;
2. ledger: new activities and reports are recorded; a revocation marks its target (now or
   when it arrives later);
3. buckets (member, month, type): entries that come after the bucket's last entry extend it
   (fast path); anything else — an out-of-order event, a revocation — recomputes that one
   bucket from the ledger; the yearly member_reported bonus is recomputed per member-year;
4. the bucket deltas flow into member period totals and the community and grid aggregates of
   the member's location; members whose location changed move their totals;
5. points.changed events go to the outbox.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeAlias
from zoneinfo import ZoneInfo

from shared.db import Conn
from shared.events import (
    POINTS_CHANGED,
    ActivityLogged,
    ActivityRevoked,
    CloudEvent,
    MemberDeregistered,
    MemberRegistered,
    MemberReported,
    RegionDefined,
    encode_event,
)
from shared.inbox import Incoming
from shared.outbox import add_raw_to_outbox
from shared.projections import RegionVersion, newer, version_of

from .. import persistence as db
from ..domain.periods import month_of, periods_of_month
from ..domain.points import (
    EMPTY_BUCKET,
    ZERO,
    BucketTotal,
    Entry,
    Outcome,
    compute_bucket,
    extend_bucket,
)
from ..domain.rules import MEMBER_REPORTED, RuleBook
from ..persistence import BucketKey, Location, MemberRow

# the event data that names a member (typing only)
_MemberData: TypeAlias = (
    MemberRegistered | MemberDeregistered | MemberReported | ActivityLogged | ActivityRevoked
)


def _key(e: CloudEvent) -> db.Key:
    return version_of(e)


async def apply_events(conn: Conn, items: list[Incoming], *, tz: ZoneInfo, source: str) -> Outcome:
    await db.lock_rules(conn, exclusive=False)
    rules = await db.load_rules(conn)

    regions, registered, deregistered, reported, logged, revoked = [], [], [], [], [], []
    for it in items:
        d = it.data
        if isinstance(d, RegionDefined):
            regions.append((it.event, d))
        elif isinstance(d, MemberRegistered):
            registered.append((it.event, d))
        elif isinstance(d, MemberDeregistered):
            deregistered.append((it.event, d))
        elif isinstance(d, MemberReported):
            reported.append((it.event, d))
        elif isinstance(d, ActivityLogged):
            logged.append((it.event, d))
        elif isinstance(d, ActivityRevoked):
            revoked.append((it.event, d))

    await db.upsert_regions(
        conn,
        [
            RegionVersion(d.region_id, d.level.value, d.name, d.parent_id, d.retired, _key(e))
            for e, d in regions
        ],
    )

    about_members: tuple[tuple[CloudEvent, _MemberData], ...] = (
        *registered,
        *deregistered,
        *reported,
        *logged,
        *revoked,
    )
    member_ids = {d.member_id for _, d in about_members}
    members = await db.lock_members(conn, sorted(member_ids))
    before = {m: row.location for m, row in members.items()}
    changed_members = _update_members(members, registered, deregistered, reported)
    await db.save_members(conn, changed_members)

    ledger_rows = [
        (
            e.source,
            e.id,
            d.member_id,
            "activity",
            d.activity_type.value,
            e.time,
            month_of(e.time, tz),
            d.hours,
        )
        for e, d in logged
    ] + [
        (
            e.source,
            e.id,
            d.member_id,
            "reported",
            MEMBER_REPORTED,
            e.time,
            month_of(e.time, tz),
            None,
        )
        for e, d in reported
    ]
    pre_revoked = await db.insert_ledger(conn, ledger_rows)
    hit = await db.insert_revocations(
        conn,
        [
            (d.revokes.source, d.revokes.id, d.member_id, e.source, e.id, d.reason)
            for e, d in revoked
        ],
    )
    stray = {m for m, _, _ in hit} - set(members)
    if stray:  # a revocation whose member_id differs from its target's
        extra = await db.lock_members(conn, sorted(stray))
        members.update(extra)
        before.update({m: r.location for m, r in extra.items()})

    appended: dict[BucketKey, list[Entry]] = defaultdict(list)
    for e, d in logged:
        if (e.source, e.id) in pre_revoked:
            continue
        key = (d.member_id, month_of(e.time, tz), d.activity_type.value)
        appended[key].append(Entry(e.time, e.source, e.id, d.activity_type.value, d.hours))

    changes = await recompute_buckets(conn, rules, appended, set(hit))
    changes.update(
        await recompute_reports(
            conn, rules, {(d.member_id, int(month_of(e.time, tz)[:4])) for e, d in reported}
        )
    )
    outcome = await propagate(conn, changes, before, source)
    outcome.members_moved, outcome.members_counted = await _move_members(
        conn, {m: (before[m], members[m].location) for m in members}
    )
    newest = max((it.event.time for it in items), default=None)
    if newest is not None:
        await db.note_newest_event(conn, newest)
        outcome.newest_event = newest
    return outcome


def _update_members(
    members: dict[str, MemberRow],
    registered: list[tuple[CloudEvent, MemberRegistered]],
    deregistered: list[tuple[CloudEvent, MemberDeregistered]],
    reported: list[tuple[CloudEvent, MemberReported]],
) -> list[MemberRow]:
    changed: dict[str, MemberRow] = {}
    for e, d in registered:
        m = members[d.member_id]
        k = _key(e)
        if newer(k, m.reg_key):
            m.name, m.category, m.party_org_id = d.name, d.category.value, d.party_org_id
            m.reg_key = k
            changed[m.member_id] = m
        if newer(k, m.status_key):
            m.deregistered, m.status_key = False, k
            changed[m.member_id] = m
    for e, dd in deregistered:
        m = members[dd.member_id]
        k = _key(e)
        if newer(k, m.status_key):
            m.deregistered, m.status_key = True, k
            changed[m.member_id] = m
    for e, dr in reported:
        m = members[dr.member_id]
        k = _key(e)
        if newer(k, m.report_key):
            m.community_id, m.grid_id, m.report_key = dr.community_id, dr.grid_id, k
            changed[m.member_id] = m
    return list(changed.values())


Changes = dict[BucketKey, tuple[BucketTotal, BucketTotal]]


async def recompute_buckets(
    conn: Conn,
    rules: RuleBook,
    appended: dict[BucketKey, list[Entry]],
    dirty: set[BucketKey],
) -> Changes:
    existing = await db.load_buckets(conn, set(appended) | dirty)
    changes: Changes = {}
    dirty = set(dirty)
    for key, entries in appended.items():
        if key in dirty:
            continue
        old = existing.get(key, EMPTY_BUCKET)
        first = min(e.key for e in entries)
        if (old.last_key is None and old.events == 0) or (old.last_key and first > old.last_key):
            changes[key] = (old, extend_bucket(old, entries, rules))
        else:
            dirty.add(key)
    if dirty:
        ledger = await db.load_bucket_entries(conn, dirty)
        for key in dirty:
            changes[key] = (existing.get(key, EMPTY_BUCKET), compute_bucket(ledger[key], rules))
    return {k: v for k, v in changes.items() if v[0] != v[1]}


async def recompute_reports(
    conn: Conn, rules: RuleBook, member_years: set[tuple[str, int]]
) -> Changes:
    """The member_reported bonus: the first report of a member in a year earns the rule's
    points, in the month of that report."""
    if not member_years:
        return {}
    reports = await db.load_reports(conn, member_years)
    keys = [
        (m, f"{y:04d}-{mo:02d}", MEMBER_REPORTED) for m, y in member_years for mo in range(1, 13)
    ]
    existing = await db.load_buckets(conn, keys)
    changes: Changes = {}
    for (member, year), entries in reports.items():
        per_month: dict[str, int] = defaultdict(int)
        for _, month in entries:
            per_month[month] += 1
        first = min(entries, key=lambda em: em[0].key) if entries else None
        bonus_month = first[1] if first else None
        rule = rules.rule_for(MEMBER_REPORTED, first[0].time) if first else None
        for mo in range(1, 13):
            month = f"{year:04d}-{mo:02d}"
            key = (member, month, MEMBER_REPORTED)
            points = rule.points if rule is not None and month == bonus_month else ZERO
            new = BucketTotal(points, per_month.get(month, 0), ZERO, None)
            old = existing.get(key, EMPTY_BUCKET)
            if new != old and not (old == EMPTY_BUCKET and new.events == 0):
                changes[key] = (old, new)
    return changes


async def propagate(
    conn: Conn, changes: Changes, locations: dict[str, Location], source: str
) -> Outcome:
    """Bucket changes → member period totals → region aggregates → points.changed events."""
    outcome = Outcome(buckets_changed=len(changes))
    if not changes:
        return outcome
    await db.save_buckets(conn, {k: new for k, (_, new) in changes.items()})
    month_deltas: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for (member, month, activity_type), (old, new) in changes.items():
        delta = new.points - old.points
        month_deltas[(member, month)] += delta
        outcome.points_by_type[activity_type] = (
            outcome.points_by_type.get(activity_type, ZERO) + delta
        )
    period_deltas: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for (member, month), delta in month_deltas.items():
        for period in periods_of_month(month):
            period_deltas[(member, period)] += delta
    totals = await db.add_member_points(conn, period_deltas)

    region: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    histogram: dict[tuple[str, str, str, Decimal], int] = defaultdict(int)
    for (member, period), delta in period_deltas.items():
        loc = locations.get(member)
        if delta == 0 or loc is None or not loc.counted:
            continue
        new_total = totals[(member, period)]
        old_total = new_total - delta
        positive = int(new_total > 0) - int(old_total > 0)
        for kind, rid in _scopes(loc):
            if kind != "city":
                t, p = region.get((kind, rid, period), (ZERO, 0))
                region[(kind, rid, period)] = (t + delta, p + positive)
            if old_total != 0:
                histogram[(kind, rid, period, old_total)] -= 1
            if new_total != 0:
                histogram[(kind, rid, period, new_total)] += 1
    await db.add_region_points(conn, region)
    await db.add_score_counts(conn, histogram)

    # Many per batch: encoded straight to bytes (the PointsChanged schema, checked by a test).
    now = datetime.now(UTC)
    await add_raw_to_outbox(
        conn,
        [
            (
                POINTS_CHANGED,
                member.encode(),
                encode_event(
                    type=POINTS_CHANGED,
                    source=source,
                    subject=member,
                    time=now,
                    data={
                        "member_id": member,
                        "period": month,
                        "points": str(totals[(member, month)]),
                        "delta": str(delta),
                    },
                ),
            )
            for (member, month), delta in sorted(month_deltas.items())
            if delta != 0
        ],
    )
    return outcome


def _scopes(loc: Location) -> list[tuple[str, str]]:
    """The scopes a counted member's points count in: community, grid (if any), the city."""
    scopes = [("community", loc.community_id or "")]
    if loc.grid_id:
        scopes.append(("grid", loc.grid_id))
    scopes.append(("city", ""))
    return scopes


async def _move_members(conn: Conn, moves: dict[str, tuple[Location, Location]]) -> tuple[int, int]:
    """Members whose counted location changed take their totals from old to new regions.
    Returns how many moved and the change in the members counted."""
    moved = {m: (a, b) for m, (a, b) in moves.items() if a != b}
    if not moved:
        return 0, 0
    points = await db.member_period_points(conn, sorted(moved))
    region: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    histogram: dict[tuple[str, str, str, Decimal], int] = defaultdict(int)
    counts: dict[tuple[str, str], int] = defaultdict(int)

    def shift(loc: Location, sign: int, member: str) -> None:
        if not loc.counted:
            return
        for kind, rid in _scopes(loc):
            counts[(kind, rid)] += sign
            for period, value in points[member]:
                if kind != "city":
                    t, p = region.get((kind, rid, period), (ZERO, 0))
                    region[(kind, rid, period)] = (t + sign * value, p + sign * int(value > 0))
                if value != 0:
                    histogram[(kind, rid, period, value)] += sign

    counted = 0
    for member, (old, new) in moved.items():
        shift(old, -1, member)
        shift(new, +1, member)
        counted += int(new.counted) - int(old.counted)
    await db.add_region_points(conn, region)
    await db.add_score_counts(conn, histogram)
    await db.add_region_members(conn, counts)
    return len(moved), counted
