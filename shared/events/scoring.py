"""Events the scoring service publishes."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

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
