"""What every route module of the activities service shares: the dependency that builds a
use-case object for a request, typed path and query parameters, and the strict request base
(an unknown field is a 422, not silently dropped)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

import asyncpg
from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.api import Pool
from shared.events import ID_PATTERN
from shared.events.types import Id
from shared.settings import Settings


class _Built(Protocol):
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None: ...


C = TypeVar("C", bound=_Built)


def cases_of(cls: type[C]) -> Callable[[Request, asyncpg.Pool], C]:
    """A FastAPI dependency giving a request its use cases (the audited pool, the settings)."""

    def build(request: Request, pool: Pool) -> C:
        return cls(pool, request.app.state.runtime.settings)

    return build


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


class MemberIn(_In):
    member_id: Id = Field(description="The member.")


class CancelIn(_In):
    reason: str | None = Field(default=None, max_length=500, description="Why.")
