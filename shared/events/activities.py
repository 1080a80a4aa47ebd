"""Events about activities that earn (or cost) points."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .registry import register
from .types import ActivityType, Hours, Id

ACTIVITY_LOGGED = "partygrid.activity.logged"
ACTIVITY_REVOKED = "partygrid.activity.revoked"


@register(ACTIVITY_LOGGED, "member_id", "A member took part in an activity.")
class ActivityLogged(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    member_id: Id = Field(description="The member who took part.")
    activity_type: ActivityType = Field(description="One of the activity types of DESIGN §4.")
    activity_id: Id | None = Field(default=None, description="The activity, if it has an id.")
    community_id: Id | None = Field(default=None, description="Where it took place.")
    hours: Hours | None = Field(
        default=None, description="Hours served; required for volunteer_service (0 < h <= 24)."
    )

    @model_validator(mode="after")
    def _hours_for_volunteering(self) -> ActivityLogged:
        if self.activity_type is ActivityType.VOLUNTEER_SERVICE and self.hours is None:
            raise ValueError("hours is required for volunteer_service (0 < hours <= 24)")
        return self


class EventRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1, max_length=512, description="The revoked event's source.")
    id: str = Field(min_length=1, max_length=256, description="The revoked event's id.")


@register(ACTIVITY_REVOKED, "member_id", "A logged activity is withdrawn, as if it never came.")
class ActivityRevoked(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    member_id: Id = Field(description="The member of the revoked activity.")
    revokes: EventRef = Field(description="source and id of the activity.logged it revokes.")
    reason: str | None = Field(default=None, max_length=500, description="Why it was revoked.")


__all__ = ["ACTIVITY_LOGGED", "ACTIVITY_REVOKED", "ActivityLogged", "ActivityRevoked", "Decimal"]
