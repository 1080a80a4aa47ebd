"""The half-yearly feedback to each member's own Party organisation (每半年反馈): its in-service
members (sub-organisations included) with their points, volunteer hours and activities in the
half, as JSON or as a CSV a spreadsheet opens (UTF-8 with a byte-order mark).

- GET /v1/reports/feedback?party_org_id=&period=2026-H2&format=json|csv
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events import ID_PATTERN

from ..domain import standing as domain
from ..usecases import reads
from ..usecases.figures import Figures, choose
from ..usecases.reads import feedback_orgs
from .params import FIGURES_DOC, FiguresParam, Points, period_of

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)

CSV_COLUMNS = [
    "member_id",
    "name",
    "community_id",
    "community_name",
    "points",
    "volunteer_hours",
    "activities",
    "by_type",
]


class FeedbackItem(BaseModel):
    member_id: str = Field(description="An in-service member of the organisation.")
    party_org_id: str = Field(default="", description="Their own organisation (in the subtree).")
    name: str | None = Field(description="Name.")
    community_id: str | None = Field(description="Community reported to (双报到), if any.")
    community_name: str | None = Field(description="Its name, if known.")
    points: Points = Field(description="Points in the half.")
    by_type: dict[str, Points] = Field(description="Points by type in the half.")
    volunteer_hours: Points = Field(description="Volunteer service hours in the half.")
    activities: int = Field(description="Activities taken part in during the half.")
    deregistered: bool = Field(description="True if the member has left the registry.")


class Feedback(BaseModel):
    party_org_id: str = Field(description="The member's own Party organisation.")
    period: str = Field(description="The half, e.g. 2026-H2.")
    members: list[FeedbackItem] = Field(description="Its in-service members.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get(
    "/reports/feedback", response_model=Feedback, responses={200: {"content": {"text/csv": {}}}}
)
async def feedback(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: Annotated[str, Query(description="A half: 2026-H2 (other periods accepted).")],
    party_org_id: Annotated[
        str | None,
        Query(
            pattern=ID_PATTERN,
            description="所属党组织 id; its sub-organisations' members are included. "
            "Default for a party_org token: its own.",
        ),
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv.")] = "json",
    figures: FiguresParam = None,
) -> Any:
    party_org_id, orgs = await feedback_orgs(pool, caller, party_org_id)
    p = period_of(request, period)
    src, fig = await choose(pool, p.label, figures)
    report = await reads.feedback(pool, party_org_id, orgs, p, src, fig)
    if format == "csv":
        return _csv(report, f"feedback-{party_org_id}-{p.label}.csv")
    return Feedback.model_validate(as_body(report))


def _csv(report: domain.Feedback, filename: str) -> Response:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for i in report.members:
        w.writerow(
            [
                i.member_id,
                i.name or "",
                i.community_id or "",
                i.community_name or "",
                f"{i.points:.2f}",
                f"{i.volunteer_hours:.2f}",
                i.activities,
                ";".join(f"{k}={v:.2f}" for k, v in sorted(i.by_type.items())),
            ]
        )
    # the byte-order mark makes spreadsheet programs read the file as UTF-8
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
