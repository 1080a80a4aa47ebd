"""Routes of the three lists (三张清单, 双向认领) and co-building projects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from shared.api import ERROR_RESPONSES, as_body
from shared.auth import Caller
from shared.events.types import Hours, Id

from ..usecases.lists import ListUseCases
from .common import (
    CommunityFilter,
    ItemId,
    Limit,
    MemberIn,
    ProjectId,
    _In,
    cases_of,
)

Cases = Annotated[ListUseCases, Depends(cases_of(ListUseCases))]


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
    "/needs",
    status_code=201,
    response_model=ItemOut,
    tags=["three lists"],
    summary="A community lists a need",
)
async def add_need(body: NeedIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.add_need(caller, body.model_dump()))


@router.get("/needs", response_model=ItemList, tags=["three lists"], summary="List needs")
async def list_needs(
    caller: Caller,
    cases: Cases,
    community_id: CommunityFilter = None,
    status: Annotated[Literal["open", "claimed"] | None, Query(description="Only this.")] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    return {"items": as_body(await cases.list_items(caller, "need", community_id, status, limit))}


@router.post(
    "/resources",
    status_code=201,
    response_model=ItemOut,
    tags=["three lists"],
    summary="A resident unit lists a resource",
)
async def add_resource(body: ResourceIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.add_resource(caller, body.model_dump()))


@router.get("/resources", response_model=ItemList, tags=["three lists"], summary="List resources")
async def list_resources(
    caller: Caller,
    cases: Cases,
    community_id: CommunityFilter = None,
    status: Annotated[Literal["open", "claimed"] | None, Query(description="Only this.")] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    items = await cases.list_items(caller, "resource", community_id, status, limit)
    return {"items": as_body(items)}


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
    return as_body(await cases.claim_item(caller, "need", item_id, body.unit_id))


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
    return as_body(await cases.claim_item(caller, "resource", item_id, body.community_id))


@router.get(
    "/projects",
    response_model=ProjectList,
    tags=["three lists"],
    summary="List co-building projects",
)
async def list_projects(
    caller: Caller, cases: Cases, community_id: CommunityFilter = None, limit: Limit = 100
) -> dict[str, Any]:
    return {"items": as_body(await cases.list_projects(caller, community_id, limit))}


@router.get(
    "/projects/{project_id}",
    response_model=ProjectDetail,
    tags=["three lists"],
    summary="A project with participants and progress",
)
async def get_project(project_id: ProjectId, caller: Caller, cases: Cases) -> dict[str, Any]:
    return as_body(await cases.get_project(caller, project_id))


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
    return as_body(await cases.report_progress(caller, project_id, body.progress, body.note))


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
    return as_body(await cases.join_project(caller, project_id, body.member_id))


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
    logged = await cases.log_project_service(
        caller, project_id, body.member_id, body.hours, body.served_at, body.entry_id
    )
    response.status_code = 201 if logged.published else 200
    return as_body(logged)
