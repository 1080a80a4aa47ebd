"""HTTP API of the activities service (port 8003). Every endpoint needs a bearer token; writes
need a token that may write, and everything tied to a community needs a token whose region
scope contains that community (a street admin acts in the street's communities). Errors are
JSON: {"error", "message", "details"} with a 4xx status; nothing is half-written.

Activities (organised by a Party organisation or a community):
  POST /v1/activities                          create (draft; "publish": true publishes at once)
  GET  /v1/activities?community_id=&status=    list;  GET /v1/activities/{id}  with participants
  POST /v1/activities/{id}/publish             publish (partygrid.activity.published)
  POST /v1/activities/{id}/cancel              cancel; every confirmed participation is revoked
  POST /v1/activities/{id}/signups             sign up a member (within capacity, once)
  GET  /v1/activities/{id}/checkin-code        the code to show at the venue (valid 5 minutes)
  POST /v1/activities/{id}/checkins            check in with the code (window: 30 min before
                                               the start to 1 h after the end; walk-ins take a
                                               free place)
  POST /v1/activities/{id}/checkouts           check out; hours (0 < h <= 24) for volunteering
  POST /v1/activities/{id}/confirmations       organiser confirms → one partygrid.activity.logged
                                               per participation (deterministic id; retry = no-op)
  POST /v1/activities/{id}/participants/{member_id}/cancel   cancel (revokes if confirmed)
Small wishes (微心愿):
  POST /v1/wishes, GET /v1/wishes, GET /v1/wishes/{id}
  POST /v1/wishes/{id}/claim      one member wins; others 409; expired wishes cannot be claimed
  POST /v1/wishes/{id}/fulfil     community confirms → activity.logged wish_fulfilled
  POST /v1/wishes/{id}/cancel     (revokes the logged activity if it was fulfilled)
Service posts (设岗定责):
  POST /v1/service-posts, GET /v1/service-posts, GET /v1/service-posts/{id}
  POST /v1/service-posts/{id}/claim, /release
  POST /v1/service-posts/{id}/fulfilments   a month confirmed → activity.logged service_post
                                            (one per post, member and month)
Three lists (三张清单, 双向认领):
  POST/GET /v1/needs (communities), POST/GET /v1/resources (resident units)
  POST /v1/needs/{id}/claim (a unit), POST /v1/resources/{id}/claim (a community)
       → a co-building project (partygrid.project.created)
  GET /v1/projects, GET /v1/projects/{id}, POST /v1/projects/{id}/progress,
  POST /v1/projects/{id}/participants, POST /v1/projects/{id}/service
       → activity.logged volunteer_service with hours

Members are checked against a local projection of member.registered / reported /
deregistered: an unknown or deregistered member is refused with 422. A community named in a
request (community_id, a community organiser_id, a unit's community) is checked against the
projection of partygrid.region.defined: unknown, not a community or — for anything new —
retired is 422 saying what is accepted; a community_id filter accepts a retired community.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.api import ERROR_RESPONSES, Pool
from shared.auth import Caller
from shared.events import ID_PATTERN, ActivityType
from shared.events.types import Hours, Id

from .usecases import UseCases


def get_usecases(request: Request, pool: Pool) -> UseCases:
    return UseCases(pool, request.app.state.runtime.settings)


Cases = Annotated[UseCases, Depends(get_usecases)]


def _path_id(what: str) -> Any:
    return Path(pattern=ID_PATTERN, description=f"The {what}'s id.")


ActivityId = Annotated[str, _path_id("activity")]
WishId = Annotated[str, _path_id("wish")]
PostId = Annotated[str, _path_id("service post")]
ItemId = Annotated[str, _path_id("list item")]
ProjectId = Annotated[str, _path_id("project")]
MemberPath = Annotated[str, _path_id("member")]
CommunityFilter = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Only this community.")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class CancelIn(_In):
    reason: str | None = Field(default=None, max_length=500, description="Why.")


class CancelledActivityOut(BaseModel):
    activity: ActivityOut = Field(description="The activity.")
    revoked: int = Field(description="Confirmed participations revoked by this call.")


class MemberIn(_In):
    member_id: Id = Field(description="The member.")


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


class WishIn(_In):
    community_id: Id = Field(description="The community posting the wish.")
    title: str = Field(min_length=1, max_length=200, description="What is wished for.")
    description: str | None = Field(default=None, max_length=2000, description="Details.")
    beneficiary: str | None = Field(
        default=None,
        max_length=200,
        description="Who it is for, as the community describes them (no phone or ID number); "
        "never published in events.",
    )
    expires_at: AwareDatetime = Field(description="Unclaimed after this, the wish expires.")


class WishOut(BaseModel):
    wish_id: str = Field(description="The wish.")
    community_id: str = Field(description="The community that posted it.")
    title: str = Field(description="What is wished for.")
    description: str | None = Field(description="Details.")
    beneficiary: str | None = Field(description="Who it is for.")
    posted_at: datetime = Field(description="When it was posted.")
    expires_at: datetime = Field(description="When an unclaimed wish expires.")
    status: str = Field(description="open, expired, claimed, fulfilled or cancelled.")
    claimed_by: str | None = Field(description="The member who claimed it.")
    claimed_at: datetime | None = Field(description="When it was claimed.")
    fulfilled_at: datetime | None = Field(description="When the community confirmed it.")
    logged_event_id: str | None = Field(description="Id of the activity.logged it produced.")


class WishList(BaseModel):
    items: list[WishOut] = Field(description="Wishes, latest first.")


class FulfilOut(BaseModel):
    wish: WishOut = Field(description="The wish.")
    published: bool = Field(description="False when it was already fulfilled (nothing new).")


# --- models: service posts -----------------------------------------------------------------


class PostIn(_In):
    community_id: Id = Field(description="The community that sets up the post.")
    title: str = Field(min_length=1, max_length=200, description="The post's name.")
    category: Literal[
        "supervision",
        "public_affairs",
        "democracy",
        "civic_morality",
        "poverty_relief",
        "other",
    ] = Field(description="社区监督, 公共事务, 民主建设, 公民道德教育, 扶贫帮困 or other.")
    duties: str = Field(min_length=1, max_length=2000, description="The duties of the post.")
    slots: int = Field(default=1, ge=1, le=1000, description="How many members may hold it.")


class PostOut(BaseModel):
    post_id: str = Field(description="The post.")
    community_id: str = Field(description="Its community.")
    title: str = Field(description="Its name.")
    category: str = Field(description="Its category.")
    duties: str = Field(description="Its duties.")
    slots: int = Field(description="How many members may hold it.")
    status: str = Field(description="open or closed.")
    created_at: datetime = Field(description="When it was set up.")
    holders: list[str] = Field(description="Members holding it now.")


class PostList(BaseModel):
    items: list[PostOut] = Field(description="Posts, latest first.")


class FulfilmentIn(_In):
    member_id: Id = Field(description="The member who fulfilled the post's duties.")
    month: str = Field(
        pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM (1900-2099)."
    )


class FulfilmentOut(BaseModel):
    post_id: str = Field(description="The post.")
    member_id: str = Field(description="The member.")
    month: str = Field(description="The month.")
    logged_event_id: str = Field(description="Id of the activity.logged.")
    published: bool = Field(description="False when this month was confirmed before.")


# --- models: lists and projects ------------------------------------------------------------


class NeedIn(_In):
    community_id: Id = Field(description="The community that needs it.")
    title: str = Field(min_length=1, max_length=200, description="What is needed.")
    description: str | None = Field(default=None, max_length=2000, description="Details.")


class ResourceIn(_In):
    unit_id: Id = Field(description="The resident unit that offers it (must have reported).")
    title: str = Field(min_length=1, max_length=200, description="What is offered.")
    description: str | None = Field(default=None, max_length=2000, description="Details.")


class ItemOut(BaseModel):
    item_id: str = Field(description="The need or resource.")
    kind: str = Field(description="need or resource.")
    community_id: str = Field(description="Its community.")
    unit_id: str | None = Field(description="The unit offering a resource.")
    title: str = Field(description="Title.")
    description: str | None = Field(description="Details.")
    status: str = Field(description="open or claimed.")
    created_at: datetime = Field(description="When it was listed.")


class ItemList(BaseModel):
    items: list[ItemOut] = Field(description="Items, latest first.")


class ClaimNeedIn(_In):
    unit_id: Id = Field(description="The resident unit taking on the need.")


class ClaimResourceIn(_In):
    community_id: Id = Field(description="The community taking up the resource.")


class ProjectOut(BaseModel):
    project_id: str = Field(description="The project.")
    item_id: str = Field(description="The need or resource it came from.")
    community_id: str = Field(description="The community side.")
    unit_id: str = Field(description="The unit side.")
    title: str = Field(description="Title.")
    status: str = Field(description="active or completed.")
    progress: int = Field(description="Progress in percent.")
    created_at: datetime = Field(description="When it was created.")


class ProjectList(BaseModel):
    items: list[ProjectOut] = Field(description="Projects, latest first.")


class ParticipantOut(BaseModel):
    member_id: str = Field(description="The member.")
    joined_at: datetime = Field(description="When they joined.")
    hours: Decimal = Field(description="Volunteer hours logged on the project.")


class UpdateOut(BaseModel):
    progress: int = Field(description="Progress reported.")
    note: str | None = Field(description="What was done.")
    at: datetime = Field(description="When.")


class ProjectDetail(ProjectOut):
    participants: list[ParticipantOut] = Field(description="Members taking part.")
    updates: list[UpdateOut] = Field(description="Progress reports, oldest first.")


class ProgressIn(_In):
    progress: int = Field(ge=0, le=100, description="Progress in percent (never goes back).")
    note: str | None = Field(default=None, max_length=2000, description="What was done.")


class JoinOut(BaseModel):
    project_id: str = Field(description="The project.")
    member_id: str = Field(description="The member.")
    joined: bool = Field(description="False when the member had joined before.")


class ServiceIn(_In):
    member_id: Id = Field(description="The participant who served.")
    hours: Hours = Field(description="Hours served, 0 < h <= 24, two decimals.")
    served_at: AwareDatetime | None = Field(default=None, description="When (default now).")
    entry_id: Id | None = Field(
        default=None, description="Your id for this entry; sending it again is a no-op."
    )


class ServiceOut(BaseModel):
    entry_id: str = Field(description="The entry.")
    project_id: str = Field(description="The project.")
    member_id: str = Field(description="The member.")
    hours: Decimal = Field(description="Hours.")
    served_at: datetime = Field(description="When.")
    logged_event_id: str = Field(description="Id of the activity.logged.")
    published: bool = Field(description="False when the entry existed (nothing new).")


# --- routes --------------------------------------------------------------------------------

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
    return await cases.create_activity(caller, values, body.publish)


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
    return {"items": await cases.list_activities(caller, community_id, status, limit)}


@router.get(
    "/activities/{activity_id}",
    response_model=ActivityDetail,
    tags=["activities"],
    summary="An activity and its participants",
)
async def get_activity(activity_id: ActivityId, caller: Caller, cases: Cases) -> dict[str, Any]:
    row, participants = await cases.get_activity(caller, activity_id)
    return {**row, "participants": participants}


@router.post(
    "/activities/{activity_id}/publish",
    response_model=ActivityOut,
    tags=["activities"],
    summary="Publish a draft activity",
)
async def publish_activity(activity_id: ActivityId, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return await cases.publish_activity(caller, activity_id)


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
    row, revoked = await cases.cancel_activity(caller, activity_id, body.reason)
    return {"activity": row, "revoked": revoked}


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
    return await cases.sign_up(caller, activity_id, body.member_id)


@router.get(
    "/activities/{activity_id}/checkin-code",
    response_model=CodeOut,
    tags=["activities"],
    summary="The check-in code to show at the venue",
)
async def checkin_code(activity_id: ActivityId, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()  # only the organiser's side may see codes
    return await cases.checkin_code(caller, activity_id)


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
    return await cases.check_in(caller, activity_id, body.member_id, body.code)


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
    return await cases.check_out(caller, activity_id, body.member_id, body.hours)


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
    return await cases.confirm(caller, activity_id, body.member_ids)


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
    return await cases.cancel_participation(caller, activity_id, member_id, body.reason)


def _wish(row: dict[str, Any]) -> dict[str, Any]:
    from .domain.rules import wish_status
    from .usecases import utcnow

    return {**row, "status": wish_status(row["status"], row["expires_at"], utcnow())}


@router.post(
    "/wishes",
    status_code=201,
    response_model=WishOut,
    tags=["wishes"],
    summary="Post a resident's small wish",
)
async def post_wish(body: WishIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return _wish(await cases.post_wish(caller, body.model_dump()))


@router.get("/wishes", response_model=WishList, tags=["wishes"], summary="List wishes")
async def list_wishes(
    caller: Caller,
    cases: Cases,
    community_id: CommunityFilter = None,
    status: Annotated[
        Literal["open", "expired", "claimed", "fulfilled", "cancelled"] | None,
        Query(description="Only this status (open means not expired)."),
    ] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = await cases.list_wishes(caller, community_id, status, limit)
    return {"items": [_wish(r) for r in rows]}


@router.get("/wishes/{wish_id}", response_model=WishOut, tags=["wishes"], summary="A wish")
async def get_wish(wish_id: WishId, caller: Caller, cases: Cases) -> dict[str, Any]:
    return _wish(await cases.get_wish(caller, wish_id))


@router.post(
    "/wishes/{wish_id}/claim",
    response_model=WishOut,
    tags=["wishes"],
    summary="A member claims the wish (exactly one wins)",
)
async def claim_wish(
    wish_id: WishId, body: MemberIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return _wish(await cases.claim_wish(caller, wish_id, body.member_id))


@router.post(
    "/wishes/{wish_id}/fulfil",
    response_model=FulfilOut,
    tags=["wishes"],
    summary="The community confirms the wish came true (activity.logged)",
)
async def fulfil_wish(wish_id: WishId, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    row, published = await cases.fulfil_wish(caller, wish_id)
    return {"wish": _wish(row), "published": published}


@router.post(
    "/wishes/{wish_id}/cancel",
    response_model=WishOut,
    tags=["wishes"],
    summary="Withdraw a wish (revokes the logged activity if fulfilled)",
)
async def cancel_wish(
    wish_id: WishId, body: CancelIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return _wish(await cases.cancel_wish(caller, wish_id, body.reason))


@router.post(
    "/service-posts",
    status_code=201,
    response_model=PostOut,
    tags=["service posts"],
    summary="Set up a service post with duties",
)
async def create_post(body: PostIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return {**await cases.create_post(caller, body.model_dump()), "holders": []}


@router.get(
    "/service-posts", response_model=PostList, tags=["service posts"], summary="List service posts"
)
async def list_posts(
    caller: Caller, cases: Cases, community_id: CommunityFilter = None, limit: Limit = 100
) -> dict[str, Any]:
    rows = await cases.list_posts(caller, community_id, limit)
    return {"items": [{**row, "holders": holders} for row, holders in rows]}


@router.get(
    "/service-posts/{post_id}",
    response_model=PostOut,
    tags=["service posts"],
    summary="A service post and its holders",
)
async def get_post(post_id: PostId, caller: Caller, cases: Cases) -> dict[str, Any]:
    row, holders = await cases.get_post(caller, post_id)
    return {**row, "holders": holders}


@router.post(
    "/service-posts/{post_id}/claim",
    response_model=PostOut,
    tags=["service posts"],
    summary="A member claims the post (within its slots)",
)
async def claim_post(
    post_id: PostId, body: MemberIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    row, holders = await cases.claim_post(caller, post_id, body.member_id)
    return {**row, "holders": holders}


@router.post(
    "/service-posts/{post_id}/release",
    response_model=PostOut,
    tags=["service posts"],
    summary="A member gives the post up",
)
async def release_post(
    post_id: PostId, body: MemberIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    row, holders = await cases.release_post(caller, post_id, body.member_id)
    return {**row, "holders": holders}


@router.post(
    "/service-posts/{post_id}/fulfilments",
    response_model=FulfilmentOut,
    responses={201: {"model": FulfilmentOut, "description": "Confirmed (200: confirmed before)."}},
    tags=["service posts"],
    summary="Confirm a member fulfilled the post in a month",
)
async def confirm_post_month(
    post_id: PostId, body: FulfilmentIn, caller: Caller, cases: Cases, response: Response
) -> dict[str, Any]:
    caller.require_write()
    event_id, created = await cases.confirm_post_month(caller, post_id, body.member_id, body.month)
    response.status_code = 201 if created else 200
    return {
        "post_id": post_id,
        "member_id": body.member_id,
        "month": body.month,
        "logged_event_id": event_id,
        "published": created,
    }


@router.post(
    "/needs",
    status_code=201,
    response_model=ItemOut,
    tags=["three lists"],
    summary="A community lists a need",
)
async def add_need(body: NeedIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return await cases.add_need(caller, body.model_dump())


@router.get("/needs", response_model=ItemList, tags=["three lists"], summary="List needs")
async def list_needs(
    caller: Caller,
    cases: Cases,
    community_id: CommunityFilter = None,
    status: Annotated[Literal["open", "claimed"] | None, Query(description="Only this.")] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    return {"items": await cases.list_items(caller, "need", community_id, status, limit)}


@router.post(
    "/resources",
    status_code=201,
    response_model=ItemOut,
    tags=["three lists"],
    summary="A resident unit lists a resource",
)
async def add_resource(body: ResourceIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return await cases.add_resource(caller, body.model_dump())


@router.get("/resources", response_model=ItemList, tags=["three lists"], summary="List resources")
async def list_resources(
    caller: Caller,
    cases: Cases,
    community_id: CommunityFilter = None,
    status: Annotated[Literal["open", "claimed"] | None, Query(description="Only this.")] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    return {"items": await cases.list_items(caller, "resource", community_id, status, limit)}


@router.post(
    "/needs/{item_id}/claim",
    status_code=201,
    response_model=ProjectOut,
    tags=["three lists"],
    summary="A unit claims a community's need → project",
)
async def claim_need(
    item_id: ItemId, body: ClaimNeedIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return await cases.claim_item(caller, "need", item_id, body.unit_id)


@router.post(
    "/resources/{item_id}/claim",
    status_code=201,
    response_model=ProjectOut,
    tags=["three lists"],
    summary="A community claims a unit's resource → project",
)
async def claim_resource(
    item_id: ItemId, body: ClaimResourceIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return await cases.claim_item(caller, "resource", item_id, body.community_id)


@router.get(
    "/projects",
    response_model=ProjectList,
    tags=["three lists"],
    summary="List co-building projects",
)
async def list_projects(
    caller: Caller, cases: Cases, community_id: CommunityFilter = None, limit: Limit = 100
) -> dict[str, Any]:
    return {"items": await cases.list_projects(caller, community_id, limit)}


@router.get(
    "/projects/{project_id}",
    response_model=ProjectDetail,
    tags=["three lists"],
    summary="A project with participants and progress",
)
async def get_project(project_id: ProjectId, caller: Caller, cases: Cases) -> dict[str, Any]:
    row, participants, updates = await cases.get_project(caller, project_id)
    return {**row, "participants": participants, "updates": updates}


@router.post(
    "/projects/{project_id}/progress",
    response_model=ProjectOut,
    tags=["three lists"],
    summary="Report progress (100 completes the project)",
)
async def report_progress(
    project_id: ProjectId, body: ProgressIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    return await cases.report_progress(caller, project_id, body.progress, body.note)


@router.post(
    "/projects/{project_id}/participants",
    response_model=JoinOut,
    tags=["three lists"],
    summary="A member joins the project",
)
async def join_project(
    project_id: ProjectId, body: MemberIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    joined = await cases.join_project(caller, project_id, body.member_id)
    return {"project_id": project_id, "member_id": body.member_id, "joined": joined}


@router.post(
    "/projects/{project_id}/service",
    response_model=ServiceOut,
    responses={201: {"model": ServiceOut, "description": "Logged (200: logged before)."}},
    tags=["three lists"],
    summary="Log a participant's volunteer hours (activity.logged)",
)
async def log_service(
    project_id: ProjectId, body: ServiceIn, caller: Caller, cases: Cases, response: Response
) -> dict[str, Any]:
    caller.require_write()
    row, created = await cases.log_project_service(
        caller, project_id, body.member_id, body.hours, body.served_at, body.entry_id
    )
    response.status_code = 201 if created else 200
    return {**row, "published": created}
