"""Routes of service posts (设岗定责): set up, list, read, claim, release, confirm a month."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, as_body
from shared.auth import Caller
from shared.events.types import Id

from ..usecases.posts import PostUseCases
from .common import (
    CommunityFilter,
    Limit,
    MemberIn,
    PostId,
    _In,
    cases_of,
)

Cases = Annotated[PostUseCases, Depends(cases_of(PostUseCases))]


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


router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.post(
    "/service-posts",
    status_code=201,
    response_model=PostOut,
    tags=["service posts"],
    summary="Set up a service post with duties",
)
async def create_post(body: PostIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.create_post(caller, body.model_dump()))


@router.get(
    "/service-posts", response_model=PostList, tags=["service posts"], summary="List service posts"
)
async def list_posts(
    caller: Caller, cases: Cases, community_id: CommunityFilter = None, limit: Limit = 100
) -> dict[str, Any]:
    return {"items": as_body(await cases.list_posts(caller, community_id, limit))}


@router.get(
    "/service-posts/{post_id}",
    response_model=PostOut,
    tags=["service posts"],
    summary="A service post and its holders",
)
async def get_post(post_id: PostId, caller: Caller, cases: Cases) -> dict[str, Any]:
    return as_body(await cases.get_post(caller, post_id))


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
    return as_body(await cases.claim_post(caller, post_id, body.member_id))


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
    return as_body(await cases.release_post(caller, post_id, body.member_id))


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
    confirmed = await cases.confirm_post_month(caller, post_id, body.member_id, body.month)
    response.status_code = 201 if confirmed.published else 200
    return as_body(confirmed)
