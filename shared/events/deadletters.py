"""The dead-letter event: a message a consumer could not apply, kept with everything needed to
understand it and re-publish it after a fix (docs/design.md §3.5)."""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .registry import DEADLETTER_TOPIC, register


class DeadLetterHeader(BaseModel):
    """One Kafka header of the original message (binary-mode CloudEvents carry their
    attributes in `ce_*` headers), in the order it came."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Header name, e.g. ce_id or content-type.")
    value_b64: str = Field(description="Header value, base64.")
    value_text: str | None = Field(
        default=None, description="Header value as text, when it is valid UTF-8."
    )

    @classmethod
    def of(cls, key: str, raw: bytes | None) -> DeadLetterHeader:
        raw = raw or b""
        try:
            text: str | None = raw.decode()
        except UnicodeDecodeError:
            text = None
        return cls(key=key, value_b64=base64.b64encode(raw).decode(), value_text=text)


@register(DEADLETTER_TOPIC, None, "A message that could not be applied, with its reason.")
class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    service: str = Field(description="The service whose consumer rejected the message.")
    reason: str = Field(description="Machine reason: not_json, not_cloudevent, invalid_data, …")
    detail: str = Field(description="What was wrong and what is accepted.")
    topic: str = Field(description="Topic the message was consumed from.")
    partition: int = Field(description="Partition it was consumed from.")
    offset: int = Field(description="Offset it was consumed from.")
    key_b64: str | None = Field(default=None, description="The original key, base64.")
    value_b64: str | None = Field(default=None, description="The original bytes, base64.")
    value_text: str | None = Field(
        default=None, description="The original bytes as text, when they are valid UTF-8."
    )
    event_source: str | None = Field(default=None, description="CloudEvents source, if parsed.")
    event_id: str | None = Field(default=None, description="CloudEvents id, if parsed.")
    event_type: str | None = Field(default=None, description="CloudEvents type, if parsed.")
    headers: list[DeadLetterHeader] | None = Field(
        default=None,
        description="The original Kafka headers (a binary-mode CloudEvent's attributes are "
        "there, its data in value); absent when the message had none.",
    )
    rejected_at: datetime = Field(description="When the consumer rejected it.")
