"""Ordering and vocabulary rules shared by the API and the event handlers.

Registry state is decided by the latest event by (time, source, id), whatever order events
arrive in (docs/design.md §3.3). Events this service publishes get a time strictly after the latest one
it already holds for the same member, so an API change always supersedes what came before it,
even when an outside system stamped an event slightly in the future.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared import projections
from shared.events.types import MemberCategory

Version = tuple[datetime, str, str]

TICK = timedelta(microseconds=1)

CATEGORY_LABELS: dict[str, MemberCategory] = {
    "in_service": MemberCategory.IN_SERVICE,
    "在职": MemberCategory.IN_SERVICE,
    "在职党员": MemberCategory.IN_SERVICE,
    "resident": MemberCategory.RESIDENT,
    "居民": MemberCategory.RESIDENT,
    "居民党员": MemberCategory.RESIDENT,
    "直管党员": MemberCategory.RESIDENT,
    "社区党员": MemberCategory.RESIDENT,
    "mobile": MemberCategory.MOBILE,
    "流动": MemberCategory.MOBILE,
    "流动党员": MemberCategory.MOBILE,
    "retired": MemberCategory.RETIRED,
    "离退休": MemberCategory.RETIRED,
    "退休": MemberCategory.RETIRED,
    "离退休党员": MemberCategory.RETIRED,
    "退休党员": MemberCategory.RETIRED,
}


def newer(candidate: Version, current: Version | None) -> bool:
    """True if `candidate` wins over `current` (latest by time, then source, then id)."""
    return projections.newer(candidate, current)


def next_time(now: datetime, *known: datetime | None) -> datetime:
    """The time for a new event: now, or just after the latest time already known."""
    latest = max((t for t in known if t is not None), default=None)
    if latest is not None and latest >= now:
        return latest + TICK
    return now


def parse_category(raw: str) -> MemberCategory | None:
    return CATEGORY_LABELS.get(raw.strip().lower()) or CATEGORY_LABELS.get(raw.strip())
