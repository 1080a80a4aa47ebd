"""The values the use cases of service posts (设岗定责) return: a post with the members holding
it now, and a month of service confirmed for a holder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ServicePost:
    """A service post of a community, open or closed, and who holds it now."""

    post_id: str
    community_id: str
    title: str
    category: str
    duties: str
    slots: int
    status: str
    created_at: datetime
    holders: tuple[str, ...]


@dataclass(frozen=True)
class PostMonth:
    """A month of service confirmed for a holder of a post; `published` is False when it was
    confirmed before (nothing new is logged)."""

    post_id: str
    member_id: str
    month: str
    logged_event_id: str
    published: bool
