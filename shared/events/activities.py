"""Events about activities that earn (or cost) points."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .registry import register
from .types import ActivityType, Hours, Id

ACTIVITY_LOGGED = "partygrid.activity.logged"
ACTIVITY_REVOKED = "partygrid.activity.revoked"


@register(ACTIVITY_LOGGED, "member_id", "A member took part in an activity.")
class ActivityLogged(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    member_id: Id = Field(description="The member who took part.")
    activity_type: ActivityType = Field(
        description="One of the activity types of docs/design.md §4.1."
    )
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


# --- Internal events of the activities service (same envelope; topic = type) ---------------
# Other services and outside displays (a city portal, the big screen) may follow these; points
# come only from activity.logged / activity.revoked above.

ACTIVITY_PUBLISHED = "partygrid.activity.published"
ACTIVITY_CANCELLED = "partygrid.activity.cancelled"
WISH_POSTED = "partygrid.wish.posted"
WISH_CLAIMED = "partygrid.wish.claimed"
PROJECT_CREATED = "partygrid.project.created"


@register(ACTIVITY_PUBLISHED, "activity_id", "An organised activity was published for sign-up.")
class ActivityPublished(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    activity_id: Id = Field(description="The activity.")
    activity_type: ActivityType = Field(description="What kind of activity it is.")
    title: str = Field(min_length=1, max_length=200, description="Short title.")
    organiser_kind: Literal["party_org", "community"] = Field(
        description="Whether a Party organisation or a community organises it."
    )
    organiser_id: Id = Field(description="The organising Party organisation or community.")
    community_id: Id = Field(description="The community where it takes place.")
    starts_at: AwareDatetime = Field(description="When it starts.")
    ends_at: AwareDatetime = Field(description="When it ends.")
    place: str = Field(min_length=1, max_length=200, description="Where it takes place.")
    capacity: int = Field(ge=1, description="How many members may take part.")


@register(ACTIVITY_CANCELLED, "activity_id", "A published activity was cancelled.")
class ActivityCancelled(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    activity_id: Id = Field(description="The cancelled activity.")
    reason: str | None = Field(default=None, max_length=500, description="Why it was cancelled.")


@register(WISH_POSTED, "wish_id", "A community posted a resident's small wish (微心愿).")
class WishPosted(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    wish_id: Id = Field(description="The wish.")
    community_id: Id = Field(description="The community that posted it.")
    title: str = Field(min_length=1, max_length=200, description="What is wished for.")
    expires_at: AwareDatetime = Field(description="After this, an unclaimed wish expires.")


@register(WISH_CLAIMED, "wish_id", "A member claimed a small wish.")
class WishClaimed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    wish_id: Id = Field(description="The wish.")
    member_id: Id = Field(description="The member who claimed it.")
    community_id: Id = Field(description="The community that posted it.")


@register(PROJECT_CREATED, "project_id", "A need or resource was claimed: a co-building project.")
class ProjectCreated(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    project_id: Id = Field(description="The project.")
    item_id: Id = Field(description="The need or resource that was claimed.")
    item_kind: Literal["need", "resource"] = Field(description="What was claimed.")
    community_id: Id = Field(description="The community side of the project.")
    unit_id: Id = Field(description="The resident unit side of the project.")
    title: str = Field(min_length=1, max_length=200, description="The project's title.")


__all__ = [
    "ACTIVITY_CANCELLED",
    "ACTIVITY_LOGGED",
    "ACTIVITY_PUBLISHED",
    "ACTIVITY_REVOKED",
    "PROJECT_CREATED",
    "WISH_CLAIMED",
    "WISH_POSTED",
    "ActivityCancelled",
    "ActivityLogged",
    "ActivityPublished",
    "ActivityRevoked",
    "Decimal",
    "ProjectCreated",
    "WishClaimed",
    "WishPosted",
]
