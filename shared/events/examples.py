"""One example message per event type: a complete CloudEvent as it travels on its topic.

Outside systems copy these from the AsyncAPI documents (each message's payload schema carries
its example) and from the README; tests parse every one through the envelope and the registry,
so an example that stops matching its schema fails the build instead of misleading a reader.
"""

from __future__ import annotations

import base64
from typing import Any

from .activities import (
    ACTIVITY_CANCELLED,
    ACTIVITY_LOGGED,
    ACTIVITY_PUBLISHED,
    ACTIVITY_REVOKED,
    PROJECT_CREATED,
    WISH_CLAIMED,
    WISH_POSTED,
)
from .grids import (
    GRID_BRANCH_ATTACHED,
    GRID_BRANCH_DETACHED,
    GRID_STAFF_ASSIGNED,
    GRID_STAFF_REMOVED,
    INCIDENT_ASSIGNED,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    INCIDENT_OVERDUE,
    INCIDENT_RESOLVED,
    INCIDENT_SUPERVISED,
    VISIT_LOGGED,
)
from .members import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    PARTY_ORG_DEFINED,
    UNIT_AGREEMENT_SIGNED,
    UNIT_REPORTED,
)
from .regions import REGION_DEFINED
from .registry import DEADLETTER_TOPIC
from .satisfaction import SATISFACTION_RATED
from .scoring import FEEDBACK_ISSUED, PERIOD_CLOSED, POINTS_CHANGED
from .timebank import TIMEBANK_CHANGED, TIMEBANK_OFFER_CHANGED
from .units import UNIT_COMMITMENT_UPDATED, UNIT_COMMITTEE_MEMBER_CHANGED, UNIT_REVIEWED


def _event(
    type: str, source: str, id: str, time: str, subject: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type,
        "time": time,
    }
    if subject is not None:
        event["subject"] = subject
    event["datacontenttype"] = "application/json"
    event["data"] = data
    return event


T = "2026-11-21T09:30:00+08:00"
_VISIT = "V-2026-1121-07"
_INCIDENT = "I-2026-0311"
_BAD = (
    '{"specversion":"1.0","id":"vp-9","source":"/city/volunteer-platform",'
    '"type":"partygrid.activity.logged","time":"2026-11-21T09:00:00+08:00",'
    '"data":{"member_id":"M000123","activity_type":"volunteer_service","hours":30}}'
)

