"""The CloudEvents Kafka protocol binding: one Kafka record (headers + value) → the canonical
CloudEvent every consumer validates, dedupes and applies.

The binding has two content modes and a consumer should accept both, because producers pick
either (the CloudEvents SDKs' `to_binary`, Knative's Kafka sink and many others send binary):

- structured: the whole event is the JSON value; the `content-type` header, when present,
  starts with `application/cloudevents` (e.g. `application/cloudevents+json`);
- binary: each attribute is a `ce_<name>` header (UTF-8), the value is the `data` alone and
  the `content-type` header is the `datacontenttype`.

The mode is told by the `content-type` header, as the binding says. A record with neither a
`content-type` nor any `ce_` header is structured — that is what PartyGrid's own services and
every producer written before binary mode send — and so is one whose `content-type` is not a
CloudEvents one but that has no `ce_` header at all (the Python SDK's `to_structured` moves
`datacontenttype` into `content-type`). Both modes end in the same `CloudEvent`, so
validation, the inbox's `source` + `id` dedupe and its content digest (computed on the
event, not on the bytes) treat a binary and a structured copy of one event as the same event.

Decoding is a function of (headers, value) so the HTTP binding and the dead-letter re-publish
use the same rules; a record without headers costs one truthiness check on top of the
structured parser (the scoring consumer's hot path).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from .envelope import BadEvent, CloudEvent, parse_envelope

Headers = Sequence[tuple[str, bytes]]

STRUCTURED = "application/cloudevents"
JSON_MEDIA_TYPE = "application/json"
# What PartyGrid needs of a binary event: the binding's required attributes plus `time`,
# which the contract requires of every event (see envelope.CloudEvent).
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")
ACCEPTED = (
    "accepted: structured mode (the CloudEvent JSON as the value, content-type absent or "
    "application/cloudevents+json) or binary mode (ce_specversion, ce_id, ce_source, ce_type, "
    "ce_time headers, content-type application/json, the data JSON object as the value)"
)


def decode_event(headers: Headers | None, value: bytes | None) -> CloudEvent:
    """The CloudEvent a Kafka record carries, in either content mode; raises BadEvent."""
    if not headers:
        return parse_envelope(value)
    content_type: str | None = None
    attributes: dict[str, bytes] = {}
    for name, raw in headers:
        lowered = name.lower()
        if lowered == "content-type":
            content_type = _text(name, raw).strip()
        elif lowered.startswith("ce_"):
            attributes[lowered] = raw
    if content_type is not None and content_type.lower().startswith(STRUCTURED):
        if content_type.lower().startswith(STRUCTURED + "-batch"):
            raise BadEvent(
                "not_cloudevent", f"batched CloudEvents ({content_type}) are not read; {ACCEPTED}"
            )
        return parse_envelope(value)
    if not attributes:
        return parse_envelope(value)
    return _binary(attributes, content_type, value)


def _text(header: str, raw: bytes | None) -> str:
    try:
        return (raw or b"").decode()
    except UnicodeDecodeError:
        raise BadEvent("not_cloudevent", f"header {header} is not UTF-8; {ACCEPTED}") from None


def _binary(
    attributes: dict[str, bytes], content_type: str | None, value: bytes | None
) -> CloudEvent:
    missing = [h for h in REQUIRED_HEADERS if h not in attributes]
    if missing:
        raise BadEvent(
            "not_cloudevent",
            f"binary-mode CloudEvent without the {', '.join(missing)} header"
            f"{'s' if len(missing) > 1 else ''}; {ACCEPTED}",
        )
    media_type = (content_type or JSON_MEDIA_TYPE).split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise BadEvent(
            "not_cloudevent",
            f"binary-mode content-type {content_type!r}: the data must be application/json",
        )
    if value is None:
        raise BadEvent(
            "not_json", "binary-mode CloudEvent without a value; the data JSON is expected"
        )
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent("not_json", f"binary-mode data is not valid UTF-8 JSON: {exc}") from None
    body: dict[str, Any] = {name[3:]: _text(name, raw) for name, raw in attributes.items()}
    body["datacontenttype"] = JSON_MEDIA_TYPE
    body["data"] = data
    try:
        return CloudEvent.model_validate(body)
    except ValidationError as exc:
        raise BadEvent(
            "not_cloudevent", f"not a valid binary-mode CloudEvent: {_header_errors(exc)}"
        ) from None


def _header_errors(exc: ValidationError) -> str:
    """Validation errors named as the producer wrote them: ce_time, not time; data stays data."""
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] != "data":
            loc[0] = f"ce_{loc[0]}"
        parts.append(f"{'.'.join(loc) or '(message)'}: {err['msg']}")
    return "; ".join(parts)


def headers_to_json(headers: Headers | None) -> str | None:
    """Headers as stored with a dead letter or an outbox row (jsonb; values base64): order
    and repeated names are kept so a re-publish sends exactly what came."""
    if not headers:
        return None
    return json.dumps([[name, base64.b64encode(raw or b"").decode()] for name, raw in headers])


def headers_from_json(stored: str | None) -> list[tuple[str, bytes]] | None:
    if stored is None:
        return None
    return [(name, base64.b64decode(b64)) for name, b64 in json.loads(stored)]
