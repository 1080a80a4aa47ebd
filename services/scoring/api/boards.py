"""Red and black boards (红黑榜): drafted from the period's figures (the closed ones once the
period is closed), reviewed, then published as an immutable snapshot. Separation of duties:
whoever drafted a board can neither review nor publish it. A member who missed organisation
life (the hard criterion) is never on a red board.

- POST /v1/boards, GET /v1/boards[/{id}], POST /v1/boards/{id}/review|publish
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, ApiError, Pool
from shared.auth import Caller, Principal
from shared.events import ID_PATTERN, RegionLevel

from ..domain.periods import Period
from ..persistence import live as q
from ..persistence.orglife import missed_among
from ..usecases.figures import choose
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


def _board_out(r: Any) -> BoardOut:
    snap = json.loads(r["snapshot"]) if isinstance(r["snapshot"], str) else r["snapshot"]
    return BoardOut(
        board_id=r["board_id"],
        period=r["period"],
        subject=r["subject"],
        size=r["size"],
        street_id=r["street_id"],
        status=r["status"],
        red=snap["red"],
        black=snap["black"],
        created_at=r["created_at"],
        reviewed_by=r["reviewed_by"],
        published_at=r["published_at"],
        drafted_by=r["drafted_by"],
        review_entered_by=r["review_entered_by"],
        published_by=r["published_by"],
    )


async def _snapshot(pool: Any, body: BoardIn, period: Period) -> dict[str, Any]:
    src, fig = await choose(pool, period.label, None)  # a closed period's board: closed figures
    if body.subject == "members":
        scope = q.MemberScope(street_id=body.street_id)
        top = await _red_members(pool, src, period, scope, body.size, fig == "closed")
        _, bottom = await src.member_ranking(
            pool, period.label, scope, body.size, 0, ascending=True
        )

        def item(r: Any) -> dict[str, Any]:
            return {
                "rank": r["rank"],
                "member_id": r["member_id"],
                "name": r["name"],
                "community_id": r["community_id"],
                "score": float(r["points"]),
            }

        return {"red": [item(r) for r in top], "black": [item(r) for r in bottom]}
    ranked = q.rank_regions(
        await src.child_rows(pool, period.label, "community", body.street_id), "avg_points"
    )
    items = [
        {
            "rank": rank,
            "region_id": r.region_id,
            "name": r.name,
            "score": float(s),
            "members": r.members,
        }
        for rank, r, s in ranked
    ]
    return {"red": items[: body.size], "black": list(reversed(items[-body.size :]))}


async def _red_members(
    pool: Any, src: Any, period: Period, scope: q.MemberScope, size: int, closed: bool
) -> list[Any]:
    """The top `size` members who did not miss organisation life (a hard criterion: they
    cannot be on a red board), keeping their rank among everyone."""
    out: list[Any] = []
    offset, page = 0, max(size * 2, 50)
    while len(out) < size:
        _, rows = await src.member_ranking(pool, period.label, scope, page, offset)
        if not rows:
            break
        missed = await missed_among(pool, period, [r["member_id"] for r in rows], closed)
        out += [r for r in rows if r["member_id"] not in missed]
        offset += page
    return out[:size]


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
    snapshot = await _snapshot(pool, body, period)
    async with pool.acquire() as conn, conn.transaction():  # audited with the change
        row = await conn.fetchrow(
            """INSERT INTO boards (period, subject, size, street_id, status, snapshot)
               VALUES ($1, $2, $3, $4, 'draft', $5::jsonb) RETURNING *""",
            period.label,
            body.subject,
            body.size,
            body.street_id,
            json.dumps(snapshot),
        )
    return _board_out(row)


@router.get("/boards", response_model=list[BoardOut])
async def list_boards(
    pool: Pool,
    caller: Caller,
    period: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["draft", "reviewed", "published"] | None, Query()] = None,
) -> list[BoardOut]:
    rows = await pool.fetch(
        """SELECT * FROM boards WHERE ($1::text IS NULL OR period = $1)
           AND ($2::text IS NULL OR status = $2) ORDER BY board_id DESC LIMIT 200""",
        period,
        status,
    )
    return [_board_out(r) for r in rows]


@router.get("/boards/{board_id}", response_model=BoardOut)
async def get_board(pool: Pool, caller: Caller, board_id: int) -> BoardOut:
    row = await pool.fetchrow("SELECT * FROM boards WHERE board_id = $1", board_id)
    if row is None:
        raise ApiError(404, "not_found", f"no board {board_id}")
    return _board_out(row)


async def _transition(
    pool: Any, caller: Principal, board_id: int, expected: str, sql: str, *args: Any
) -> BoardOut:
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM boards WHERE board_id = $1 FOR UPDATE", board_id)
        if row is None:
            raise ApiError(404, "not_found", f"no board {board_id}")
        if row["status"] != expected:
            raise ApiError(
                409,
                "invalid_state",
                f"board {board_id} is {row['status']}; this step needs a {expected} board"
                + (" (published boards are immutable)" if row["status"] == "published" else ""),
            )
        if row["drafted_by"] is not None and row["drafted_by"] == caller.name:
            # separation of duties: a board is checked and published by someone else
            raise ApiError(
                403,
                "same_author",
                f"board {board_id} was drafted by {caller.name}; another person must review "
                "and publish it",
            )
        return _board_out(await conn.fetchrow(sql, board_id, *args))


@router.post("/boards/{board_id}/review", response_model=BoardOut)
async def review_board(pool: Pool, caller: Caller, board_id: int, body: ReviewIn) -> BoardOut:
    caller.require_write()
    return await _transition(
        pool,
        caller,
        board_id,
        "draft",
        "UPDATE boards SET status = 'reviewed', reviewed_by = $2, reviewed_at = now() "
        "WHERE board_id = $1 RETURNING *",
        body.reviewer,
    )


@router.post("/boards/{board_id}/publish", response_model=BoardOut)
async def publish_board(pool: Pool, caller: Caller, board_id: int) -> BoardOut:
    caller.require_write()
    return await _transition(
        pool,
        caller,
        board_id,
        "reviewed",
        "UPDATE boards SET status = 'published', published_at = now() WHERE board_id = $1 RETURNING *",
    )