EXAMPLES: dict[str, dict[str, Any]] = {
    e["type"]: e
    for e in [
        _event(
            MEMBER_REGISTERED,
            "/city/org-registry",
            "reg-2026-000123",
            T,
            "M000123",
            {
                "member_id": "M000123",
                "name": "林海燕",
                "category": "in_service",
                "party_org_id": "PO-CITY-EDU-07",
                "joined_on": "2008-07-01",
            },
        ),
        _event(
            MEMBER_REPORTED,
            "/partygrid/members",
            "report-M000123-2026",
            T,
            "M000123",
            {
                "member_id": "M000123",
                "community_id": "350302001001",
                "grid_id": "350302001001-G03",
                "skills": ["medical", "tutoring"],
            },
        ),
        _event(
            MEMBER_DEREGISTERED,
            "/city/org-registry",
            "dereg-2026-000045",
            T,
            "M000045",
            {"member_id": "M000045", "reason": "transferred_out"},
        ),
        _event(
            UNIT_REPORTED,
            "/partygrid/members",
            "unit-U0112-reported",
            T,
            "U0112",
            {
                "unit_id": "U0112",
                "name": "莆田市第一医院",
                "party_org_id": "PO-HOSP-01",
                "community_id": "350302001001",
                "member_count": 86,
            },
        ),
        _event(
            PARTY_ORG_DEFINED,
            "/partygrid/members",
            "org-PO-HOSP-01-v1",
            T,
            "PO-HOSP-01",
            {
                "party_org_id": "PO-HOSP-01",
                "name": "莆田市第一医院党委",
                "kind": "hospital",
                "parent_id": "PO-CITY-HEALTH",
            },
        ),
        _event(
            UNIT_AGREEMENT_SIGNED,
            "/partygrid/members",
            "agreement-AG-2026-014",
            T,
            "U0112",
            {
                "unit_id": "U0112",
                "agreement_id": "AG-2026-014",
                "community_id": "350302001001",
                "signed_on": "2026-11-20",
                "valid_until": "2027-11-19",
                "commitments": ["free clinic every month", "first-aid training"],
            },
        ),
        _event(
            REGION_DEFINED,
            "/city/civil-affairs",
            "region-350302001001-v1",
            T,
            "350302001001",
            {
                "region_id": "350302001001",
                "level": "community",
                "name": "凤山社区",
                "parent_id": "350302001",
            },
        ),
        _event(
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
        _event(
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
        _event(
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
        _event(
            ACTIVITY_CANCELLED,
            "/partygrid/activities",
            "activity/A-781/cancelled",
            T,
            "A-781",
            {"activity_id": "A-781", "reason": "heavy rain warning"},
        ),
        _event(
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
        _event(
            WISH_CLAIMED,
            "/partygrid/activities",
            "wish/W-0456/claimed/M000123",
            T,
            "W-0456",
            {"wish_id": "W-0456", "member_id": "M000123", "community_id": "350302001001"},
        ),
        _event(
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
        _event(
            GRID_STAFF_ASSIGNED,
            "/partygrid/grids",
            "grid-350302001001-G03-staff-S0042",
            T,
            "350302001001-G03",
            {
                "grid_id": "350302001001-G03",
                "staff_id": "S0042",
                "role": "leader",
                "member_id": "M000123",
            },
        ),
        _event(
            GRID_STAFF_REMOVED,
            "/partygrid/grids",
            "grid-350302001001-G03-staff-S0017-removed",
            T,
            "350302001001-G03",
            {"grid_id": "350302001001-G03", "staff_id": "S0017", "role": "worker"},
        ),
        _event(
            GRID_BRANCH_ATTACHED,
            "/partygrid/grids",
            "grid-350302001001-G03-branch-PO-G03",
            T,
            "350302001001-G03",
            {"grid_id": "350302001001-G03", "party_org_id": "PO-G03"},
        ),
        _event(
            GRID_BRANCH_DETACHED,
            "/partygrid/grids",
            "grid-350302001001-G03-branch-PO-G03-detached",
            T,
            "350302001001-G03",
            {"grid_id": "350302001001-G03", "party_org_id": "PO-G03"},
        ),
        _event(
            VISIT_LOGGED,
            "/partygrid/grids",
            _VISIT,
            T,
            "350302001001-G03",
            {
                "visit_id": _VISIT,
                "grid_id": "350302001001-G03",
                "staff_id": "S0042",
                "member_id": "M000123",
                "households": 6,
                "duration_minutes": 90,
            },
        ),
        _event(
            INCIDENT_OPENED,
            "/partygrid/grids",
            f"{_INCIDENT}-opened",
            T,
            _INCIDENT,
            {
                "incident_id": _INCIDENT,
                "grid_id": "350302001001-G03",
                "category": "facilities",
                "due_at": "2026-11-24T09:30:00+08:00",
            },
        ),
        _event(
            INCIDENT_ASSIGNED,
            "/partygrid/grids",
            f"{_INCIDENT}-assigned-1",
            T,
            _INCIDENT,
            {"incident_id": _INCIDENT, "grid_id": "350302001001-G03", "assignee_id": "S0042"},
        ),
        _event(
            INCIDENT_RESOLVED,
            "/partygrid/grids",
            f"{_INCIDENT}-resolved",
            T,
            _INCIDENT,
            {
                "incident_id": _INCIDENT,
                "grid_id": "350302001001-G03",
                "assignee_id": "S0042",
                "overdue": False,
            },
        ),
        _event(
            INCIDENT_CLOSED,
            "/partygrid/grids",
            f"{_INCIDENT}-closed",
            T,
            _INCIDENT,
            {"incident_id": _INCIDENT, "grid_id": "350302001001-G03", "overdue": False},
        ),
        _event(
            INCIDENT_SUPERVISED,
            "/partygrid/grids",
            f"{_INCIDENT}-supervised-1",
            T,
            _INCIDENT,
            {
                "incident_id": _INCIDENT,
                "grid_id": "350302001001-G03",
                "due_at": "2026-11-22T18:00:00+08:00",
            },
        ),
        _event(
            INCIDENT_OVERDUE,
            "/partygrid/grids",
            f"{_INCIDENT}-overdue",
            T,
            _INCIDENT,
            {
                "incident_id": _INCIDENT,
                "grid_id": "350302001001-G03",
                "due_at": "2026-11-21T09:00:00+08:00",
                "status": "assigned",
            },
        ),
        _event(
            UNIT_COMMITMENT_UPDATED,
            "/partygrid/members",
            "unit/U0112/agreement/AG-2026-07/commitment/2/done",
            T,
            "U0112",
            {
                "unit_id": "U0112",
                "agreement_id": "AG-2026-07",
                "commitment_no": 2,
                "status": "done",
                "done_on": "2026-11-20",
            },
        ),
        _event(
            UNIT_REVIEWED,
            "/partygrid/members",
            "unit/U0112/review/2026",
            T,
            "U0112",
            {
                "unit_id": "U0112",
                "year": 2026,
                "region_id": "350302001001",
                "reported_on": "2026-12-15",
                "evaluation": "good",
            },
        ),
        _event(
            UNIT_COMMITTEE_MEMBER_CHANGED,
            "/partygrid/members",
            "unit/U0112/committee/M000123/350302001/2026-01-01",
            T,
            "U0112",
            {
                "unit_id": "U0112",
                "member_id": "M000123",
                "region_id": "350302001",
                "post": "兼职委员",
                "since": "2026-01-01",
            },
        ),
        _event(
            SATISFACTION_RATED,
            "/partygrid/grids",
            f"satisfaction/incident/{_INCIDENT}",
            T,
            _INCIDENT,
            {
                "subject_kind": "incident",
                "subject_id": _INCIDENT,
                "region_id": "350302001001-G03",
                "score": 5,
            },
        ),
        _event(
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
        _event(
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
        _event(
            POINTS_CHANGED,
            "/partygrid/scoring",
            "0b9f6a52-3f4e-4c1e-9a47-1d2c3b4a5e6f",
            "2026-11-21T09:30:01+08:00",
            "M000123",
            {"member_id": "M000123", "period": "2026-11", "points": "37.00", "delta": "5.00"},
        ),
        _event(
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
        _event(
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
        _event(
            DEADLETTER_TOPIC,
            "/partygrid/scoring",
            "7d3c1e2a-8b9f-4a6d-b5c4-e3f2a1b0c9d8",
            "2026-11-21T09:30:02+08:00",
            None,
            {
                "service": "scoring",
                "reason": "invalid_data",
                "detail": "partygrid.activity.logged: hours: Input should be less than or "
                "equal to 24",
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
}
