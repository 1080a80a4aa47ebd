"""Scoring's set-based path for the common batch: nothing but activity.logged.

The exact path (usecases.apply_events) costs ~100 µs of Python and about eight row writes one
after the other per event. Here a batch is decoded with one compiled validation per record
(json + pydantic-core, no per-record BadEvent round trips), COPYed into a staging table, and a
few set-based statements do the rest inside the batch's one transaction (bulk_sql). Buckets the
new entries append to (each new entry after the bucket's last, one rule version for all of
them) are extended in SQL; the others — an event older than its bucket's last entry, a rule
version taking effect among them — are recomputed by the exact path's own code, per bucket.
A batch holding any other event type (revocations, reports and moves, registrations, regions)
goes the exact path whole, so order-dependent work never takes this one.

Records with CloudEvents binary-mode headers (`ce_*`) or a content type other than structured
CloudEvents JSON are parsed by shared.inbox.parse_record, the one definition of what those
mean, and join the batch like any other.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shared.db import Conn
from shared.events import ACTIVITY_LOGGED, ActivityLogged, BadEvent, CloudEvent, check_time
from shared.events.envelope import event_digest
from shared.inbox import (
    BatchResult,
    InboxConsumer,
    Incoming,
    Record,
    Rejected,
    after_commit,
    parse_record,
    rejection,
)

from . import bulk_sql as sql
from . import persistence as db
from .domain.periods import month_of
from .domain.points import Outcome
from .metrics import observe_applied, observe_steps
from .usecases import recompute_buckets

log = logging.getLogger(__name__)

STRUCTURED = ("application/cloudevents+json", "application/json")


class LoggedEnvelope(CloudEvent):
    """An activity.logged envelope with its data validated in the same compiled pass."""

    data: ActivityLogged  # type: ignore[assignment]


@dataclass(frozen=True)
class Staged:
    """One decoded activity.logged: what the staging table holds, plus its record and envelope
    for the rare dead letter (a conflicting reuse of source + id)."""

    row: sql.StageRow
    event: CloudEvent
    record: Record


def _header(record: Any, name: str) -> tuple[bool, str | None]:
    """(has CloudEvents binary-mode headers, content-type) of a record, if it carries headers."""
    headers = getattr(record, "headers", None) or ()
    binary, ctype = False, None
    for key, value in headers:
        k = key.lower() if isinstance(key, str) else str(key).lower()
        if k.startswith("ce_"):
            binary = True
        elif k == name:
            ctype = value.decode() if isinstance(value, bytes) else str(value)
    return binary, ctype


def decode(record: Record, tz: ZoneInfo, seq: int) -> Staged:
    """Decode and validate one activity.logged record, or raise BadEvent saying why not."""
    binary, ctype = _header(record, "content-type")
    if binary or (ctype is not None and ctype.split(";")[0].strip() not in STRUCTURED):
        return staged(parse_record(record), tz, seq)
    try:
        body = json.loads(record.value) if record.value is not None else None
        if not isinstance(body, dict) or body.get("type") != record.topic:
            raise ValueError
        env = LoggedEnvelope.model_validate(body)
        d = env.data
        if env.subject is not None and env.subject != d.member_id:
            raise ValueError
        check_time(env)
    except Exception:
        # the exact parser gives the reason (or accepts what this stricter pass did not)
        return staged(parse_record(record), tz, seq)
    digest = event_digest(env.type, env.time, env.subject, body["data"])
    row = (seq, env.source, env.id, digest, d.member_id, d.activity_type.value, env.time,
           month_of(env.time, tz), d.hours)  # fmt: skip
    return Staged(row, env, record)


def staged(item: Incoming, tz: ZoneInfo, seq: int) -> Staged:
    d, e = item.data, item.event
    if not isinstance(d, ActivityLogged):  # parse_record checked type against topic
        raise BadEvent("wrong_topic", f"{e.type} is not {ACTIVITY_LOGGED}")
    row = (seq, e.source, e.id, item.digest, d.member_id, d.activity_type.value, e.time,
           month_of(e.time, tz), d.hours)  # fmt: skip
    return Staged(row, e, item.record)


def _conflict(s: Staged) -> Rejected:
    return Rejected(
        s.record,
        "conflict",
        f"an event with source {s.event.source!r} and id {s.event.id!r} "
        "was already applied with different content; the first one stands",
        s.event,
    )


class _Laps:
    """The time since the previous lap (or since it was made), by step."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = now - self._last
        self._last = now


