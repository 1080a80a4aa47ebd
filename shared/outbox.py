"""Outbox: a service records the events its state change causes in the same transaction as
that change; `OutboxRelay` publishes them in order and marks them sent.

A crash between publishing and marking sent publishes the event again on restart; consumers
dedupe by `source` + `id`, so the effect is once. Sent rows are kept for a retention window so
that they can be sent again to a broker that lost them (shared.incarnation). LISTEN/NOTIFY wakes the relay right after a
commit (low publish latency); a slow poll is the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaProducer

from .db import Conn
from .events import CloudEvent
from .events.kafka_binding import Headers, headers_from_json, headers_to_json
from .metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED

log = logging.getLogger(__name__)

RELAY_LOCK = 0x5047_5242  # one relay per service database publishes at a time
NOTIFY_CHANNEL = "partygrid_outbox"

# publish(rows) sends (topic, key, value, headers) rows in order and returns once the broker
# has acknowledged every one of them (raises otherwise). headers is None for the usual
# structured-mode event; a re-published binary-mode dead letter carries its original ones.
OutgoingRow = tuple[str, bytes | None, bytes, Headers | None]
PublishBatch = Callable[[Sequence[OutgoingRow]], Awaitable[None]]


def kafka_batch_publisher(producer: AIOKafkaProducer) -> PublishBatch:
    """Queue every row on the producer (it batches them per partition), then wait for all
    acknowledgements: one relay step costs a few produce requests, not one per event."""

    async def publish(rows: Sequence[OutgoingRow]) -> None:
        pending = [
            await producer.send(topic, value, key=key, headers=headers)
            for topic, key, value, headers in rows
        ]
        await asyncio.gather(*pending)

    return publish


async def add_to_outbox(conn: Conn, events: Sequence[CloudEvent]) -> None:
    """Record events to publish; call inside the transaction of the state change."""
    if not events:
        return
    await add_raw_to_outbox(
        conn,
        [(e.type, e.subject.encode() if e.subject else None, e.to_bytes()) for e in events],
    )


async def publish_own(conn: Conn, events: Sequence[CloudEvent]) -> None:
    """Publish events this service produced from its API, and record them in its own inbox so
    that when its consumer reads them back from Kafka they count as already applied."""
    if not events:
        return
    await conn.executemany(
        "INSERT INTO inbox (source, id, type, digest) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [(e.source, e.id, e.type, e.digest()) for e in events],
    )
    await add_to_outbox(conn, events)


async def add_raw_to_outbox(conn: Conn, rows: Sequence[tuple[str, bytes | None, bytes]]) -> None:
    if not rows:
        return
    if len(rows) > 50:
        await conn.copy_records_to_table("outbox", records=rows, columns=["topic", "key", "value"])
    else:
        await conn.executemany("INSERT INTO outbox (topic, key, value) VALUES ($1, $2, $3)", rows)
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


async def add_message_to_outbox(
    conn: Conn, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None
) -> None:
    """Record one message to send exactly as given, Kafka headers included (a dead letter
    re-published as it came, e.g. a binary-mode CloudEvent)."""
    await conn.execute(
        "INSERT INTO outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::jsonb)",
        topic,
        key,
        value,
        headers_to_json(headers),
    )
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


class OutboxRelay:
    """Publishes unsent outbox rows in `seq` order, then marks them sent."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        publish: PublishBatch,
        *,
        service: str,
        batch: int = 2000,
        poll_seconds: float = 0.5,
        retention_hours: int = 24,
    ) -> None:
        self.pool = pool
        self.publish = publish
        self.service = service
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.retention_hours = retention_hours
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            try:
                await self._hold_lock_and_relay()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in 1 s")
                await asyncio.sleep(1)

    async def _hold_lock_and_relay(self) -> None:
        async with self.pool.acquire() as conn:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                await asyncio.sleep(self.poll_seconds)  # another replica's relay is publishing
            await conn.add_listener(NOTIFY_CHANNEL, self._notified)
            try:
                cleaned = 0.0
                while True:
                    sent = await self.relay_once(conn)
                    loop_time = asyncio.get_running_loop().time()
                    if loop_time - cleaned > 300:
                        await conn.execute(
                            "DELETE FROM outbox WHERE sent_at < now() - make_interval(hours => $1)",
                            self.retention_hours,
                        )
                        cleaned = loop_time
                    if sent < self.batch:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            finally:
                with contextlib.suppress(Exception):
                    await conn.remove_listener(NOTIFY_CHANNEL, self._notified)
                    await conn.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK)

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def relay_once(self, conn: Conn) -> int:
        rows = await conn.fetch(
            "SELECT seq, topic, key, value, headers, extract(epoch FROM now() - created_at) AS age "
            "FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1",
            self.batch,
        )
        if not rows:
            OUTBOX_BACKLOG.labels(self.service).set(0)
            OUTBOX_OLDEST_AGE.labels(self.service).set(0)
            return 0
        OUTBOX_OLDEST_AGE.labels(self.service).set(float(rows[0]["age"]))
        epoch = await conn.fetchval("SELECT epoch FROM broker_incarnation")
        # Sends are queued in seq order; waiting for all acks before marking keeps the
        # guarantee: a row is marked sent only after the broker has it.
        await self.publish(
            [(r["topic"], r["key"], r["value"], headers_from_json(r["headers"])) for r in rows]
        )
        async with conn.transaction():
            # If the broker turned out to be a new incarnation meanwhile (shared.incarnation),
            # these may have gone to the old one: leave them unsent. FOR SHARE makes the
            # incarnation switch wait for this marking, so it re-sends what is marked here.
            if await conn.fetchval("SELECT epoch FROM broker_incarnation FOR SHARE") != epoch:
                return 0
            await conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])",
                [r["seq"] for r in rows],
            )
        for topic, n in Counter(r["topic"] for r in rows).items():
            OUTBOX_PUBLISHED.labels(self.service, topic).inc(n)
        self.published += len(rows)
        backlog = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        OUTBOX_BACKLOG.labels(self.service).set(backlog)
        return len(rows)
