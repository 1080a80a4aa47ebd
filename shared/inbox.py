"""Inbox: what a consumer applies, it applies once.

`InboxConsumer.handle` takes one batch of Kafka records and, in ONE database transaction,
records each new CloudEvent `source` + `id` in the `inbox` table, applies the new events through
the service's use case, and records every bad message as a dead letter (the dead-letter event
itself goes out through the outbox). The FastStream subscriber commits the Kafka offsets only
after this returns, i.e. after the database commit (at-least-once delivery, exactly-once effect).

A batch that fails for a reason other than a lost connection is retried one message per
transaction, so a single poison message goes to the dead-letter topic instead of blocking its
partition; a lost database connection is raised so the batch is re-consumed later.

Whatever counts applied work (metrics) registers with `after_commit` inside the transaction and
runs once that transaction committed: never for a rolled-back batch, and once per event when a
failed batch is retried one message at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import BaseModel

from .consumed import Incoming, Record, Rejected, dead_letter_event, parse_record, rejection
from .db import Conn
from .events import BadEvent
from .events.kafka_binding import headers_to_json
from .metrics import (
    BATCH_FAILURES,
    BATCH_SECONDS,
    BATCH_SIZE,
    EVENTS_APPLIED,
    EVENTS_DEADLETTERED,
    EVENTS_DUPLICATE,
    NEWEST_APPLIED,
    type_label,
)
from .outbox import add_to_outbox

log = logging.getLogger(__name__)

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    TimeoutError,
)


# The callbacks of the inbox transaction the running task is in (None outside one).
_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "inbox_after_commit", default=None
)


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the inbox transaction this is called in has committed; drop it if
    that transaction rolls back. For counters of applied work, so a rolled-back or retried
    batch does not count what it did not keep."""
    pending = _after_commit.get()
    if pending is None:
        raise RuntimeError("after_commit is called inside an inbox transaction only")
    pending.append(callback)


# apply(conn, events) runs inside the batch transaction; it may add to the outbox.
Apply = Callable[[Conn, list[Incoming]], Awaitable[None]]

# An apply may carry a `bulk` path: bulk(consumer, records) takes a whole batch of raw records
# (claim, apply, dead letters, all in one transaction) and returns its result, or None when the
# batch is not one it takes — then the batch goes the per-record way below. It must give the
# same database state as that way; it raising (other than a lost connection) also sends the
# batch the per-record way, in a new transaction.
BulkPath = Callable[["InboxConsumer", list[Record]], Awaitable["BatchResult | None"]]


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0


