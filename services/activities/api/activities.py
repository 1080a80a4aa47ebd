"""Routes of organised activities: create, publish, cancel, sign-up, venue codes,
check-in/out, confirmations and cancelled participations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from shared.api import ERROR_RESPONSES, as_body
from shared.auth import Caller
from shared.events import ActivityType
from shared.events.types import Hours, Id

from ..usecases.activities import ActivityUseCases
from .common import (
    ActivityId,
    CancelIn,
    CommunityFilter,
    Limit,
    MemberIn,
    MemberPath,
    _In,
    cases_of,
)

Cases = Annotated[ActivityUseCases, Depends(cases_of(ActivityUseCases))]


# --- models: activities --------------------------------------------------------------------


class ActivityIn(_In):
    activity_type: ActivityType = Field(
        description="organization_life, theme_party_day, volunteer_service, grid_visit or study."
    )
    title: str = Field(min_length=1, max_length=200, description="Short title.")
    organiser_kind: Literal["party_org", "community"] = Field(
        description="Whether a Party organisation or a community organises it."
    )
    organiser_id: Id = Field(description="The organising Party organisation or community.")
    community_id: Id = Field(description="The community where it takes place.")
    starts_at: AwareDatetime = Field(description="Start (RFC 3339 with offset).")
    ends_at: AwareDatetime = Field(description="End, after the start, at most 7 days later.")
    place: str = Field(min_length=1, max_length=200, description="Where it takes place.")
    capacity: int = Field(ge=1, le=100_000, description="How many members may take part.")
    publish: bool = Field(default=False, description="Publish at once instead of a draft.")


class ActivityOut(BaseModel):
    activity_id: str = Field(description="The activity's id.")
    activity_type: str = Field(description="Its activity type.")
    title: str = Field(description="Short title.")
    organiser_kind: str = Field(description="party_org or community.")
    organiser_id: str = Field(description="The organiser.")
    community_id: str = Field(description="Where it takes place.")
    starts_at: datetime = Field(description="Start.")
    ends_at: datetime = Field(description="End.")
    place: str = Field(description="Place.")
    capacity: int = Field(description="Places.")
    status: str = Field(description="draft, published or cancelled.")
    created_at: datetime = Field(description="When it was created.")
    published_at: datetime | None = Field(description="When it was published.")
    cancelled_at: datetime | None = Field(description="When it was cancelled.")
    cancel_reason: str | None = Field(description="Why it was cancelled.")
    taken: int | None = Field(default=None, description="Places taken (in lists).")


class ParticipationOut(BaseModel):
    activity_id: str = Field(description="The activity.")
    member_id: str = Field(description="The member.")
    revision: int = Field(description="Grows each time a cancelled participation is taken up.")
    status: str = Field(description="signed_up, checked_in, checked_out, confirmed or cancelled.")
    signed_up_at: datetime = Field(description="When the place was taken.")
    checked_in_at: datetime | None = Field(description="Check-in time.")
    checked_out_at: datetime | None = Field(description="Check-out time.")
    hours: Decimal | None = Field(description="Hours served (volunteer service).")
    confirmed_at: datetime | None = Field(description="When the organiser confirmed it.")
    logged_event_id: str | None = Field(description="Id of the activity.logged it produced.")
    cancelled_at: datetime | None = Field(description="When it was cancelled.")
    cancel_reason: str | None = Field(description="Why it was cancelled.")


class ActivityDetail(ActivityOut):
    participants: list[ParticipationOut] = Field(description="Every participation, by member.")


class ActivityList(BaseModel):
    items: list[ActivityOut] = Field(description="Activities, latest start first.")


class CancelledActivityOut(BaseModel):
    activity: ActivityOut = Field(description="The activity.")
    revoked: int = Field(description="Confirmed participations revoked by this call.")


class CheckinIn(_In):
    member_id: Id = Field(description="The member checking in.")
    code: str = Field(pattern=r"^\d{6}$", description="The 6-digit code shown at the venue.")


class CheckoutIn(_In):
    member_id: Id = Field(description="The member checking out.")
    hours: Hours | None = Field(
        default=None, description="Hours served: required for volunteer_service, 0 < h <= 24."
    )


class CodeOut(BaseModel):
    code: str = Field(description="The code to show at the venue.")
    issued_at: datetime = Field(description="When it was issued.")
    expires_at: datetime = Field(description="After this it is refused.")


class ConfirmIn(_In):
    member_ids: list[Id] | None = Field(
        default=None,
        max_length=100_000,
        description="Members to confirm (all must be confirmable); omit to confirm everyone "
        "who is.",
    )


class Skipped(BaseModel):
    member_id: str = Field(description="The member.")
    reason: str = Field(description="not_checked_in, not_checked_out, cancelled, …")


class ConfirmOut(BaseModel):
    activity_id: str = Field(description="The activity.")
    confirmed: list[str] = Field(description="Members confirmed now (one event each).")
    already_confirmed: list[str] = Field(description="Members confirmed before (no new event).")
    skipped: list[Skipped] = Field(description="Members that could not be confirmed, and why.")


# --- models: wishes ------------------------------------------------------------------------


router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.post(
    "/activities",
    status_code=201,
    response_model=ActivityOut,
    tags=["activities"],
    summary="Create an activity",
)
async def create_activity(body: ActivityIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    values = body.model_dump(exclude={"publish"})
    return as_body(await cases.create_activity(caller, values, body.publish))


@router.get(
    "/activities", response_model=ActivityList, tags=["activities"], summary="List activities"
)
async def list_activities(
    caller: Caller,
    cases: Cases,
    community_id: CommunityFilter = None,
    status: Annotated[
        Literal["draft", "published", "cancelled"] | None, Query(description="Only this status.")
    ] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    return {"items": as_body(await cases.list_activities(caller, community_id, status, limit))}


@router.get(
    "/activities/{activity_id}",
    response_model=ActivityDetail,
    tags=["activities"],
    summary="An activity and its participants",
)
async def get_activity(activity_id: ActivityId, caller: Caller, cases: Cases) -> dict[str, Any]:
    activity, participants = await cases.get_activity(caller, activity_id)
    return {**as_body(activity), "participants": as_body(participants)}


@router.post(
    "/activities/{activity_id}/publish",
    response_model=ActivityOut,
    tags=["activities"],
    summary="Publish a draft activity",
)
async def publish_activity(activity_id: ActivityId, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.publish_activity(caller, activity_id))


@router.post(
    "/activities/{activity_id}/cancel",
    response_model=CancelledActivityOut,
    tags=["activities"],
    summary="Cancel an activity (revokes confirmed participations)",
)
async def cancel_activity(
    activity_id: ActivityId, body: CancelIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.cancel_activity(caller, activity_id, body.reason))


@router.post(
    "/activities/{activity_id}/signups",
    status_code=201,
    response_model=ParticipationOut,
    tags=["activities"],
    summary="Sign up a member",
)
async def sign_up(
    activity_id: ActivityId, body: MemberIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.sign_up(caller, activity_id, body.member_id))


@router.get(
    "/activities/{activity_id}/checkin-code",
    response_model=CodeOut,
    tags=["activities"],
    summary="The check-in code to show at the venue",
)
async def checkin_code(activity_id: ActivityId, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()  # only the organiser's side may see codes
    return as_body(await cases.checkin_code(caller, activity_id))


@router.post(
    "/activities/{activity_id}/checkins",
    response_model=ParticipationOut,
    tags=["activities"],
    summary="Check a member in with the venue's code",
)
async def check_in(
    activity_id: ActivityId, body: CheckinIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.check_in(caller, activity_id, body.member_id, body.code))


@router.post(
    "/activities/{activity_id}/checkouts",
    response_model=ParticipationOut,
    tags=["activities"],
    summary="Check a member out (with hours for volunteering)",
)
async def check_out(
    activity_id: ActivityId, body: CheckoutIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.check_out(caller, activity_id, body.member_id, body.hours))


@router.post(
    "/activities/{activity_id}/confirmations",
    response_model=ConfirmOut,
    tags=["activities"],
    summary="Confirm participations (publishes activity.logged)",
)
async def confirm(
    activity_id: ActivityId, body: ConfirmIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.confirm(caller, activity_id, body.member_ids))


@router.post(
    "/activities/{activity_id}/participants/{member_id}/cancel",
    response_model=ParticipationOut,
    tags=["activities"],
    summary="Cancel a participation (revokes it if confirmed)",
)
async def cancel_participation(
    activity_id: ActivityId, member_id: MemberPath, body: CancelIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.cancel_participation(caller, activity_id, member_id, body.reason))
