"""Which figures a read of a period answers from: the closed ones when the period is closed
(the published results hold), unless the caller asks for `figures=live`; the live ones
otherwise. Both query modules have the same functions, so a route just calls `src.<query>`.
The `figures` parameter itself is read in `api.params`."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from shared.refusals import conflict

from ..domain.standing import Figures
from ..persistence import closed as closed_queries
from ..persistence import live as live_queries
from ..persistence import periods as periods_db


async def choose(pool: Any, period: str, asked: Figures | None) -> tuple[ModuleType, Figures]:
    closed = await periods_db.is_closed(pool, period)
    if asked == "closed" and not closed:
        raise conflict(
            "not_closed",
            f"period {period} is not closed: only live figures exist",
            field="figures",
            rule="figures=live, or close the period first",
        )
    if closed and asked != "live":
        return closed_queries, "closed"
    return live_queries, "live"
