"""Events that define the region tree (district → street → community → grid → building)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .registry import register
from .types import Id, RegionLevel

REGION_DEFINED = "partygrid.region.defined"


@register(REGION_DEFINED, "region_id", "A region was created, renamed, moved or retired.")
class RegionDefined(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    region_id: Id = Field(description="The region's id, usually its administrative code.")
    level: RegionLevel = Field(description="district, street, community, grid or building.")
    name: str = Field(min_length=1, max_length=200, description="The region's name.")
    parent_id: Id | None = Field(
        default=None, description="The parent region; required for every level below district."
    )
    retired: bool = Field(default=False, description="True when the region no longer exists.")

    @model_validator(mode="after")
    def _parent_required(self) -> RegionDefined:
        if self.level is not RegionLevel.DISTRICT and self.parent_id is None:
            raise ValueError(f"parent_id is required for a {self.level.value}")
        if self.parent_id == self.region_id:
            raise ValueError("a region cannot be its own parent")
        return self