class BulkApply:
    """`bulk` of scoring's apply (see shared.inbox.BulkPath): every batch of nothing but
    activity.logged, whatever its size — a consumer that keeps up gets small batches, one far
    behind (a new replica, a replay) full ones (CONSUMER_MAX_RECORDS): its catch-up mode."""

    def __init__(self, tz: ZoneInfo, source: str) -> None:
        self.tz, self.source = tz, source

    async def __call__(self, consumer: InboxConsumer, records: list[Record]) -> BatchResult | None:
        if not records or any(r.topic != ACTIVITY_LOGGED for r in records):
            return None
        items: list[Staged] = []
        bad: list[Rejected] = []
        for seq, record in enumerate(records):
            try:
                items.append(decode(record, self.tz, seq))
            except BadEvent as exc:
                bad.append(rejection(record, exc))
        # the first of each (source, id) in the batch is staged; later ones are duplicates
        # when they carry the same content, conflicts when not
        first: dict[tuple[str, str], Staged] = {}
        dups: list[Staged] = []
        for s in items:
            seen = first.setdefault((s.row[1], s.row[2]), s)
            if seen is not s and seen.row[3] == s.row[3]:
                dups.append(s)
            elif seen is not s:
                bad.append(_conflict(s))
        async with consumer.transaction() as conn:
            applied, old = await self.apply(conn, list(first.values()))
            for s, digest in old:
                if digest == s.row[3]:
                    dups.append(s)
                else:
                    bad.append(_conflict(s))
            dead = await consumer.dead_letter(conn, bad)
            newest = max(s.row[6] for s in first.values()).timestamp() if applied else None

            def count() -> None:
                consumer.count_types(
                    Counter({ACTIVITY_LOGGED: applied}),
                    Counter({ACTIVITY_LOGGED: len(dups)}),
                    newest,
                )
                consumer.count_rejected(bad)

            after_commit(count)
        return BatchResult(applied, len(dups), dead)

    async def apply(
        self, conn: Conn, items: list[Staged]
    ) -> tuple[int, list[tuple[Staged, bytes | None]]]:
        """Claim, score and propagate `items` (distinct source + id) in the caller's
        transaction; returns how many were new and the others with their stored digest."""
        if not items:
            return 0, []
        lap = _Laps()
        after_commit(lambda: observe_steps(lap.seconds))  # what ran, read at the commit
        await sql.stage(conn, [s.row for s in items])  # takes the rules lock first
        lap("stage")
        old = await sql.claim_and_record(conn, ACTIVITY_LOGGED)
        lap("claim")
        applied = len(items) - len(old)
        by_seq = {s.row[0]: s for s in items}
        old_items = [(by_seq[seq], digest) for seq, digest in old]
        if applied == 0:
            return 0, old_items
        await sql.lock_members(conn)
        lap("lock")
        stale = {seq for seq, _ in old}
        extended = await sql.extend_buckets(conn, sorted(stale))
        lap("extend")
        changes = {c.key: (c.old_points, c.new_points) for c in extended if not c.slow}
        slow = {c.key for c in extended if c.slow}
        if slow:
            changes.update(await self._exact_buckets(conn, slow))
            lap("exact")
        month_deltas: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        by_type: dict[str, Decimal] = defaultdict(Decimal)
        for (member, month, activity_type), (old_points, new_points) in changes.items():
            month_deltas[(member, month)] += new_points - old_points
            by_type[activity_type] += new_points - old_points
        newest = max(s.row[6] for s in items if s.row[0] not in stale)
        await sql.propagate(conn, self.source, month_deltas, newest)
        lap("propagate")
        outcome = Outcome(len(changes), dict(by_type), newest)
        after_commit(lambda: observe_applied(outcome))
        return applied, old_items

    async def _exact_buckets(
        self, conn: Conn, keys: set[db.BucketKey]
    ) -> dict[db.BucketKey, tuple[Decimal, Decimal]]:
        """The exact path's own recomputation of `keys`, from the ledger (which now holds this
        batch); returns the points before and after of those that changed."""
        rules = await db.load_rules(conn)
        changes = await recompute_buckets(conn, rules, {}, keys)
        await db.save_buckets(conn, {k: new for k, (_, new) in changes.items()})
        return {k: (old.points, new.points) for k, (old, new) in changes.items()}
