"""HTTP API of residents' satisfaction with small wishes (activities service).

POST /v1/wishes/{wish_id}/rating        the resident's rating of a fulfilled wish (once)
GET  /v1/satisfaction/wishes?level=&within=
     ratings, mean score and satisfied share (4-5) per community or street
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events import ID_PATTERN
from shared.satisfaction import RatingIn, RatingOut, SatisfactionOut

from ..usecases.satisfaction import Satisfaction


def get_satisfaction(request: Request, pool: Pool) -> Satisfaction:
    return Satisfaction(pool, request.app.state.runtime.settings)


Cases = Annotated[Satisfaction, Depends(get_satisfaction)]
router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["satisfaction"])


@router.post(
    "/wishes/{wish_id}/rating",
    status_code=201,
    response_model=RatingOut,
    summary="The resident rates a fulfilled wish (1-5, once)",
)
async def rate_wish(
    wish_id: Annotated[str, Path(pattern=ID_PATTERN, description="The wish's id.")],
    body: RatingIn,
    caller: Caller,
    cases: Cases,
) -> dict[str, Any]:
    caller.require_write()
    return as_body(await cases.rate_wish(caller, wish_id, body.score, body.comment))


@router.get(
    "/satisfaction/wishes",
    response_model=SatisfactionOut,
    summary="Residents' satisfaction with small wishes per community or street",
)
async def wish_satisfaction(
    caller: Caller,
    cases: Cases,
    level: Annotated[
        Literal["community", "street"], Query(description="Group by this level.")
    ] = "community",
    within: Annotated[
        str | None,
        Query(
            pattern=ID_PATTERN,
            description="Only this community or street (default: all within your scope).",
        ),
    ] = None,
) -> dict[str, Any]:
    return as_body(await cases.satisfaction(caller, level, within))
