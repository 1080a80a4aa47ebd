"""Red and black boards (红黑榜, docs/design.md §4.10): a draft is a snapshot of the period's
figures (the closed ones once the period is closed); it is reviewed, then published and never
changes again. Separation of duties: whoever drafted a board can neither review nor publish
it. A member who missed organisation life (the hard criterion) is never on a red board.
SQL in `persistence.boards`; a refused request raises `shared.refusals.Refusal`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.db import Conn
from shared.refusals import Kind, Refusal, conflict, forbidden

from ..domain.boards import (
    Board,
    CommunityEntry,
    MemberEntry,
    Snapshot,
    Status,
    Subject,
    community_snapshot,
)
from ..domain.periods import Period
from ..persistence import boards as db
from ..persistence import live as q
from ..persistence.orglife import missed_among
from .figures import choose


def _no_board(board_id: int) -> Refusal:
    return Refusal(Kind.NOT_FOUND, "not_found", f"no board {board_id}")


async def _snapshot(
    pool: Any, period: Period, subject: Subject, size: int, street_id: str | None
) -> Snapshot:
    src, fig = await choose(pool, period.label, None)  # a closed period's board: closed figures
    if subject == "members":
        scope = q.MemberScope(street_id=street_id)
        top = await _red_members(pool, src, period, scope, size, fig == "closed")
        _, bottom = await src.member_ranking(pool, period.label, scope, size, 0, ascending=True)

        def item(r: Any) -> MemberEntry:
            return MemberEntry(
                rank=r["rank"],
                member_id=r["member_id"],
                name=r["name"],
                community_id=r["community_id"],
                score=float(r["points"]),
            )

        return Snapshot(red=tuple(item(r) for r in top), black=tuple(item(r) for r in bottom))
    ranked = q.rank_regions(
        await src.child_rows(pool, period.label, "community", street_id), "avg_points"
    )
    return community_snapshot(
        [
            CommunityEntry(
                rank=rank, region_id=r.region_id, name=r.name, score=float(s), members=r.members
            )
            for rank, r, s in ranked
        ],
        size,
    )


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


async def draft(
    pool: Any,
    period: Period,
    subject: Subject,
    size: int,
    street_id: str | None,
) -> Board:
    snapshot = await _snapshot(pool, period, subject, size, street_id)
    async with pool.acquire() as conn, conn.transaction():  # audited with the change
        return await db.insert(conn, period.label, subject, size, street_id, snapshot)


async def listed(pool: Any, period: str | None, status: Status | None) -> list[Board]:
    return await db.listed(pool, period, status)


async def get(pool: Any, board_id: int) -> Board:
    row = await db.get(pool, board_id)
    if row is None:
        raise _no_board(board_id)
    return row


async def _transition(
    pool: Any,
    caller_name: str | None,
    board_id: int,
    expected: Status,
    step: Callable[[Conn], Awaitable[Board]],
) -> Board:
    async with pool.acquire() as conn, conn.transaction():
        board = await db.get(conn, board_id, for_update=True)
        if board is None:
            raise _no_board(board_id)
        if board.status != expected:
            raise conflict(
                "invalid_state",
                f"board {board_id} is {board.status}; this step needs a {expected} board"
                + (" (published boards are immutable)" if board.status == "published" else ""),
            )
        if board.drafted_by is not None and board.drafted_by == caller_name:
            # separation of duties: a board is checked and published by someone else
            raise forbidden(
                "same_author",
                f"board {board_id} was drafted by {caller_name}; another person must review "
                "and publish it",
            )
        return await step(conn)


async def review(pool: Any, caller_name: str | None, board_id: int, reviewer: str) -> Board:
    return await _transition(
        pool, caller_name, board_id, "draft", lambda c: db.mark_reviewed(c, board_id, reviewer)
    )


async def publish(pool: Any, caller_name: str | None, board_id: int) -> Board:
    return await _transition(
        pool, caller_name, board_id, "reviewed", lambda c: db.mark_published(c, board_id)
    )
