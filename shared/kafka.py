"""Kafka plumbing shared by every service: the FastStream broker, topic creation and the
inbox-backed batch subscriber."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaRouter
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from .events import all_topics
from .metrics import CONSUMER_LAG, REGISTRY
from .settings import Settings

if TYPE_CHECKING:
    from .inbox import InboxConsumer

log = logging.getLogger(__name__)


# How long a stopping service lets the batch in hand finish (apply, commit, ack) before it
# gives up; a pod's termination grace period must cover it (deploy/kubernetes checks this).
GRACEFUL_TIMEOUT_SECONDS = 15.0


def producer_options(settings: Settings) -> dict[str, Any]:
    """Delivery options of every producer of a service. acks=all always; idempotence only
    where the broker offers it (`KAFKA_IDEMPOTENT_PRODUCER`): the embedded broker (tansu) has
    no idempotent producer, and there duplicates from retries are absorbed by the consumers'
    inbox. On Apache Kafka idempotence also keeps a retried batch from being written twice or
    out of order within a partition."""
    return {"enable_idempotence": settings.kafka_idempotent_producer, "acks": "all"}


def create_broker(settings: Settings) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"partygrid-{settings.service_name}",
        linger_ms=5,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name)],
        logger=logging.getLogger(f"faststream.{settings.service_name}"),
        graceful_timeout=GRACEFUL_TIMEOUT_SECONDS,
        **producer_options(settings),
    )


def create_producer(settings: Settings) -> AIOKafkaProducer:
    """The outbox relay's producer: plain aiokafka, because the relay sends thousands of
    already-encoded events at a time and FastStream's per-message publish path (middlewares,
    a task per message) cost more CPU than everything else in the relay."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"partygrid-{settings.service_name}-outbox",
        linger_ms=5,
        max_batch_size=1024 * 1024,
        **producer_options(settings),
    )


async def ensure_topics(
    bootstrap: str,
    partitions: int,
    topics: Sequence[str] | None = None,
    replication_factor: int = 1,
) -> None:
    """Create the suite's topics if missing (idempotent; safe when several start at once).
    Where an operator manages topics (Strimzi), they exist already and this creates none."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in (topics or all_topics()) if t not in existing]
        for topic in wanted:
            try:
                await admin.create_topics([NewTopic(topic, partitions, replication_factor)])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


class Incarnations(Protocol):
    """What the subscriber reads of the broker watch (shared.incarnation.BrokerWatch, which
    builds on this module): how many broker replacements it has seen."""

    generation: int


class ConsumerSlot:
    """Filled by the app's lifespan once the database pool exists; handlers read it."""

    consumer: InboxConsumer | None = None
    watch: Incarnations | None = None
    generation: int = 0  # the broker incarnations this subscriber has caught up with


def add_inbox_subscriber(
    router: KafkaRouter,
    settings: Settings,
    topics: Sequence[str],
    slot: ConsumerSlot,
    *,
    group_id: str | None = None,
) -> Any:
    """One batch subscriber over `topics` in the service's consumer group.

    Offsets are committed (acked) only when the handler returns, i.e. after the inbox
    transaction committed; an exception nacks, which rewinds every partition of the batch to
    its first record so nothing past an unapplied message is committed.
    """

    @router.subscriber(
        *topics,
        group_id=group_id or settings.consumer_group,
        batch=True,
        max_records=settings.consumer_max_records,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_decoder,
        title=f"{settings.service_name}-inbox",
        description=f"The {settings.service_name} service's inbox: " + ", ".join(topics),
    )
    async def inbox(body: Any, message: KafkaMessage) -> None:
        assert slot.consumer is not None, "consumer used before the app started"
        records = message.raw_message
        if not isinstance(records, (tuple, list)):
            records = (records,)
        await slot.consumer.handle(records)
        _record_lag(settings.service_name, message, records)
        if slot.watch is not None and slot.watch.generation != slot.generation:
            # the broker was replaced while this batch was in flight: its offsets belong to the
            # old broker, so read the new one from the start (the inbox skips what it has)
            generation = slot.watch.generation
            await _rewind(message)
            slot.generation = generation  # only once the rewind is committed

    return inbox


async def rewind_to_beginning(consumer: AIOKafkaConsumer) -> None:
    """Read every assigned partition of a new broker from its start, and commit that start.

    Seeking alone is not enough: offsets of the old broker may already be committed in the new
    one (a batch acknowledged before the change was seen), and a consumer that re-joins its
    group after the change resumes from the committed offset, skipping the re-sent events."""
    assigned = consumer.assignment()
    if not assigned:
        return
    beginnings = await consumer.beginning_offsets(list(assigned))
    await consumer.commit(beginnings)
    for tp, offset in beginnings.items():
        consumer.seek(tp, offset)


async def _rewind(message: KafkaMessage) -> None:
    consumer = getattr(message, "consumer", None)
    if consumer is not None:
        await rewind_to_beginning(consumer)


async def _raw_decoder(msg: Any) -> Any:
    # The inbox parses and validates itself, so a malformed body reaches it as bytes and is
    # dead-lettered with a reason instead of failing inside FastStream's JSON decoder.
    return None


def _record_lag(service: str, message: KafkaMessage, records: Sequence[Any]) -> None:
    consumer = getattr(message, "consumer", None)
    if consumer is None or not hasattr(consumer, "highwater"):
        return
    last: dict[tuple[str, int], int] = {}
    for r in records:
        last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
    from aiokafka import TopicPartition

    for (topic, partition), offset in last.items():
        try:
            high = consumer.highwater(TopicPartition(topic, partition))
        except Exception:
            continue
        if high is not None:
            CONSUMER_LAG.labels(service, topic, str(partition)).set(max(high - offset - 1, 0))
