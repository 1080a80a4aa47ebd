"""Checking a region id that a request names against the service's own region table.

Every service keeps the region tree of `partygrid.region.defined` in its table `regions`
(shared.projections): members, activities and scoring as a projection of the events, grids as
the tree's owner. A request that names a community, grid or
street by id is checked here, so that no service stores (and later publishes) an id nobody
defined, and so that every service refuses it the same way: 422 with the field, what was wrong
and what is accepted.

The rule (the same in the four services):
- a request body that places something new in a region (an activity, a wish, a 双报到 report)
  needs a known region of the named level that is not retired;
- a query filter needs a known region of the named level; a retired one is accepted, because
  what happened there before it was retired stays readable.
An unknown id is therefore never an empty list: it is a mistake the caller should see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .events.regions import REGION_DEFINED
from .events.types import RegionLevel
from .refusals import invalid


class _Fetches(Protocol):
    async def fetchrow(self, query: str, *args: Any) -> Any: ...


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def accepted(levels: Sequence[RegionLevel], *, retired_ok: bool, parent_id: str | None) -> str:
    """What a field accepts, in words (part of every refusal)."""
    names = " or ".join(level.value for level in levels)
    inside = f" of {parent_id}" if parent_id else ""
    state = ", retired or not" if retired_ok else ", not retired"
    return (
        f"the id of {_article(names)} {names}{inside} defined by {REGION_DEFINED} "
        f"(level {names}{state})"
    )


async def require_region(
    conn: _Fetches,
    region_id: str,
    *,
    level: RegionLevel | Sequence[RegionLevel],
    field: str,
    retired_ok: bool = False,
    parent_id: str | None = None,
) -> Any:
    """The region's row, or a Refusal (invalid: 422) when `region_id` is unknown here, of another level,
    retired (unless `retired_ok`, for filters) or not a child of `parent_id` (when given)."""
    levels = (level,) if isinstance(level, RegionLevel) else tuple(level)
    want = accepted(levels, retired_ok=retired_ok, parent_id=parent_id)
    kind = " or ".join(lv.value for lv in levels)
    row = await conn.fetchrow(
        "SELECT region_id, level, parent_id, retired FROM regions WHERE region_id = $1",
        region_id,
    )
    if row is None:
        problem, code = f"is not a known {kind}", "unknown_region"
    elif row["level"] not in {lv.value for lv in levels}:
        level_now = f"{_article(row['level'])} {row['level']}"
        problem, code = f"is {level_now}, not {_article(kind)} {kind}", "wrong_region_level"
    elif row["retired"] and not retired_ok:
        problem, code = f"is a retired {row['level']}", "retired_region"
    elif parent_id is not None and row["parent_id"] != parent_id:
        problem, code = f"is not {_article(kind)} {kind} of {parent_id}", "wrong_region_parent"
    else:
        return row
    raise invalid(
        code,
        f"{field} {region_id!r} {problem}; accepted: {want}",
        field=field,
        region_id=region_id,
        rule=problem,
        accepted=want,
    )
