"""What changed a closed period's live figures after its close (docs/design.md §4.10): each
late arrival (an entry, a revocation, a rule revision reaching back into the period) with the
member and the delta it made, replayed in arrival order by `domain.adjustments`, and the
members whose points differ (live - closed). Reads the ledger of the members concerned (not the
aggregates): late arrivals are few. SQL in `persistence.periods`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from shared.refusals import conflict

from ..domain.adjustments import Adjustments, adjustments
from ..domain.periods import Period, period_bounds
from ..persistence import periods as db


async def adjustments_of(pool: Any, p: Period, tz: ZoneInfo) -> Adjustments:
    closing = await db.status(pool, p.label)
    if closing is None:
        raise conflict("not_closed", f"period {p.label} has never been closed")
    since = closing.closed_at
    _, end = period_bounds(p, tz)
    async with pool.acquire() as conn:
        members = await db.late_members(conn, p, since)
        held = await db.held_entries(conn, p, members)
        revisions = await db.rule_revisions(conn)
        deltas = await db.member_deltas(conn, p.label)
    return adjustments(p.label, p.months, end, since, held, revisions, deltas)
