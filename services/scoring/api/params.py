"""Query and path parameters every scoring route reads the same way: the period (default: the
current month in the city's time zone), which figures (closed or live), the ranking metric,
paging, and the member scope a list covers (at most one of community, grid, street; known
regions only; within the caller's token).

Why one module: the same parameter must be parsed, refused and documented identically in the
rankings, member, board, period, record and follow-up routes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import PlainSerializer

from shared.api import Pool
from shared.auth import Caller
from shared.events import ID_PATTERN, RegionLevel
from shared.refusals import invalid

from ..domain.periods import InvalidPeriod, Period, month_of, parse_period
from ..domain.ranking import METRICS
from ..persistence import live as q
from ..usecases.figures import Figures
from ..usecases.reads import check_scope, known_region

Points = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
FiguresParam = Annotated[
    Figures | None,
    Query(
        description="closed: the figures frozen when the period was closed; live: as they "
        "are now. Default: closed if the period is closed, else live."
    ),
]
FIGURES_DOC = "closed (frozen at the period's close) or live (as of now)."
IdParam = Annotated[str, Path(pattern=ID_PATTERN, description="A member id.")]
OptId = Annotated[str | None, Query(pattern=ID_PATTERN)]
PeriodParam = Annotated[
    str | None,
    Query(description="2026-11, 2026-Q4, 2026-H2 or 2026; default: the current month."),
]
MetricParam = Annotated[str, Query(description=f"One of: {', '.join(METRICS)}.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


def period_of(request: Request, label: str | None) -> Period:
    """The period a request names, or the current month in the city's time zone."""
    if label is None:
        label = month_of(datetime.now(UTC), request.app.state.runtime.settings.tz)
    try:
        return parse_period(label)
    except InvalidPeriod as exc:
        raise invalid("invalid_period", str(exc), field="period", rule=str(exc)) from None


def metric_of(metric: str) -> str:
    if metric not in METRICS:
        raise invalid(
            "invalid_metric",
            f"metric {metric!r} is not one of: {', '.join(METRICS)}",
            field="metric",
            rule=f"one of {', '.join(METRICS)}",
        )
    return metric


async def member_scope(
    pool: Pool,
    caller: Caller,
    community_id: OptId = None,
    grid_id: OptId = None,
    street_id: OptId = None,
) -> q.MemberScope:
    """The members a list covers: at most one of community, grid, street (none: the city),
    and one the caller's token may see."""
    ids = {"community_id": community_id, "grid_id": grid_id, "street_id": street_id}
    given = {k: v for k, v in ids.items() if v}
    if len(given) > 1:
        raise invalid(
            "invalid_scope",
            "give at most one of community_id, grid_id, street_id",
            field=",".join(given),
            rule="at most one scope",
        )
    await known_region(pool, community_id, RegionLevel.COMMUNITY, "community_id")
    await known_region(pool, grid_id, RegionLevel.GRID, "grid_id")
    await known_region(pool, street_id, RegionLevel.STREET, "street_id")
    await check_scope(pool, caller, community_id or grid_id or street_id)
    return q.MemberScope(**given)


ScopeParams = Annotated[q.MemberScope, Depends(member_scope)]
