"""HTTP API of organisation-life meetings (三会一课), part of the activities service.

  POST /v1/meetings                       record a meeting {kind, branch_id, community_id,
                                          title, held_at, place?}
  GET  /v1/meetings?community_id=&branch_id=&kind=   list;  GET /v1/meetings/{id}  with roll
  PUT  /v1/meetings/{id}/roll             confirm the whole roll {entries: [{member_id,
                                          status: present|excused|absent, reason?}]};
                                          present → activity.logged organization_life,
                                          absent → organization_life_absent, excused (reason
                                          required) → nothing. The same roll again changes
                                          nothing; a different one is a correction: a new
                                          version that revokes and re-logs only the difference.
  GET  /v1/meetings/{id}/roll/versions    every confirmed version, oldest first

Tokens and region scopes as for activities: writes need a writing token whose scope contains
the meeting's community.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events import ID_PATTERN
from shared.events.types import Id

from ..domain.meetings import Attendance, Entry, MeetingKind
from ..usecases.meetings import MeetingUseCases


def get_cases(request: Request, pool: Pool) -> MeetingUseCases:
    return MeetingUseCases(pool, request.app.state.runtime.settings)


Cases = Annotated[MeetingUseCases, Depends(get_cases)]
MeetingId = Annotated[str, Path(pattern=ID_PATTERN, description="The meeting's id.")]
KIND_HELP = (
    "branch_general_meeting (支部党员大会), branch_committee_meeting (支委会), "
    "party_group_meeting (党小组会) or party_lecture (党课)."
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeetingIn(_In):
    kind: MeetingKind = Field(description=KIND_HELP)
    branch_id: Id = Field(description="The Party branch (Party organisation id) holding it.")
    community_id: Id = Field(
        description="The community the branch belongs to (a known community, not retired); "
        "the logged activities carry it and token scopes follow it."
    )
    title: str = Field(min_length=1, max_length=200, description="Subject of the meeting.")
    held_at: AwareDatetime = Field(description="When it was held (RFC 3339 with offset).")
    place: str | None = Field(default=None, max_length=200, description="Where it was held.")


class RollLineOut(BaseModel):
    member_id: str = Field(description="The member.")
    status: str = Field(description="present, excused or absent.")
    reason: str | None = Field(description="Why the member was excused (or absent).")
    version: int = Field(description="The roll version that gave the member this status.")
    logged_event_id: str | None = Field(
        description="The activity.logged standing for this line (none when excused)."
    )


class MeetingOut(BaseModel):
    meeting_id: str = Field(description="The meeting.")
    kind: str = Field(description=KIND_HELP)
    kind_name: str = Field(description="The kind's Chinese name.")
    branch_id: str = Field(description="The Party branch holding it.")
    community_id: str = Field(description="The branch's community.")
    title: str = Field(description="Subject.")
    held_at: datetime = Field(description="When it was held.")
    place: str | None = Field(description="Where.")
    created_at: datetime = Field(description="When it was recorded.")
    roll_version: int = Field(description="Version of the confirmed roll; 0 while none is.")
    roll: list[RollLineOut] = Field(description="The confirmed roll, by member.")


class MeetingList(BaseModel):
    items: list[MeetingOut] = Field(description="Meetings, latest first.")


class RollEntryIn(_In):
    member_id: Id = Field(description="A member known here and not deregistered.")
    status: Attendance = Field(
        description="present (organization_life), excused (请假: nothing; reason required) or "
        "absent (unexcused: organization_life_absent)."
    )
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why: required when excused, allowed when absent, refused when present.",
    )


class RollIn(_In):
    entries: list[RollEntryIn] = Field(
        min_length=1,
        max_length=5000,
        description="The whole roll, each member once; a member left off a corrected roll "
        "loses the event the earlier version logged.",
    )


class LoggedOut(BaseModel):
    member_id: str = Field(description="The member.")
    activity_type: Literal["organization_life", "organization_life_absent"] = Field(
        description="What was logged."
    )
    event_id: str = Field(description="The activity.logged id (meeting, member, type, version).")


class RevokedOut(BaseModel):
    member_id: str = Field(description="The member.")
    logged_event_id: str = Field(description="The activity.logged this call revoked.")


class RollOut(BaseModel):
    meeting: MeetingOut = Field(description="The meeting with its roll as it now stands.")
    changed: bool = Field(description="False when this roll was already the confirmed one.")
    version: int = Field(description="The roll version now confirmed.")
    revoked: list[RevokedOut] = Field(description="Events revoked by this call.")
    logged: list[LoggedOut] = Field(description="Events logged by this call.")


class RollVersionOut(BaseModel):
    version: int = Field(description="The version.")
    confirmed_at: datetime = Field(description="When it was confirmed.")
    confirmed_by: str = Field(description="Role and scope of the token that confirmed it.")
    entries: list[dict[str, Any]] = Field(description="The roll as sent.")
    revoked: int = Field(description="Events it revoked.")
    logged: int = Field(description="Events it logged.")


class RollVersions(BaseModel):
    items: list[RollVersionOut] = Field(description="Confirmed versions, oldest first.")


router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.post(
    "/meetings",
    status_code=201,
    response_model=MeetingOut,
    tags=["organisation life"],
    summary="Record an organisation-life meeting (三会一课)",
)
async def create_meeting(body: MeetingIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.create_meeting(caller, body.model_dump()))


@router.get(
    "/meetings", response_model=MeetingList, tags=["organisation life"], summary="List meetings"
)
async def list_meetings(
    caller: Caller,
    cases: Cases,
    community_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this community.")
    ] = None,
    branch_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this Party branch.")
    ] = None,
    kind: Annotated[MeetingKind | None, Query(description="Only this kind.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> dict[str, Any]:
    items = await cases.list_meetings(
        caller, community_id, branch_id, kind.value if kind else None, limit
    )
    return {"items": as_body(items)}


@router.get(
    "/meetings/{meeting_id}",
    response_model=MeetingOut,
    tags=["organisation life"],
    summary="A meeting and its confirmed roll",
)
async def get_meeting(meeting_id: MeetingId, caller: Caller, cases: Cases) -> dict[str, Any]:
    return as_body(await cases.get_meeting(caller, meeting_id))


@router.put(
    "/meetings/{meeting_id}/roll",
    response_model=RollOut,
    tags=["organisation life"],
    summary="Confirm or correct the roll (logs and revokes organisation life)",
)
async def confirm_roll(
    meeting_id: MeetingId, body: RollIn, caller: Caller, cases: Cases
) -> dict[str, Any]:
    caller.require_write()
    entries = [Entry(e.member_id, e.status, e.reason) for e in body.entries]
    return as_body(await cases.confirm_roll(caller, meeting_id, entries))


@router.get(
    "/meetings/{meeting_id}/roll/versions",
    response_model=RollVersions,
    tags=["organisation life"],
    summary="Every confirmed version of the roll",
)
async def roll_versions(meeting_id: MeetingId, caller: Caller, cases: Cases) -> dict[str, Any]:
    return {"items": as_body(await cases.roll_versions(caller, meeting_id))}
