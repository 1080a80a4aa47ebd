"""The Kafka binding's decoding rules (shared.events.kafka_binding), without a broker: how the
content mode is told from the headers, and what a bad binary message is told."""

from __future__ import annotations

import json

import pytest
from cloudevents.v1.http import CloudEvent as LegacySdkEvent
from cloudevents.v1.kafka import to_structured as legacy_to_structured

from dev.testing import cloud_event
from shared.events import ACTIVITY_LOGGED, BadEvent
from shared.events.kafka_binding import decode_event

from .sdk import sdk_message

EVENT = cloud_event(
    ACTIVITY_LOGGED,
    {"member_id": "M1", "activity_type": "study"},
    subject="M1",
    id="e-1",
    time="2026-11-05T10:00:00+08:00",
)


def test_both_content_modes_give_the_same_event_and_digest() -> None:
    decoded = []
    for mode in ("binary", "structured"):
        _, value, headers = sdk_message(EVENT, mode)  # type: ignore[arg-type]
        decoded.append(decode_event(headers, value))
    assert decoded[0] == decoded[1]
    assert decoded[0].digest() == decoded[1].digest()


def test_structured_content_type_wins_over_ce_headers() -> None:
    headers = [("content-type", b"application/cloudevents+json"), ("ce_id", b"other")]
    assert decode_event(headers, json.dumps(EVENT).encode()).id == "e-1"


def test_a_record_without_ce_headers_is_structured_whatever_its_content_type() -> None:
    # the SDK's older Kafka API moves datacontenttype into content-type in structured mode
    legacy = LegacySdkEvent({k: v for k, v in EVENT.items() if k != "data"}, EVENT["data"])
    message = legacy_to_structured(legacy)
    assert message.headers == {"content-type": b"application/json"}
    assert decode_event(list(message.headers.items()), message.value).id == "e-1"


def test_binary_data_must_be_json() -> None:
    _, value, headers = sdk_message(EVENT, "binary")
    as_text = [(n, b"text/plain" if n == "content-type" else v) for n, v in headers]
    with pytest.raises(BadEvent) as plain:
        decode_event(as_text, value)
    assert plain.value.reason == "not_cloudevent" and "application/json" in plain.value.detail
    with pytest.raises(BadEvent) as broken:
        decode_event(headers, b'{"member_id": ')
    assert broken.value.reason == "not_json"


def test_a_bad_binary_attribute_is_named_by_its_header() -> None:
    _, value, headers = sdk_message(EVENT, "binary")
    no_offset = [(n, b"2026-11-05T10:00:00" if n == "ce_time" else v) for n, v in headers]
    with pytest.raises(BadEvent) as exc:
        decode_event(no_offset, value)
    assert exc.value.reason == "not_cloudevent" and "ce_time" in exc.value.detail
