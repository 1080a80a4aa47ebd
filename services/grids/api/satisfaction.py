"""HTTP API of residents' satisfaction with incidents (grids service).

POST /v1/incidents/{incident_id}/rating    the resident's rating of a closed incident (once)
GET  /v1/satisfaction/incidents?level=&within=
     ratings, mean score and satisfied share (4-5) per grid, community or street
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.types import ID_PATTERN
from shared.satisfaction import RatingIn, RatingOut, SatisfactionOut

from ..usecases import satisfaction
from .common import context_of

router = APIRouter(responses=ERROR_RESPONSES, tags=["satisfaction"])


@router.post(
    "/v1/incidents/{incident_id}/rating",
    status_code=201,
    response_model=RatingOut,
    summary="The resident rates a closed incident (1-5, once)",
)
async def rate_incident(
    incident_id: Annotated[str, Path(pattern=ID_PATTERN, description="The incident's id.")],
    body: RatingIn,
    request: Request,
    pool: Pool,
    caller: Caller,
) -> dict[str, Any]:
    return as_body(
        await satisfaction.rate_incident(
            context_of(request, pool, caller), incident_id, body.score, body.comment
        )
    )


@router.get(
    "/v1/satisfaction/incidents",
    response_model=SatisfactionOut,
    summary="Residents' satisfaction with incidents per grid, community or street",
)
async def incident_satisfaction(
    request: Request,
    pool: Pool,
    caller: Caller,
    level: Annotated[
        Literal["grid", "community", "street"], Query(description="Group by this level.")
    ] = "community",
    within: Annotated[
        str | None,
        Query(pattern=ID_PATTERN, description="Only inside this region (default: your scope)."),
    ] = None,
) -> dict[str, Any]:
    return as_body(
        await satisfaction.satisfaction(context_of(request, pool, caller), level, within)
    )
