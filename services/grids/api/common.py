"""What every route module of the grids service shares: typed path and query parameters, the
strict request base and the use cases' context of a request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict

from shared.events.types import ID_PATTERN

from ..usecases.context import Context

RegionId = Annotated[
    str, Path(pattern=ID_PATTERN, description="A region id (administrative code).")
]
GridId = Annotated[str, Path(pattern=ID_PATTERN, description="The id of a region of level grid.")]
StaffId = Annotated[str, Path(pattern=ID_PATTERN, description="The staff member's id.")]
Within = Annotated[
    str | None,
    Query(
        pattern=ID_PATTERN,
        description="Only grids inside this region (default: your scope): a known district, "
        "street, community or grid (retired accepted); anything else is 422.",
    ),
]


def context_of(request: Request, pool: Any, caller: Any) -> Context:
    """The use cases' context of a request: its pool, its caller and this service's source."""
    return Context(pool=pool, caller=caller, source=request.app.state.runtime.settings.source)


class StrictIn(BaseModel):
    """A request body: an unknown field is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")
