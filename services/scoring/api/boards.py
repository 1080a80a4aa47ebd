"""Red and black boards (红黑榜): drafted from the period's figures (the closed ones once the
period is closed), reviewed, then published as an immutable snapshot. Separation of duties:
whoever drafted a board can neither review nor publish it. A member who missed organisation
life (the hard criterion) is never on a red board.

- POST /v1/boards, GET /v1/boards[/{id}], POST /v1/boards/{id}/review|publish
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events import ID_PATTERN, RegionLevel

from ..domain.boards import Board
from ..usecases import boards
from ..usecases.reads import check_scope as _check_scope
from ..usecases.reads import known_region as _known
from .params import period_of as _period

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)


class BoardIn(BaseModel):
    period: str = Field(description="Period of the board, e.g. 2026-11.")
    subject: Literal["members", "communities"] = Field(description="Rank members or communities.")
    size: int = Field(default=10, ge=1, le=100, description="Entries on each of the two boards.")
    street_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Limit to a street."
    )


class BoardOut(BaseModel):
    board_id: int = Field(description="The board.")
    period: str = Field(description="Its period.")
    subject: str = Field(description="members or communities.")
    size: int = Field(description="Entries per board.")
    street_id: str | None = Field(description="Street it is limited to, if any.")
    status: Literal["draft", "reviewed", "published"] = Field(description="Workflow state.")
    red: list[dict[str, Any]] = Field(description="Top entries (红榜).")
    black: list[dict[str, Any]] = Field(description="Bottom entries (黑榜).")
    created_at: datetime = Field(description="When drafted (the snapshot's time).")
    reviewed_by: str | None = Field(description="Reviewer.")
    published_at: datetime | None = Field(description="When published; immutable after.")
    drafted_by: str | None = Field(default=None, description="Who drafted it (audit actor).")
    review_entered_by: str | None = Field(
        default=None, description="Who entered the review (audit actor)."
    )
    published_by: str | None = Field(default=None, description="Who published it (audit actor).")


class ReviewIn(BaseModel):
    reviewer: str = Field(min_length=1, max_length=100, description="Who reviewed the draft.")


def _out(board: Board) -> BoardOut:
    return BoardOut.model_validate(as_body(board))


@router.post("/boards", response_model=BoardOut, status_code=201)
async def draft_board(request: Request, pool: Pool, caller: Caller, body: BoardIn) -> BoardOut:
    caller.require_write()
    if body.street_id:
        # the board only selects what to rank, like a filter: a retired street is accepted
        await _known(pool, body.street_id, RegionLevel.STREET, "street_id")
        await _check_scope(pool, caller, body.street_id)
    else:
        caller.require_city()
    period = _period(request, body.period)
    return _out(await boards.draft(pool, period, body.subject, body.size, body.street_id))


@router.get("/boards", response_model=list[BoardOut])
async def list_boards(
    pool: Pool,
    caller: Caller,
    period: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["draft", "reviewed", "published"] | None, Query()] = None,
) -> list[BoardOut]:
    return [_out(r) for r in await boards.listed(pool, period, status)]


@router.get("/boards/{board_id}", response_model=BoardOut)
async def get_board(pool: Pool, caller: Caller, board_id: int) -> BoardOut:
    return _out(await boards.get(pool, board_id))


@router.post("/boards/{board_id}/review", response_model=BoardOut)
async def review_board(pool: Pool, caller: Caller, board_id: int, body: ReviewIn) -> BoardOut:
    caller.require_write()
    return _out(await boards.review(pool, caller.name, board_id, body.reviewer))


@router.post("/boards/{board_id}/publish", response_model=BoardOut)
async def publish_board(pool: Pool, caller: Caller, board_id: int) -> BoardOut:
    caller.require_write()
    return _out(await boards.publish(pool, caller.name, board_id))
