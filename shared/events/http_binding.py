"""The CloudEvents 1.0 HTTP binding: an HTTP request to the canonical structured events.

Many city systems only speak HTTP. A request in any of the binding's three modes becomes the
same structured-mode bytes a Kafka message carries, and those go through the very checks a
consumer applies to its Kafka input (`parse_envelope`, `validate_data`, `check_time`):

- structured: `Content-Type: application/cloudevents+json`, the body is one event;
- batch: `Content-Type: application/cloudevents-batch+json`, the body is a JSON array of events;
- binary: the attributes are `ce-*` headers (values percent-encoded, as the binding says), the
  body is `data` and `Content-Type` is its `datacontenttype` (only `application/json` here).

Pure: no I/O. Raises `BadEvent` (the dead-letter reasons) with what was wrong and what is
accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel

from .envelope import BadEvent, CloudEvent, check_time, parse_envelope
from .registry import validate_data

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
ACCEPTED_MODES = (
    f"structured ({STRUCTURED}: one event), batch ({BATCH}: a JSON array of events) or binary "
    "(ce-specversion, ce-id, ce-source, ce-type, ce-time headers, optional ce-subject; the body "
    "is data with Content-Type application/json)"
)


@dataclass(frozen=True)
class Accepted:
    """An event that passed every check: the envelope, its typed data, the canonical bytes."""

    event: CloudEvent
    data: BaseModel
    value: bytes


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def mode_of(headers: Mapping[str, str]) -> str:
    """structured, batch or binary; raises BadEvent for a request that is none of them."""
    kind = media_type(headers.get("content-type"))
    if kind == STRUCTURED:
        return "structured"
    if kind == BATCH:
        return "batch"
    if "ce-specversion" in headers:
        return "binary"
    raise BadEvent(
        "not_cloudevent",
        f"Content-Type {kind or '(none)'} without ce-* headers is not a CloudEvent; send "
        + ACCEPTED_MODES,
    )


def decode_request(headers: Mapping[str, str], body: bytes) -> tuple[str, list[bytes]]:
    """The mode and each event as structured-mode JSON bytes (what a Kafka message carries).
    `headers` must be case-insensitive (Starlette's are) or lower-case."""
    mode = mode_of(headers)
    if mode == "structured":
        return mode, [body]
    if mode == "batch":
        try:
            items = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadEvent("not_json", f"a batch must be a JSON array of events: {exc}") from None
        if not isinstance(items, list) or not items:
            raise BadEvent("not_cloudevent", "a batch must be a non-empty JSON array of events")
        return mode, [json.dumps(item, ensure_ascii=False).encode() for item in items]
    return mode, [_binary_to_structured(headers, body)]


def _binary_to_structured(headers: Mapping[str, str], body: bytes) -> bytes:
    kind = media_type(headers.get("content-type"))
    if kind != "application/json":
        raise BadEvent(
            "not_cloudevent",
            f"binary mode: Content-Type (the datacontenttype) must be application/json, "
            f"not {kind or '(none)'}",
        )
    event: dict[str, Any] = {
        name[3:].lower(): unquote(value)
        for name, value in headers.items()
        if name.lower().startswith("ce-")
    }
    try:
        event["data"] = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent("not_json", f"binary mode: the body (data) is not JSON: {exc}") from None
    event["datacontenttype"] = "application/json"
    return json.dumps(event, ensure_ascii=False).encode()


def check_event(raw: bytes) -> Accepted:
    """Exactly the checks of a consumer's Kafka input; the topic is the event's type."""
    event = parse_envelope(raw)
    data = validate_data(event, event.type)
    check_time(event)
    return Accepted(event, data, event.to_bytes())
