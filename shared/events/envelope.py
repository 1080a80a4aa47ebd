"""The CloudEvents 1.0 envelope that every PartyGrid message uses, in its structured JSON form
(kafka_binding.py decodes a binary-mode Kafka record into the same model).

`source` + `id` identify an event; `time` is when it happened in the world and is required;
the Kafka topic is the event type and the key is the subject (docs/design.md §3). Parsing is strict and
raises `BadEvent` with a short machine reason and a human detail, which is what the dead-letter
topic records.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from .types import Id

MAX_FUTURE = timedelta(days=1)


class BadEvent(Exception):
    """A message that can never be applied; it goes to the dead-letter topic.

    `reason` is one of a small, fixed set of codes (it is a metric label); `detail` says what
    was wrong and what is accepted.
    """

    REASONS = (
        "not_json",
        "not_cloudevent",
        "unknown_type",
        "wrong_topic",
        "invalid_data",
        "time_in_future",
        "conflict",
        "processing_error",
    )

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event: what a structured-mode message holds, and what a binary-mode
    one (attributes in headers) is decoded into."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = Field(description="CloudEvents version; always 1.0.")
    id: str = Field(min_length=1, max_length=256, description="Event id, unique per source.")
    source: str = Field(
        min_length=1, max_length=512, description="URI-reference of the system that produced it."
    )
    type: str = Field(min_length=1, description="Event type, e.g. partygrid.activity.logged.")
    time: AwareDatetime = Field(description="When it happened in the world (RFC 3339 with offset).")
    subject: Id | None = Field(default=None, description="The entity it is about; the Kafka key.")
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="Always application/json."
    )
    data: dict[str, Any] = Field(description="The event's payload, validated by its type's model.")

    @property
    def identity(self) -> tuple[str, str]:
        return (self.source, self.id)

    def digest(self) -> bytes:
        """A stable fingerprint of the content, to tell a redelivery from a conflicting reuse."""
        return event_digest(self.type, self.time, self.subject, self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


_DIGEST_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def event_digest(type: str, time: datetime, subject: str | None, data: dict[str, Any]) -> bytes:
    """`CloudEvent.digest` from its parts (the raw `data` dict as received), for decoders that
    validate into other models; one definition, so both paths store and compare the same."""
    body = {
        "type": type,
        "time": time.astimezone(UTC).isoformat(),
        "subject": subject,
        "data": data,
    }
    return hashlib.sha256(_DIGEST_ENCODER.encode(body).encode()).digest()[:16]


def _format_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(message)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_envelope(raw: bytes | None) -> CloudEvent:
    """Parse bytes into a CloudEvent, or raise BadEvent saying why not."""
    if raw is None:
        raise BadEvent(
            "not_json", "empty message (tombstone); a CloudEvent JSON object is expected"
        )
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent("not_json", f"not valid UTF-8 JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadEvent(
            "not_cloudevent", "a JSON object with CloudEvents 1.0 attributes is expected"
        )
    try:
        return CloudEvent.model_validate(body)
    except ValidationError as exc:
        raise BadEvent(
            "not_cloudevent",
            "not a CloudEvents 1.0 structured event (specversion, id, source, type, time with "
            f"offset, data required): {_format_errors(exc)}",
        ) from None


def check_time(event: CloudEvent, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    if event.time - now > MAX_FUTURE:
        raise BadEvent(
            "time_in_future",
            f"time {event.time.isoformat()} is more than a day ahead of now ({now.isoformat()})",
        )


def encode_event(
    *, type: str, source: str, subject: str | None, data: dict[str, Any], time: datetime
) -> bytes:
    """The bytes `new_event(...).to_bytes()` gives, for a hot path that emits many events whose
    `data` is already JSON-ready (plain str/number values): no model is built or validated,
    so the caller must pass what the type's schema accepts (a test checks both agree)."""
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": type,
        "time": time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    if subject is not None:
        body["subject"] = subject
    body["datacontenttype"] = "application/json"
    body["data"] = data
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def new_event(
    *,
    type: str,
    source: str,
    data: BaseModel,
    subject: str | None,
    time: datetime | None = None,
    id: str | None = None,
) -> CloudEvent:
    """Build an event this service publishes, from a validated data model."""
    return CloudEvent(
        specversion="1.0",
        id=id or str(uuid.uuid4()),
        source=source,
        type=type,
        time=time or datetime.now(UTC),
        subject=subject,
        datacontenttype="application/json",
        data=data.model_dump(mode="json", exclude_none=True),
    )
