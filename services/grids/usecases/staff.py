"""Use cases of a grid's people (一网格一支部): its leader, workers and household contacts, and
the Party branch attached to it. One leader per grid: a new leader replaces the old one, and
both changes are events of the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.events.envelope import CloudEvent
from shared.events.grids import (
    GRID_BRANCH_ATTACHED,
    GRID_BRANCH_DETACHED,
    GRID_STAFF_ASSIGNED,
    GRID_STAFF_REMOVED,
    GridBranchAttached,
    GridBranchDetached,
    GridStaffAssigned,
    GridStaffRemoved,
    StaffRole,
)
from shared.events.types import RegionLevel
from shared.outbox import publish_own
from shared.refusals import Kind, Refusal, invalid

from ..domain.grids import Branch, StaffMember
from ..persistence import regions as regions_db
from ..persistence import staff as db
from .context import Context, live_grid, missing, own_event, path_ids


async def assign_staff(
    ctx: Context,
    grid_id: str,
    *,
    staff_id: str,
    role: StaffRole,
    name: str,
    member_id: str | None,
    building_id: str | None,
) -> StaffMember:
    """Assign a person to a grid; a new leader replaces the old one (one leader per grid)."""
    ctx.caller.require_write()
    if role is StaffRole.HOUSEHOLD_CONTACT and member_id is None:
        raise invalid(
            "member_required",
            "a household contact (党员中心户) is a member household: member_id is required",
            field="member_id",
        )
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await live_grid(conn, ctx, grid_id)
        if building_id is not None:
            building = await regions_db.get_region(conn, building_id)
            if (
                building is None
                or building["level"] != RegionLevel.BUILDING.value
                or building["parent_id"] != grid_id
                or building["retired"]
            ):
                raise invalid(
                    "unknown_building",
                    f"{building_id} is not a live building of grid {grid_id}",
                    field="building_id",
                )
        events: list[CloudEvent] = []
        existing = await db.staff_member(conn, grid_id, staff_id, for_update=True)
        if (
            existing is not None
            and existing["role"] == role.value
            and existing["name"] == name
            and existing["member_id"] == member_id
            and existing["building_id"] == building_id
        ):
            return db.as_staff(existing)  # nothing changed, nothing to publish
        if existing is not None and existing["role"] != role.value:
            events.append(_removed_event(ctx, grid_id, staff_id, existing["role"], now))
        if role is StaffRole.LEADER:
            leader = await db.leader_of(conn, grid_id)
            if leader is not None and leader["staff_id"] != staff_id:
                await db.delete_staff(conn, grid_id, leader["staff_id"])
                events.append(_removed_event(ctx, grid_id, leader["staff_id"], "leader", now))
        await db.upsert_staff(
            conn,
            {
                "grid_id": grid_id,
                "staff_id": staff_id,
                "role": role.value,
                "name": name,
                "member_id": member_id,
                "building_id": building_id,
            },
        )
        events.append(
            own_event(
                ctx,
                GRID_STAFF_ASSIGNED,
                GridStaffAssigned(
                    grid_id=grid_id,
                    staff_id=staff_id,
                    role=role,
                    member_id=member_id,
                    building_id=building_id,
                ),
                grid_id,
                now,
            )
        )
        await publish_own(conn, events)
        row = await db.staff_member(conn, grid_id, staff_id)
    assert row is not None
    return db.as_staff(row)


def _removed_event(
    ctx: Context, grid_id: str, staff_id: str, role: str, now: datetime
) -> CloudEvent:
    return own_event(
        ctx,
        GRID_STAFF_REMOVED,
        GridStaffRemoved(grid_id=grid_id, staff_id=staff_id, role=StaffRole(role)),
        grid_id,
        now,
    )


async def remove_staff(ctx: Context, grid_id: str, staff_id: str) -> None:
    ctx.caller.require_write()
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await regions_db.get_region(conn, grid_id) is None:
            raise missing("grid", grid_id)
        ctx.caller.require_region(await path_ids(conn, grid_id))
        existing = await db.staff_member(conn, grid_id, staff_id, for_update=True)
        if existing is None:
            raise missing("staff", staff_id)
        await db.delete_staff(conn, grid_id, staff_id)
        await publish_own(
            conn, [_removed_event(ctx, grid_id, staff_id, existing["role"], datetime.now(UTC))]
        )


async def attach_branch(ctx: Context, grid_id: str, party_org_id: str, name: str) -> Branch:
    ctx.caller.require_write()
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await live_grid(conn, ctx, grid_id)
        old = await db.branch_of(conn, grid_id)
        events = []
        if old is not None and old["party_org_id"] != party_org_id:
            events.append(
                own_event(
                    ctx,
                    GRID_BRANCH_DETACHED,
                    GridBranchDetached(grid_id=grid_id, party_org_id=old["party_org_id"]),
                    grid_id,
                    now,
                )
            )
        if old is None or old["party_org_id"] != party_org_id or old["name"] != name:
            await db.set_branch(conn, grid_id, party_org_id, name)
        if old is None or old["party_org_id"] != party_org_id:
            events.append(
                own_event(
                    ctx,
                    GRID_BRANCH_ATTACHED,
                    GridBranchAttached(grid_id=grid_id, party_org_id=party_org_id),
                    grid_id,
                    now,
                )
            )
        await publish_own(conn, events)
        row = await db.branch_of(conn, grid_id)
    assert row is not None
    return db.as_branch(row)


async def detach_branch(ctx: Context, grid_id: str) -> None:
    ctx.caller.require_write()
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await regions_db.get_region(conn, grid_id) is None:
            raise missing("grid", grid_id)
        ctx.caller.require_region(await path_ids(conn, grid_id))
        old = await db.branch_of(conn, grid_id)
        if old is None:
            raise Refusal(
                Kind.NOT_FOUND, "not_found", f"grid {grid_id} has no Party branch attached"
            )
        await db.delete_branch(conn, grid_id)
        await publish_own(
            conn,
            [
                own_event(
                    ctx,
                    GRID_BRANCH_DETACHED,
                    GridBranchDetached(grid_id=grid_id, party_org_id=old["party_org_id"]),
                    grid_id,
                    datetime.now(UTC),
                )
            ],
        )
