"""Grid visits (入户走访): a leader or worker of the grid logs one; a visit by a Party member
also counts as activity grid_visit for scoring (activity.logged, through the outbox, in the
same transaction)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.events import ACTIVITY_LOGGED, ActivityLogged
from shared.events.grids import VISIT_LOGGED, VisitLogged
from shared.events.types import ActivityType, RegionLevel
from shared.outbox import publish_own
from shared.refusals import conflict, invalid

from ..domain.visits import LoggedVisit, Visit, logged
from ..persistence import regions as regions_db
from ..persistence import staff as staff_db
from ..persistence import visits as db
from .context import (
    MAX_CLOCK_SKEW,
    Context,
    ancestor_at,
    live_grid,
    missing,
    own_event,
    path_ids,
)


async def log_visit(
    ctx: Context,
    grid_id: str,
    *,
    staff_id: str,
    households: int,
    duration_minutes: int,
    notes: str,
    visited_at: datetime | None,
    visit_id: str | None,
) -> LoggedVisit:
    """A grid worker logs a visit; a visit by a Party member also counts as activity
    grid_visit for scoring (activity.logged, through the outbox)."""
    ctx.caller.require_write()
    now = datetime.now(UTC)
    when = visited_at or now
    if when - now > MAX_CLOCK_SKEW:
        raise invalid("in_future", "visited_at lies in the future", field="visited_at")
    visit_id = visit_id or f"visit-{uuid.uuid4().hex}"
    async with ctx.pool.acquire() as conn, conn.transaction():
        path = await live_grid(conn, ctx, grid_id)
        staff = await staff_db.staff_member(conn, grid_id, staff_id)
        if staff is None or staff["role"] not in ("leader", "worker"):
            raise invalid(
                "not_grid_staff",
                f"{staff_id} is not a leader or worker of grid {grid_id}; assign them first",
                field="staff_id",
            )
        member_id = staff["member_id"]
        visit = Visit(
            visit_id=visit_id,
            grid_id=grid_id,
            staff_id=staff_id,
            member_id=member_id,
            households=households,
            duration_minutes=duration_minutes,
            notes=notes,
            visited_at=when,
        )
        inserted = await db.insert_visit(conn, visit)
        if not inserted:
            raise conflict(
                "duplicate_visit", f"visit {visit_id} was already logged", field="visit_id"
            )
        events = [
            own_event(
                ctx,
                VISIT_LOGGED,
                VisitLogged(
                    visit_id=visit_id,
                    grid_id=grid_id,
                    staff_id=staff_id,
                    member_id=member_id,
                    households=households,
                    duration_minutes=duration_minutes,
                ),
                grid_id,
                when,
            )
        ]
        if member_id is not None:  # it counts for scoring (domain.visits)
            community = await ancestor_at(conn, path, RegionLevel.COMMUNITY)
            events.append(
                own_event(
                    ctx,
                    ACTIVITY_LOGGED,
                    ActivityLogged(
                        member_id=member_id,
                        activity_type=ActivityType.GRID_VISIT,
                        activity_id=visit_id,
                        community_id=community,
                    ),
                    member_id,
                    when,
                )
            )
        await publish_own(conn, events)
    return logged(visit)


async def list_visits(ctx: Context, grid_id: str, limit: int) -> list[Visit]:
    async with ctx.pool.acquire() as conn:
        if await regions_db.get_region(conn, grid_id) is None:
            raise missing("grid", grid_id)
        ctx.caller.require_region(await path_ids(conn, grid_id))
        rows = await db.visits_of(conn, grid_id, limit)
    return [db.as_visit(r) for r in rows]
