"""Value types that several event schemas share.

Ids, decimals and the closed vocabularies of docs/design.md §1 and §3 are defined once here so
that the events, the HTTP APIs and the services validate them identically.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"

Id = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="An id: 1-64 characters of [A-Za-z0-9_.-]."),
]


class MemberCategory(StrEnum):
    """Category of a Party member (docs/design.md §1)."""

    IN_SERVICE = "in_service"
    RESIDENT = "resident"
    MOBILE = "mobile"
    RETIRED = "retired"


class DeregistrationReason(StrEnum):
    TRANSFERRED_OUT = "transferred_out"
    DECEASED = "deceased"
    EXPELLED = "expelled"
    OTHER = "other"


class RegionLevel(StrEnum):
    """Region levels, from the top down; each level nests in the one before it."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"


REGION_LEVEL_ORDER: tuple[RegionLevel, ...] = tuple(RegionLevel)


class ActivityType(StrEnum):
    """Activity types that earn or cost points (docs/design.md §4.1)."""

    ORGANIZATION_LIFE = "organization_life"
    THEME_PARTY_DAY = "theme_party_day"
    VOLUNTEER_SERVICE = "volunteer_service"
    WISH_FULFILLED = "wish_fulfilled"
    SERVICE_POST = "service_post"
    GRID_VISIT = "grid_visit"
    STUDY = "study"
    ORGANIZATION_LIFE_ABSENT = "organization_life_absent"


Hours = Annotated[
    Decimal,
    Field(
        gt=0, le=24, max_digits=4, decimal_places=2, description="Hours, 0 < h <= 24, 2 decimals."
    ),
]
