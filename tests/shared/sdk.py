"""Publishing as an outside producer does with the official CloudEvents Python SDK: one
PartyGrid event (a structured-mode dict, as `dev.testing.cloud_event` builds it) through the
SDK's Kafka binding, in binary or structured content mode, onto the real broker."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from cloudevents.core.bindings import kafka as binding
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as SdkEvent

Mode = Literal["binary", "structured"]
MODES: tuple[Mode, ...] = ("binary", "structured")


def sdk_message(
    event: dict[str, Any], mode: Mode
) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) the SDK's Kafka binding makes of `event` in `mode`."""
    attributes = {k: v for k, v in event.items() if k != "data" and v is not None}
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    sdk_event = SdkEvent(attributes=attributes, data=event["data"])
    convert = binding.to_binary if mode == "binary" else binding.to_structured
    message = convert(sdk_event, JSONFormat(), key_mapper=lambda e: e.get_subject())
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return key, message.value, list(message.headers.items())


async def send(
    producer: AIOKafkaProducer,
    topic: str,
    event: dict[str, Any],
    mode: Mode,
    *,
    drop: str | None = None,
) -> RecordMetadata:
    """Send `event` in `mode`; `drop` leaves out one header (to make a bad binary message)."""
    key, value, headers = sdk_message(event, mode)
    headers = [(name, raw) for name, raw in headers if name != drop]
    return await (await producer.send(topic, value, key=key, headers=headers))
