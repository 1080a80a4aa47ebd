"""SQL of a grid's people and Party branch (一网格一支部): leaders, workers and household
contacts, the attached branch, and the live grids that lack any of them (coverage)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.db import Conn
from shared.events.grids import StaffRole

from ..domain.grids import Branch, GridStaffing, StaffMember


def as_staff(row: asyncpg.Record) -> StaffMember:
    return StaffMember(
        staff_id=row["staff_id"],
        role=StaffRole(row["role"]),
        name=row["name"],
        member_id=row["member_id"],
        building_id=row["building_id"],
        assigned_at=row["assigned_at"],
    )


def as_branch(row: asyncpg.Record) -> Branch:
    return Branch(
        party_org_id=row["party_org_id"], name=row["name"], attached_at=row["attached_at"]
    )


def as_staffing(row: asyncpg.Record) -> GridStaffing:
    """A row of `coverage`."""
    return GridStaffing(
        grid_id=row["grid_id"],
        name=row["name"],
        community_id=row["community_id"],
        has_leader=row["has_leader"],
        has_worker=row["has_worker"],
        has_branch=row["has_branch"],
    )


async def staff_of(conn: Conn, grid_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT grid_id, staff_id, role, name, member_id, building_id, assigned_at "
        "FROM grid_staff WHERE grid_id = $1 ORDER BY role, staff_id",
        grid_id,
    )


async def staff_member(
    conn: Conn, grid_id: str, staff_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT grid_id, staff_id, role, name, member_id, building_id, assigned_at "
        "FROM grid_staff WHERE grid_id = $1 AND staff_id = $2"
        + (" FOR UPDATE" if for_update else ""),
        grid_id,
        staff_id,
    )


async def leader_of(conn: Conn, grid_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT staff_id, role FROM grid_staff WHERE grid_id = $1 AND role = 'leader' FOR UPDATE",
        grid_id,
    )


async def upsert_staff(conn: Conn, row: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO grid_staff (grid_id, staff_id, role, name, member_id, building_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (grid_id, staff_id) DO UPDATE SET role = EXCLUDED.role,
               name = EXCLUDED.name, member_id = EXCLUDED.member_id,
               building_id = EXCLUDED.building_id, assigned_at = now()""",
        row["grid_id"],
        row["staff_id"],
        row["role"],
        row["name"],
        row["member_id"],
        row["building_id"],
    )


async def delete_staff(conn: Conn, grid_id: str, staff_id: str) -> None:
    await conn.execute(
        "DELETE FROM grid_staff WHERE grid_id = $1 AND staff_id = $2", grid_id, staff_id
    )


async def branch_of(conn: Conn, grid_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT grid_id, party_org_id, name, attached_at FROM grid_branches WHERE grid_id = $1",
        grid_id,
    )


async def set_branch(conn: Conn, grid_id: str, party_org_id: str, name: str) -> None:
    await conn.execute(
        """INSERT INTO grid_branches (grid_id, party_org_id, name) VALUES ($1, $2, $3)
           ON CONFLICT (grid_id) DO UPDATE SET party_org_id = EXCLUDED.party_org_id,
               name = EXCLUDED.name, attached_at = now()""",
        grid_id,
        party_org_id,
        name,
    )


async def delete_branch(conn: Conn, grid_id: str) -> None:
    await conn.execute("DELETE FROM grid_branches WHERE grid_id = $1", grid_id)


async def coverage(conn: Conn, within: str | None) -> list[asyncpg.Record]:
    """Live grids (inside `within` if given) lacking a leader, a worker or a branch."""
    return await conn.fetch(
        """WITH RECURSIVE scope AS (
               SELECT region_id, 0 AS distance FROM regions WHERE region_id = $1
               UNION ALL
               SELECT r.region_id, scope.distance + 1 FROM regions r
               JOIN scope ON r.parent_id = scope.region_id WHERE scope.distance < 8)
           SELECT g.region_id AS grid_id, g.name, g.parent_id AS community_id,
                  EXISTS (SELECT 1 FROM grid_staff s
                          WHERE s.grid_id = g.region_id AND s.role = 'leader') AS has_leader,
                  EXISTS (SELECT 1 FROM grid_staff s
                          WHERE s.grid_id = g.region_id AND s.role = 'worker') AS has_worker,
                  EXISTS (SELECT 1 FROM grid_branches b
                          WHERE b.grid_id = g.region_id) AS has_branch
           FROM regions g
           WHERE g.level = 'grid' AND NOT g.retired
             AND ($1::text IS NULL OR g.region_id IN (SELECT region_id FROM scope))
           ORDER BY g.region_id""",
        within,
    )
