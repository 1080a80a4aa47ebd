"""Routes of small wishes (微心愿): post, list, read, claim, fulfil, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from shared.api import ERROR_RESPONSES, as_body
from shared.auth import Caller
from shared.events.types import Id

from ..usecases.wishes import WishUseCases
from .common import (
    CancelIn,
    CommunityFilter,
    Limit,
    MemberIn,
    WishId,
    _In,
    cases_of,
)

Cases = Annotated[WishUseCases, Depends(cases_of(WishUseCases))]


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


router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.post(
    "/wishes",
    status_code=201,
    response_model=WishOut,
    tags=["wishes"],
    summary="Post a resident's small wish",
)
async def post_wish(body: WishIn, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.post_wish(caller, body.model_dump()))


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
    return {"items": as_body(rows)}


@router.get("/wishes/{wish_id}", response_model=WishOut, tags=["wishes"], summary="A wish")
async def get_wish(wish_id: WishId, caller: Caller, cases: Cases) -> dict[str, Any]:
    return as_body(await cases.get_wish(caller, wish_id))


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
    return as_body(await cases.claim_wish(caller, wish_id, body.member_id))


@router.post(
    "/wishes/{wish_id}/fulfil",
    response_model=FulfilOut,
    tags=["wishes"],
    summary="The community confirms the wish came true (activity.logged)",
)
async def fulfil_wish(wish_id: WishId, caller: Caller, cases: Cases) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.fulfil_wish(caller, wish_id))


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
    return as_body(await cases.cancel_wish(caller, wish_id, body.reason))
