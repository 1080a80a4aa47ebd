"""What the examples share: the CloudEvent every example is, and the time most of them carry."""

from __future__ import annotations

from typing import Any

# the time most examples carry
T = "2026-11-21T09:30:00+08:00"


def event(
    type: str, source: str, id: str, time: str, subject: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    """A complete CloudEvent as structured JSON."""
    message: dict[str, Any] = {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type,
        "time": time,
    }
    if subject is not None:
        message["subject"] = subject
    message["datacontenttype"] = "application/json"
    message["data"] = data
    return message
