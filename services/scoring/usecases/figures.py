"""Which figures a read of a period answers from: the closed ones when the period is closed
(the published results hold), unless the caller asks for `figures=live`; the live ones
otherwise. Both query modules have the same functions, so a route just calls `src.<query>`."""

from __future__ import annotations

from types import ModuleType
from typing import Annotated, Any, Literal

from fastapi import Query

from shared.api import ApiError

from ..persistence import closed as closed_queries
from ..persistence import live as live_queries
from ..persistence import periods as periods_db

Figures = Literal["closed", "live"]
FiguresParam = Annotated[
    Figures | None,
    Query(
        description="closed: the figures frozen when the period was closed; live: as they "
        "are now. Default: closed if the period is closed, else live."
    ),
]
FIGURES_DOC = "closed (frozen at the period's close) or live (as of now)."


async def choose(pool: Any, period: str, asked: Figures | None) -> tuple[ModuleType, Figures]:
    closed = await periods_db.is_closed(pool, period)
    if asked == "closed" and not closed:
        raise ApiError(
            409,
            "not_closed",
            f"period {period} is not closed: only live figures exist",
            field="figures",
            rule="figures=live, or close the period first",
        )
    if closed and asked != "live":
        return closed_queries, "closed"
    return live_queries, "live"
