"""Incidents (事在网中办): report, assign, resolve, close and supervise, each an event of its
own transaction; incidents past their limit are flagged once (incident.overdue). The incident
gauges are re-read from the database after each change, once it is committed, so every replica
exports the same numbers. The life-cycle rules are in `domain.incidents`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from shared.events import new_event
from shared.events.envelope import CloudEvent
from shared.events.grids import (
    INCIDENT_ASSIGNED,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    INCIDENT_OVERDUE,
    INCIDENT_RESOLVED,
    INCIDENT_SUPERVISED,
    IncidentAssigned,
    IncidentCategory,
    IncidentClosed,
    IncidentOpened,
    IncidentOverdue,
    IncidentResolved,
    IncidentStatus,
    IncidentSupervised,
)
from shared.events.types import RegionLevel
from shared.outbox import publish_own
from shared.refusals import invalid
from shared.regions import require_region

from .. import metrics
from ..domain import incidents as rules
from ..domain.incidents import Incident
from ..persistence import incidents as db
from ..persistence import regions as regions_db
from ..persistence import staff as staff_db
from .context import MAX_CLOCK_SKEW, Context, live_grid, missing, own_event, path_ids, scope_within


async def report_incident(
    ctx: Context,
    grid_id: str,
    *,
    category: IncidentCategory,
    title: str,
    description: str,
    time_limit_hours: float,
    reported_at: datetime | None,
) -> Incident:
    ctx.caller.require_write()
    now = datetime.now(UTC)
    when = reported_at or now
    if when - now > MAX_CLOCK_SKEW:
        raise invalid("in_future", "reported_at lies in the future", field="reported_at")
    incident_id = f"inc-{uuid.uuid4().hex[:20]}"
    due = when + timedelta(hours=time_limit_hours)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await live_grid(conn, ctx, grid_id)
        await db.insert_incident(
            conn,
            {
                "incident_id": incident_id,
                "grid_id": grid_id,
                "category": category.value,
                "title": title,
                "description": description,
                "reported_at": when,
                "due_at": due,
            },
        )
        await publish_own(
            conn,
            [
                own_event(
                    ctx,
                    INCIDENT_OPENED,
                    IncidentOpened(
                        incident_id=incident_id, grid_id=grid_id, category=category, due_at=due
                    ),
                    incident_id,
                    when,
                )
            ],
        )
        row = await db.get_incident(conn, incident_id)
    await refresh_incident_gauges(ctx.pool)
    assert row is not None
    return db.as_incident(row, datetime.now(UTC))


async def transition(
    ctx: Context,
    incident_id: str,
    action: str,
    *,
    assignee_id: str | None = None,
    resolution: str | None = None,
    note: str | None = None,
    due_at: datetime | None = None,
) -> Incident:
    """assign / resolve / close / supervise; an action not allowed now is a 409."""
    ctx.caller.require_write()
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await db.get_incident(conn, incident_id, for_update=True)
        if row is None:
            raise missing("incident", incident_id)
        grid_id = row["grid_id"]
        ctx.caller.require_region(await path_ids(conn, grid_id) or [grid_id])
        status = IncidentStatus(row["status"])
        refusal = rules.check(
            action, status, supervised=row["supervised_at"] is not None, incident_id=incident_id
        )
        if refusal is not None:
            raise refusal
        target = rules.next_status(action, status)
        event: CloudEvent
        if action == "assign":
            assert assignee_id is not None
            staff = await staff_db.staff_member(conn, grid_id, assignee_id)
            if staff is None:
                raise invalid(
                    "not_grid_staff",
                    f"{assignee_id} does not serve grid {grid_id}; assign them to the grid first",
                    field="assignee_id",
                )
            await db.update_incident(
                conn, incident_id, status=target.value, assignee_id=assignee_id
            )
            event = own_event(
                ctx,
                INCIDENT_ASSIGNED,
                IncidentAssigned(incident_id=incident_id, grid_id=grid_id, assignee_id=assignee_id),
                incident_id,
                now,
            )
        elif action == "resolve":
            await db.update_incident(
                conn, incident_id, status=target.value, resolution=resolution or "", resolved_at=now
            )
            event = own_event(
                ctx,
                INCIDENT_RESOLVED,
                IncidentResolved(
                    incident_id=incident_id,
                    grid_id=grid_id,
                    assignee_id=row["assignee_id"],
                    overdue=rules.resolved_late(row["due_at"], now),
                ),
                incident_id,
                now,
            )
        elif action == "close":
            await db.update_incident(conn, incident_id, status=target.value, closed_at=now)
            event = own_event(
                ctx,
                INCIDENT_CLOSED,
                IncidentClosed(
                    incident_id=incident_id,
                    grid_id=grid_id,
                    overdue=rules.resolved_late(row["due_at"], row["resolved_at"]),
                ),
                incident_id,
                now,
            )
        elif action == "supervise":
            new_due = due_at or row["due_at"]
            await db.update_incident(
                conn,
                incident_id,
                supervised_at=now,
                supervision_note=note or "",
                due_at=new_due,
                overdue_flagged_at=None if new_due > now else row["overdue_flagged_at"],
            )
            event = own_event(
                ctx,
                INCIDENT_SUPERVISED,
                IncidentSupervised(incident_id=incident_id, grid_id=grid_id, due_at=new_due),
                incident_id,
                now,
            )
        else:  # pragma: no cover - the API only routes the four actions
            raise ValueError(action)
        await publish_own(conn, [event])
        updated = await db.get_incident(conn, incident_id)
    await refresh_incident_gauges(ctx.pool)
    assert updated is not None
    return db.as_incident(updated, now)


async def get_incident(ctx: Context, incident_id: str) -> Incident:
    async with ctx.pool.acquire() as conn:
        row = await db.get_incident(conn, incident_id)
        if row is None:
            raise missing("incident", incident_id)
        ctx.caller.require_region(await path_ids(conn, row["grid_id"]) or [row["grid_id"]])
    return db.as_incident(row, datetime.now(UTC))


async def list_incidents(
    ctx: Context,
    *,
    grid_id: str | None,
    within: str | None,
    status: IncidentStatus | None,
    overdue_only: bool,
    supervised_only: bool,
    limit: int,
) -> list[Incident]:
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn:
        if grid_id is not None:
            await require_region(
                conn, grid_id, level=RegionLevel.GRID, field="grid_id", retired_ok=True
            )
            ctx.caller.require_region(await path_ids(conn, grid_id) or [grid_id])
            grids: list[str] | None = [grid_id]
        else:
            within = await scope_within(conn, ctx, within)
            grids = None if within is None else await regions_db.grids_within(conn, within)
        rows = await db.list_incidents(
            conn,
            grid_ids=grids,
            status=status.value if status else None,
            overdue_only=overdue_only,
            supervised_only=supervised_only,
            now=now,
            limit=limit,
        )
    return [db.as_incident(r, now) for r in rows]


async def flag_overdue(pool: asyncpg.Pool, source: str) -> int:
    """Publish incident.overdue once for each unresolved incident past its limit."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        rows = await db.flag_newly_overdue(conn, now)
        await publish_own(
            conn,
            [
                new_event(
                    type=INCIDENT_OVERDUE,
                    source=source,
                    data=IncidentOverdue(
                        incident_id=r["incident_id"],
                        grid_id=r["grid_id"],
                        due_at=r["due_at"],
                        status=IncidentStatus(r["status"]),
                    ),
                    subject=r["incident_id"],
                    time=r["due_at"],
                )
                for r in rows
            ],
        )
    return len(rows)


async def refresh_incident_gauges(pool: asyncpg.Pool) -> tuple[int, int]:
    """Re-read the open and overdue incidents (in all, and overdue per community)."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        open_, overdue = await db.incident_counts(conn, now)
        by_community = await db.overdue_by_community(conn, now)
    metrics.show_incidents(open_, overdue, by_community)
    return open_, overdue
