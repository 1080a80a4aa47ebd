"""Event envelope and schemas: the one source of truth every service and outside system shares.

Importing this package registers every event type; `EVENT_TYPES` maps type → schema.
"""

from . import (
    activities,
    deadletters,
    grids,
    members,
    regions,
    satisfaction,
    scoring,
    timebank,
    units,
)
from .activities import ACTIVITY_LOGGED, ACTIVITY_REVOKED, ActivityLogged, ActivityRevoked, EventRef
from .deadletters import DeadLetter, DeadLetterHeader
from .envelope import (
    BadEvent,
    CloudEvent,
    check_time,
    encode_event,
    new_event,
    parse_envelope,
)
from .members import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    UNIT_REPORTED,
    MemberDeregistered,
    MemberRegistered,
    MemberReported,
    UnitReported,
)
from .regions import REGION_DEFINED, RegionDefined
from .registry import DEADLETTER_TOPIC, EVENT_TYPES, EventSpec, all_topics, validate_data
from .scoring import POINTS_CHANGED, PointsChanged
from .types import ID_PATTERN, ActivityType, DeregistrationReason, MemberCategory, RegionLevel

__all__ = [
    "ACTIVITY_LOGGED",
    "ACTIVITY_REVOKED",
    "DEADLETTER_TOPIC",
    "EVENT_TYPES",
    "ID_PATTERN",
    "MEMBER_DEREGISTERED",
    "MEMBER_REGISTERED",
    "MEMBER_REPORTED",
    "POINTS_CHANGED",
    "REGION_DEFINED",
    "UNIT_REPORTED",
    "ActivityLogged",
    "ActivityRevoked",
    "ActivityType",
    "BadEvent",
    "CloudEvent",
    "DeadLetter",
    "DeadLetterHeader",
    "DeregistrationReason",
    "EventRef",
    "EventSpec",
    "MemberCategory",
    "MemberDeregistered",
    "MemberRegistered",
    "MemberReported",
    "PointsChanged",
    "RegionDefined",
    "RegionLevel",
    "UnitReported",
    "activities",
    "all_topics",
    "check_time",
    "deadletters",
    "encode_event",
    "grids",
    "members",
    "new_event",
    "parse_envelope",
    "regions",
    "satisfaction",
    "scoring",
    "timebank",
    "units",
    "validate_data",
]
