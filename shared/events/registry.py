"""Type → schema registry: the single source of truth for which events exist.

One topic per event type, named exactly as the type; the Kafka key is the subject, which is
the value of the spec's `key_field` in `data` (docs/design.md §3.2).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from .envelope import BadEvent, CloudEvent, _format_errors

DEADLETTER_TOPIC = "partygrid.deadletter"


@dataclass(frozen=True)
class EventSpec:
    type: str
    model: builtins.type[BaseModel]  # `type` here is the field above
    key_field: str | None
    description: str


EVENT_TYPES: dict[str, EventSpec] = {}


def register(type: str, key_field: str | None, description: str):
    """Class decorator that registers a data model as the schema of an event type."""

    def wrap(model: builtins.type[BaseModel]) -> builtins.type[BaseModel]:
        if type in EVENT_TYPES:
            raise ValueError(f"event type {type} registered twice")
        if key_field is not None and key_field not in model.model_fields:
            raise ValueError(f"{model.__name__} has no key field {key_field}")
        EVENT_TYPES[type] = EventSpec(type, model, key_field, description)
        return model

    return wrap


def all_topics() -> list[str]:
    """Every topic the suite uses, dead letters included."""
    return sorted(EVENT_TYPES)


def validate_data(event: CloudEvent, topic: str | None = None) -> BaseModel:
    """Check the event belongs on `topic` and its data matches its type's schema."""
    spec = EVENT_TYPES.get(event.type)
    if spec is None:
        raise BadEvent(
            "unknown_type", f"unknown event type {event.type!r}; known: {sorted(EVENT_TYPES)}"
        )
    if topic is not None and topic != event.type:
        raise BadEvent(
            "wrong_topic",
            f"event of type {event.type} on topic {topic}; "
            "each type has its own topic named exactly as the type",
        )
    try:
        data = spec.model.model_validate(event.data)
    except ValidationError as exc:
        raise BadEvent("invalid_data", f"{event.type}: {_format_errors(exc)}") from None
    if (
        spec.key_field is not None
        and event.subject is not None
        and event.subject != getattr(data, spec.key_field)
    ):
        raise BadEvent(
            "invalid_data",
            f"subject {event.subject!r} differs from data.{spec.key_field} "
            f"{getattr(data, spec.key_field)!r}",
        )
    return data
