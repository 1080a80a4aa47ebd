"""The example of a dead letter: a message refused by a consumer, as it is kept for an operator."""

from __future__ import annotations

import base64
from typing import Any

from ..registry import DEADLETTER_TOPIC
from .common import event

_BAD = (
    '{"specversion":"1.0","id":"vp-9","source":"/city/volunteer-platform",'
    '"type":"partygrid.activity.logged","time":"2026-11-21T09:00:00+08:00",'
    '"data":{"member_id":"M000123","activity_type":"volunteer_service","hours":30}}'
)

EXAMPLES: list[dict[str, Any]] = [
    event(
        DEADLETTER_TOPIC,
        "/partygrid/scoring",
        "7d3c1e2a-8b9f-4a6d-b5c4-e3f2a1b0c9d8",
        "2026-11-21T09:30:02+08:00",
        None,
        {
            "service": "scoring",
            "reason": "invalid_data",
            "detail": "partygrid.activity.logged: hours: Input should be less than or equal to 24",
            "topic": "partygrid.activity.logged",
            "partition": 2,
            "offset": 1187,
            "key_b64": "TTAwMDEyMw==",
            "value_b64": base64.b64encode(_BAD.encode()).decode(),
            "value_text": _BAD,
            "event_source": "/city/volunteer-platform",
            "event_id": "vp-9",
            "event_type": "partygrid.activity.logged",
            "rejected_at": "2026-11-21T01:30:02Z",
        },
    ),
]
