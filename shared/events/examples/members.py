"""Examples of the events about members, Party organisations and units, with their agreements,
commitments, reviews and committee posts."""

from __future__ import annotations

from typing import Any

from ..members import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    PARTY_ORG_DEFINED,
    UNIT_AGREEMENT_SIGNED,
    UNIT_REPORTED,
)
from ..units import UNIT_COMMITMENT_UPDATED, UNIT_COMMITTEE_MEMBER_CHANGED, UNIT_REVIEWED
from .common import T, event

EXAMPLES: list[dict[str, Any]] = [
    event(
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
    event(
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
    event(
        MEMBER_DEREGISTERED,
        "/city/org-registry",
        "dereg-2026-000045",
        T,
        "M000045",
        {"member_id": "M000045", "reason": "transferred_out"},
    ),
    event(
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
    event(
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
    event(
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
    event(
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
    event(
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
    event(
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
]
