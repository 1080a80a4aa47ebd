"""The values of red and black boards (红黑榜, docs/design.md §4.10): a board's two lists as
drafted (a snapshot that never changes) and its workflow state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

Subject = Literal["members", "communities"]
Status = Literal["draft", "reviewed", "published"]


@dataclass(frozen=True)
class MemberEntry:
    """A member on a board: their rank among everyone in the scope, and their points."""

    rank: int
    member_id: str
    name: str | None
    community_id: str | None
    score: float


@dataclass(frozen=True)
class CommunityEntry:
    """A community on a board: its rank by average points, and the members counted."""

    rank: int
    region_id: str
    name: str | None
    score: float
    members: int


BoardEntry: TypeAlias = MemberEntry | CommunityEntry


@dataclass(frozen=True)
class Snapshot:
    """The two lists: the top entries (红榜) and the bottom ones (黑榜), lowest first."""

    red: tuple[BoardEntry, ...]
    black: tuple[BoardEntry, ...]


@dataclass(frozen=True)
class Board:
    """A board with its snapshot and who drafted, reviewed and published it (audit actors)."""

    board_id: int
    period: str
    subject: Subject
    size: int
    street_id: str | None
    status: Status
    red: tuple[BoardEntry, ...]
    black: tuple[BoardEntry, ...]
    created_at: datetime
    reviewed_by: str | None
    published_at: datetime | None
    drafted_by: str | None
    review_entered_by: str | None
    published_by: str | None


def community_snapshot(ranked: list[CommunityEntry], size: int) -> Snapshot:
    """The `size` best communities and the `size` worst (the worst first)."""
    return Snapshot(red=tuple(ranked[:size]), black=tuple(reversed(ranked[-size:])))
