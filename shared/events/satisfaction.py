"""Residents' satisfaction (以社区居民满意度为主要衡量标准): after an incident is closed or a small
wish is fulfilled, the resident rates how it was handled, once. The comment stays in the
service that recorded it (it is a resident's free text); the event carries the score only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .registry import register
from .types import Id

SATISFACTION_RATED = "partygrid.satisfaction.rated"


@register(
    SATISFACTION_RATED,
    "subject_id",
    "A resident rated how a closed incident or a fulfilled wish was handled.",
)
class SatisfactionRated(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    subject_kind: Literal["incident", "wish"] = Field(
        description="What was rated: an incident of a grid (grids service) or a small wish of "
        "a community (activities service)."
    )
    subject_id: Id = Field(description="The incident or the wish.")
    region_id: Id = Field(
        description="Where it was handled: the incident's grid, or the wish's community."
    )
    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied).")


__all__ = ["SATISFACTION_RATED", "SatisfactionRated"]