class InboxConsumer:
    def __init__(self, pool: asyncpg.Pool, apply: Apply, *, service: str, source: str) -> None:
        self.pool = pool
        self.apply = apply
        self.service = service
        self.source = source
        self.last_batch_at: float | None = None
        self.newest_applied: float = 0.0
        for handling in ("one_by_one", "reconsumed"):  # series from the start, so increase() works
            BATCH_FAILURES.labels(service, handling)

    async def handle(self, raw_records: Sequence[Any]) -> BatchResult:
        started = time.perf_counter()
        records = [Record.of(r) for r in raw_records]
        bulk: BulkPath | None = getattr(self.apply, "bulk", None)
        if bulk is not None:
            try:
                done = await bulk(self, records)
            except CONNECTION_ERRORS:
                log.warning("database unreachable; batch of %d will be re-consumed", len(records))
                await asyncio.sleep(1)
                raise
            except Exception:
                log.exception("bulk path failed for a batch of %d; exact path", len(records))
                done = None
            if done is not None:
                self._observe(len(records), started)
                return done
        good: list[Incoming] = []
        bad: list[Rejected] = []
        for record in records:
            try:
                good.append(parse_record(record))
            except BadEvent as exc:
                bad.append(rejection(record, exc))
        try:
            result = await self._in_one_transaction(good, bad)
        except CONNECTION_ERRORS:
            BATCH_FAILURES.labels(self.service, "reconsumed").inc()
            log.warning("database unreachable; batch of %d will be re-consumed", len(records))
            await asyncio.sleep(1)
            raise
        except Exception:
            BATCH_FAILURES.labels(self.service, "one_by_one").inc()
            log.exception("batch of %d failed; applying one message at a time", len(records))
            result = await self._one_by_one(good, bad)
        self._observe(len(records), started)
        return result

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """A pooled connection in a new transaction for one batch (or one message of a retried
        batch); what the batch gave to `after_commit` runs after the commit, in order."""
        pending: list[Callable[[], None]] = []
        token = _after_commit.set(pending)
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                yield conn
        finally:
            _after_commit.reset(token)
        for callback in pending:
            try:
                callback()
            except Exception:  # a metric must not make a committed batch look failed
                log.exception("after-commit callback failed")

    def _observe(self, size: int, started: float) -> None:
        BATCH_SIZE.labels(self.service).observe(size)
        BATCH_SECONDS.labels(self.service).observe(time.perf_counter() - started)
        self.last_batch_at = time.time()

    async def _in_one_transaction(self, good: list[Incoming], bad: list[Rejected]) -> BatchResult:
        async with self.transaction() as conn:
            fresh, duplicates, conflicts = await self._claim(conn, good)
            if fresh:
                await self.apply(conn, fresh)
            dead = await self._dead_letter(conn, bad + conflicts)
            after_commit(lambda: self._count(fresh, duplicates, bad + conflicts))
        return BatchResult(len(fresh), len(duplicates), dead)

    async def _one_by_one(self, good: list[Incoming], bad: list[Rejected]) -> BatchResult:
        total = BatchResult()
        for item in good:
            try:
                r = await self._in_one_transaction([item], [])
            except CONNECTION_ERRORS:
                raise
            except Exception as exc:
                log.exception("event %s/%s cannot be applied", item.event.source, item.event.id)
                rejected = Rejected(item.record, "processing_error", repr(exc)[:500], item.event)
                r = await self._in_one_transaction([], [rejected])
            total.applied += r.applied
            total.duplicates += r.duplicates
            total.dead_lettered += r.dead_lettered
        if bad:
            total.dead_lettered += (await self._in_one_transaction([], bad)).dead_lettered
        return total

    async def _claim(
        self, conn: Conn, items: list[Incoming]
    ) -> tuple[list[Incoming], list[Incoming], list[Rejected]]:
        """Record new (source, id) pairs; split the batch into fresh, duplicates, conflicts."""
        first: dict[tuple[str, str], Incoming] = {}
        duplicates: list[Incoming] = []
        conflicts: list[Rejected] = []

        def sort_out(item: Incoming, seen_digest: bytes) -> None:
            if item.digest == seen_digest:
                duplicates.append(item)
            else:
                conflicts.append(
                    Rejected(
                        item.record,
                        "conflict",
                        f"an event with source {item.event.source!r} and id {item.event.id!r} "
                        "was already applied with different content; the first one stands",
                        item.event,
                    )
                )

        for item in items:
            seen = first.get(item.event.identity)
            if seen is None:
                first[item.event.identity] = item
            else:
                sort_out(item, seen.digest)
        if not first:
            return [], duplicates, conflicts
        candidates = list(first.values())
        inserted = await conn.fetch(
            """INSERT INTO inbox (source, id, type, digest)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
               ON CONFLICT DO NOTHING RETURNING source, id""",
            [c.event.source for c in candidates],
            [c.event.id for c in candidates],
            [c.event.type for c in candidates],
            [c.digest for c in candidates],
        )
        new = {(r["source"], r["id"]) for r in inserted}
        fresh = [c for c in candidates if c.event.identity in new]
        old = [c for c in candidates if c.event.identity not in new]
        if old:
            rows = await conn.fetch(
                """SELECT i.source, i.id, i.digest FROM inbox i
                   JOIN unnest($1::text[], $2::text[]) AS k(source, id) USING (source, id)""",
                [c.event.source for c in old],
                [c.event.id for c in old],
            )
            digests = {(r["source"], r["id"]): bytes(r["digest"]) for r in rows}
            for item in old:
                sort_out(item, digests[item.event.identity])
        return fresh, duplicates, conflicts

    async def dead_letter(self, conn: Conn, rejected: list[Rejected]) -> int:
        """Record rejected messages as dead letters (inside the caller's transaction)."""
        return await self._dead_letter(conn, rejected)

    async def _dead_letter(self, conn: Conn, rejected: list[Rejected]) -> int:
        events = []
        for r in rejected:
            row = await conn.fetchrow(
                """INSERT INTO dead_letters (reason, detail, topic, kafka_partition, kafka_offset,
                       event_type, event_source, event_id, key, value, headers)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
                   ON CONFLICT DO NOTHING RETURNING dl_id, rejected_at""",
                r.reason,
                r.detail,
                r.record.topic,
                r.record.partition,
                r.record.offset,
                r.event.type if r.event else None,
                r.event.source if r.event else None,
                r.event.id if r.event else None,
                r.record.key,
                r.record.value,
                headers_to_json(r.record.headers),
            )
            if row is None:
                continue  # this exact message was dead-lettered before (a redelivery)
            events.append(dead_letter_event(self.service, self.source, r, row["rejected_at"]))
            log.warning(
                "dead letter %s from %s[%d]@%d: %s",
                r.reason,
                r.record.topic,
                r.record.partition,
                r.record.offset,
                r.detail,
            )
        await add_to_outbox(conn, events)
        return len(events)

    def _count(
        self, fresh: list[Incoming], duplicates: list[Incoming], rejected: list[Rejected]
    ) -> None:
        # one counter update per type and batch, not per event
        self.count_types(
            Counter(i.event.type for i in fresh),
            Counter(i.event.type for i in duplicates),
            max((i.event.time.timestamp() for i in fresh), default=None),
        )
        self.count_rejected(rejected)

    def count_types(
        self, applied: Counter[str], duplicates: Counter[str], newest: float | None = None
    ) -> None:
        """Counters for a committed batch; `newest` is the latest event time it applied."""
        if newest is not None and newest > self.newest_applied:
            self.newest_applied = newest
            NEWEST_APPLIED.labels(self.service).set(newest)
        for t, n in applied.items():
            EVENTS_APPLIED.labels(self.service, t).inc(n)
        for t, n in duplicates.items():
            EVENTS_DUPLICATE.labels(self.service, t).inc(n)

    def count_rejected(self, rejected: list[Rejected]) -> None:
        for (t, reason), n in Counter(
            (type_label(r.event.type if r.event else None), r.reason) for r in rejected
        ).items():
            EVENTS_DEADLETTERED.labels(self.service, t, reason).inc(n)


def typed(items: list[Incoming], model: type[BaseModel]) -> list[tuple[Incoming, Any]]:
    return [(i, i.data) for i in items if isinstance(i.data, model)]
