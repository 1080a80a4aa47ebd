"""What a consumer takes from Kafka, before the inbox applies it: the record, the event it
parsed into, or the reason it was refused and the dead-letter event that announces the refusal.
The inbox (shared/inbox.py) and scoring's set-based path parse and refuse with these alike."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .events import (
    DEADLETTER_TOPIC,
    BadEvent,
    CloudEvent,
    DeadLetter,
    DeadLetterHeader,
    check_time,
    new_event,
    validate_data,
)
from .events.kafka_binding import Headers, decode_event


@dataclass(frozen=True)
class Record:
    """The parts of a Kafka record the inbox needs (aiokafka's ConsumerRecord has them)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    # (name, value) pairs as they came; empty for a structured-mode record without headers
    headers: Headers = ()

    @classmethod
    def of(cls, r: Any) -> Record:
        return cls(r.topic, r.partition, r.offset, r.key, r.value, r.headers or ())


@dataclass(frozen=True)
class Incoming:
    """A consumed message that parsed and validated: the envelope and its typed data."""

    event: CloudEvent
    data: Any
    record: Record
    digest: bytes = field(repr=False, default=b"")


@dataclass
class Rejected:
    """A consumed message refused: why, and its envelope when that much parsed."""

    record: Record
    reason: str
    detail: str
    event: CloudEvent | None = None


def parse_record(record: Record) -> Incoming:
    """Envelope (either Kafka content mode), type-for-topic, data schema and time checks;
    raises BadEvent."""
    event = decode_event(record.headers, record.value)
    data = validate_data(event, record.topic)
    check_time(event)
    return Incoming(event=event, data=data, record=record, digest=event.digest())


def rejection(record: Record, exc: BadEvent) -> Rejected:
    """A message parse_record refused, with its envelope when that much parses."""
    event = None
    try:
        event = decode_event(record.headers, record.value)
    except BadEvent:
        pass
    return Rejected(record, exc.reason, exc.detail, event)


def dead_letter_event(
    service: str, source: str, r: Rejected, rejected_at: datetime | None = None
) -> CloudEvent:
    value_text = None
    if r.record.value is not None:
        try:
            value_text = r.record.value.decode()
        except UnicodeDecodeError:
            value_text = None
    data = DeadLetter(
        service=service,
        reason=r.reason,
        detail=r.detail,
        topic=r.record.topic,
        partition=r.record.partition,
        offset=r.record.offset,
        key_b64=base64.b64encode(r.record.key).decode() if r.record.key else None,
        value_b64=base64.b64encode(r.record.value).decode() if r.record.value else None,
        value_text=value_text,
        event_source=r.event.source if r.event else None,
        event_id=r.event.id if r.event else None,
        event_type=r.event.type if r.event else None,
        headers=[DeadLetterHeader.of(name, raw) for name, raw in r.record.headers] or None,
        rejected_at=rejected_at or datetime.now(UTC),
    )
    return new_event(type=DEADLETTER_TOPIC, source=source, data=data, subject=None)
