"""Examples of the events about activities, wishes, projects and the time bank."""

from __future__ import annotations

from typing import Any

from ..activities import (
    ACTIVITY_CANCELLED,
    ACTIVITY_LOGGED,
    ACTIVITY_PUBLISHED,
    ACTIVITY_REVOKED,
    PROJECT_CREATED,
    WISH_CLAIMED,
    WISH_POSTED,
)
from ..timebank import TIMEBANK_CHANGED, TIMEBANK_OFFER_CHANGED
from .common import T, event

EXAMPLES: list[dict[str, Any]] = [
    event(
        ACTIVITY_LOGGED,
        "/city/volunteer-platform",
        "vp-2026-000123",
        T,
        "M000123",
        {
            "member_id": "M000123",
            "activity_id": "A-778",
            "activity_type": "volunteer_service",
            "community_id": "350302001001",
            "hours": 2.5,
        },
    ),
    event(
        ACTIVITY_REVOKED,
        "/city/volunteer-platform",
        "vp-2026-000123-revoked",
        "2026-11-21T18:00:00+08:00",
        "M000123",
        {
            "member_id": "M000123",
            "revokes": {"source": "/city/volunteer-platform", "id": "vp-2026-000123"},
            "reason": "logged twice",
        },
    ),
    event(
        ACTIVITY_PUBLISHED,
        "/partygrid/activities",
        "activity/A-778/published",
        "2026-11-15T10:00:00+08:00",
        "A-778",
        {
            "activity_id": "A-778",
            "activity_type": "volunteer_service",
            "title": "社区环境清洁志愿服务",
            "organiser_kind": "community",
            "organiser_id": "350302001001",
            "community_id": "350302001001",
            "starts_at": "2026-11-21T08:00:00+08:00",
            "ends_at": "2026-11-21T11:00:00+08:00",
            "place": "凤山社区党群服务中心",
            "capacity": 30,
        },
    ),
    event(
        ACTIVITY_CANCELLED,
        "/partygrid/activities",
        "activity/A-781/cancelled",
        T,
        "A-781",
        {"activity_id": "A-781", "reason": "heavy rain warning"},
    ),
    event(
        WISH_POSTED,
        "/partygrid/activities",
        "wish/W-0456/posted",
        T,
        "W-0456",
        {
            "wish_id": "W-0456",
            "community_id": "350302001001",
            "title": "独居老人希望有人帮忙修理收音机",
            "expires_at": "2026-12-21T00:00:00+08:00",
        },
    ),
    event(
        WISH_CLAIMED,
        "/partygrid/activities",
        "wish/W-0456/claimed/M000123",
        T,
        "W-0456",
        {"wish_id": "W-0456", "member_id": "M000123", "community_id": "350302001001"},
    ),
    event(
        PROJECT_CREATED,
        "/partygrid/activities",
        "project/P-0031/created",
        T,
        "P-0031",
        {
            "project_id": "P-0031",
            "item_id": "N-0102",
            "item_kind": "need",
            "community_id": "350302001001",
            "unit_id": "U0112",
            "title": "社区义诊进网格",
        },
    ),
    event(
        TIMEBANK_CHANGED,
        "/partygrid/activities",
        "timebank/TBE-5f0c2a9d41e7b3c8a6d2e1f0",
        T,
        "M000123",
        {
            "account_id": "M000123",
            "entry_id": "TBE-5f0c2a9d41e7b3c8a6d2e1f0",
            "kind": "earned",
            "hours": "2.50",
            "balance": "14.00",
            "community_id": "350302001001",
            "logged": {"source": "/city/volunteer-platform", "id": "vp-2026-000123"},
        },
    ),
    event(
        TIMEBANK_OFFER_CHANGED,
        "/partygrid/activities",
        "timebank/offer/TO-0007/listed",
        T,
        "TO-0007",
        {
            "offer_id": "TO-0007",
            "community_id": "350302001001",
            "title": "上门理发一次",
            "hours": "2.00",
            "status": "listed",
        },
    ),
]
