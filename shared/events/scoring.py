"""Events the scoring service publishes."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .registry import register
from .types import Id

POINTS_CHANGED = "partygrid.points.changed"


@register(POINTS_CHANGED, "member_id", "A member's points in a month changed.")
class PointsChanged(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    member_id: Id = Field(description="The member whose points changed.")
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM.")
    points: Decimal = Field(decimal_places=2, description="The member's new total for the month.")
    delta: Decimal = Field(decimal_places=2, description="The change from the previous total.")


PERIOD_CLOSED = "partygrid.period.closed"
FEEDBACK_ISSUED = "partygrid.feedback.issued"


@register(PERIOD_CLOSED, "period", "A period's figures were closed: published, frozen.")
class PeriodClosed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    period: str = Field(
        pattern=r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$",
        description="The period closed: 2026-11, 2026-Q4, 2026-H2 or 2026.",
    )
    closed_at: AwareDatetime = Field(description="When it was closed.")
    closed_by: str | None = Field(default=None, description="Who closed it.")
    members: int = Field(ge=0, description="Counted members at the close.")
    total_points: Decimal = Field(decimal_places=2, description="Their points in the period.")
    active_members: int = Field(ge=0, description="Counted members with points above zero.")
    zero_point_members: int = Field(ge=0, description="Counted members at zero or below.")


@register(FEEDBACK_ISSUED, "party_org_id", "A half's feedback to a Party organisation was issued.")
class FeedbackIssued(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    party_org_id: Id = Field(
        description="The Party organisation (所属党组织) the feedback goes to; its "
        "sub-organisations' members are included."
    )
    period: str = Field(pattern=r"^\d{4}-H[12]$", description="The half, e.g. 2026-H2.")
    members: int = Field(
        ge=0,
        description="Its in-service members and its sub-organisations', in the closed figures.",
    )
    total_points: Decimal = Field(decimal_places=2, description="Their points in the half.")
    zero_point_members: int = Field(ge=0, description="Of them, members at zero or below.")
