"""Examples of the events scoring publishes: points changed, a period closed, feedback issued."""

from __future__ import annotations

from typing import Any

from ..scoring import FEEDBACK_ISSUED, PERIOD_CLOSED, POINTS_CHANGED
from .common import event

EXAMPLES: list[dict[str, Any]] = [
    event(
        POINTS_CHANGED,
        "/partygrid/scoring",
        "0b9f6a52-3f4e-4c1e-9a47-1d2c3b4a5e6f",
        "2026-11-21T09:30:01+08:00",
        "M000123",
        {"member_id": "M000123", "period": "2026-11", "points": "37.00", "delta": "5.00"},
    ),
    event(
        PERIOD_CLOSED,
        "/partygrid/scoring",
        "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        "2026-12-02T09:00:00+08:00",
        "2026-11",
        {
            "period": "2026-11",
            "closed_at": "2026-12-02T01:00:00Z",
            "closed_by": "city-office",
            "members": 1200,
            "total_points": "18420.50",
            "active_members": 1100,
            "zero_point_members": 100,
        },
    ),
    event(
        FEEDBACK_ISSUED,
        "/partygrid/scoring",
        "6c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f",
        "2027-01-04T09:00:00+08:00",
        "ORG-017",
        {
            "party_org_id": "ORG-017",
            "period": "2026-H2",
            "members": 42,
            "total_points": "3120.00",
            "zero_point_members": 3,
        },
    ),
]
