"""Restart safety on a broker that forgets: re-send what was sent to a broker that is gone.

The embedded broker keeps topics and offsets in memory. When it is stopped or killed and
started again, it is a new, empty broker: every event a service's outbox relay had sent (and
marked sent) but a consumer had not yet read is gone. So each service keeps its sent outbox rows
for a retention window (`OUTBOX_RETENTION_HOURS`) and watches which broker it talks to:

- The broker's identity is the first record of a one-partition marker topic. The first service
  to find the topic empty writes a random id; every service reads the record at the earliest
  offset, so all services agree on it. A memory broker that restarted has no marker, gets a new
  one, and is thereby a new incarnation. (Kafka's cluster id cannot serve: tansu reports the
  same configured id after every restart.) On a real Kafka the topic is kept forever
  (`retention.ms=-1`), so the marker stays the same for the life of the cluster.
- `BrokerWatch.check` runs when the service connects and then every `INCARNATION_CHECK_SECONDS`.
  When the marker differs from the one recorded in the service's database, one transaction
  marks every retained outbox row unsent again and records the new marker (bumping `epoch`);
  the relay then sends them in `seq` order. Consumers dedupe by `source` + `id`, so a copy that
  had already been consumed changes nothing.
- A new broker has no committed offsets. Consumers read from the earliest offset then
  (`auto_offset_reset="earliest"`), and when this process sees the marker change it also seeks
  its own consumers to the beginning: an in-flight batch from the old broker may have committed
  its old (higher) offsets into the new one, which would skip the re-sent events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from .kafka import ensure_topics, rewind_to_beginning
from .outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

MARKER_TOPIC = "partygrid.broker.incarnation"
_MARKER = TopicPartition(MARKER_TOPIC, 0)


async def create_topics(bootstrap: str, partitions: int, replication_factor: int = 1) -> None:
    """Every event topic, and the marker topic (one partition, kept forever)."""
    await ensure_topics(bootstrap, partitions, replication_factor=replication_factor)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        if MARKER_TOPIC not in set(await admin.list_topics()):
            marker = NewTopic(
                MARKER_TOPIC, 1, replication_factor, topic_configs={"retention.ms": "-1"}
            )
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([marker])
    finally:
        await admin.close()


class BrokerWatch:
    """Finds out which broker incarnation the service talks to, and acts when it changes."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        bootstrap: str,
        partitions: int,
        replication_factor: int = 1,
        service: str,
        consumers: Callable[[], Sequence[AIOKafkaConsumer]] = tuple,
        check_seconds: float = 1.0,
    ) -> None:
        self.pool = pool
        self.producer = producer
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.service = service
        self.consumers = consumers
        self.check_seconds = check_seconds
        self.seen: str | None = None  # the marker this process last saw
        self.generation = 0  # how often this process saw the marker change
        self.resent = 0  # outbox rows marked unsent again by this process
        self._recorded: str | None = None  # the marker this process last recorded
        self._reader: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """First check (raises if the broker cannot be read), then keep checking."""
        await self.check()
        self._task = asyncio.create_task(self._run(), name=f"broker-watch-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._reader:
            with contextlib.suppress(Exception):
                await self._reader.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                # a check must never hang the watch: a reader stuck on a broker that died is
                # given up, and the next check starts with a new connection
                await asyncio.wait_for(self.check(), timeout=max(15.0, 5 * self.check_seconds))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: the next check tries again
                log.info("broker incarnation check failed (%r); retrying with a new reader", exc)
                await self._drop_reader()

    async def check(self) -> None:
        marker = await self.read_marker()
        if self.seen is not None and marker != self.seen:
            self.generation += 1
            log.warning("the broker is a new incarnation (%s); reading from the start", marker)
            await self.rewind_consumers()
        self.seen = marker
        if marker != self._recorded:  # the database is only asked when there is news
            await self.record(marker)
            self._recorded = marker

    async def rewind_consumers(self) -> None:
        for consumer in self.consumers():
            with contextlib.suppress(Exception):
                await rewind_to_beginning(consumer)

    async def record(self, marker: str) -> int:
        """Compare with the marker recorded in the database; on a change, mark every retained
        outbox row unsent. Returns how many rows will be sent again."""
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await conn.fetchval("SELECT incarnation FROM broker_incarnation FOR UPDATE")
            if stored == marker:
                return 0
            # FOR UPDATE above waits for a relay step that is marking rows sent (it holds the
            # row FOR SHARE), so rows it marked are in this statement's snapshot.
            status = await conn.execute(
                "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL"
            )
            await conn.execute(
                "UPDATE broker_incarnation SET incarnation = $1, epoch = epoch + 1, "
                "seen_at = now()",
                marker,
            )
            await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
        count = int(status.split()[-1])
        self.resent += count
        if stored:
            log.warning(
                "broker incarnation changed (%s → %s): re-sending %d retained outbox events",
                stored,
                marker,
                count,
            )
        return count

    async def read_marker(self) -> str:
        """The marker record at the earliest offset, writing one first if there is none."""
        for attempt in range(3):
            reader = await self._marker_reader()
            try:
                await reader.seek_to_beginning(_MARKER)
                end = (await reader.end_offsets([_MARKER]))[_MARKER]
                if end == 0:
                    # a new, empty broker (tansu creates a topic on first use, with its default
                    # partition count): create every topic with ours before anything else does
                    await create_topics(self.bootstrap, self.partitions, self.replication_factor)
                    await self.producer.send_and_wait(
                        MARKER_TOPIC, uuid.uuid4().hex.encode(), key=b"incarnation"
                    )
                    continue
                batch = await reader.getmany(_MARKER, timeout_ms=2000, max_records=1)
                records = batch.get(_MARKER)
                if records and records[0].value:
                    return records[0].value.decode()
                await self._drop_reader()  # nothing read: try again with a fresh connection
            except Exception:
                if attempt == 2:
                    raise
                # the topic is gone (a new, empty broker): create every topic again
                await create_topics(self.bootstrap, self.partitions, self.replication_factor)
                await self._drop_reader()
        raise RuntimeError("no broker incarnation marker could be read")

    async def _marker_reader(self) -> AIOKafkaConsumer:
        if self._reader is None:
            reader = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id=f"partygrid-{self.service}-incarnation",
                request_timeout_ms=5000,
            )
            await reader.start()
            reader.assign([_MARKER])
            self._reader = reader
        return self._reader

    async def _drop_reader(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader.stop()
            self._reader = None
