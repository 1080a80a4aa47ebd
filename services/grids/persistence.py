"""SQL of the grids service (asyncpg). Every function takes a connection that the caller runs
inside its one transaction; nothing here commits on its own.

The region and member projections are written by shared.projections, as in every service:
versions compare as (time, source, id) with source and id by code point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared import projections
from shared.db import Conn
from shared.events.types import RegionLevel

from .domain.regions import Node

TREE_LOCK = 0x5047_5452  # "PGTR": serialises structural changes of the region tree

Version = projections.Version
TABLE = "grid_members"  # the member projection


@dataclass(frozen=True)
class RegionWrite:
    node: Node
    version: Version


async def lock_tree(conn: Conn) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1)", TREE_LOCK)


def _node(row: asyncpg.Record) -> Node:
    return Node(
        region_id=row["region_id"],
        level=RegionLevel(row["level"]),
        name=row["name"],
        parent_id=row["parent_id"],
        retired=row["retired"],
    )


async def load_tree(conn: Conn) -> dict[str, Node]:
    rows = await conn.fetch("SELECT region_id, level, name, parent_id, retired FROM regions")
    return {r["region_id"]: _node(r) for r in rows}


async def load_with_ancestors(conn: Conn, ids: Iterable[str]) -> dict[str, Node]:
    """The given regions and every ancestor of theirs: enough to check a placement."""
    rows = await conn.fetch(
        f"""WITH RECURSIVE up AS (
               SELECT region_id, level, name, parent_id, retired, 0 AS hops
               FROM regions WHERE region_id = ANY($1::text[])
               UNION
               SELECT r.region_id, r.level, r.name, r.parent_id, r.retired, up.hops + 1
               FROM regions r JOIN up ON r.region_id = up.parent_id
               WHERE up.hops < {projections.MAX_DEPTH})
           SELECT DISTINCT region_id, level, name, parent_id, retired FROM up""",
        list(ids),
    )
    return {r["region_id"]: _node(r) for r in rows}


async def region_version(conn: Conn, region_id: str) -> Version | None:
    row = await conn.fetchrow(
        "SELECT ev_time, ev_source, ev_id FROM regions WHERE region_id = $1", region_id
    )
    return None if row is None else (row["ev_time"], row["ev_source"], row["ev_id"])


async def live_children(conn: Conn, region_id: str, limit: int = 5) -> list[str]:
    rows = await conn.fetch(
        "SELECT region_id FROM regions WHERE parent_id = $1 AND NOT retired "
        "ORDER BY region_id LIMIT $2",
        region_id,
        limit,
    )
    return [r["region_id"] for r in rows]


async def write_regions(conn: Conn, writes: Sequence[RegionWrite]) -> int:
    """Upsert each region if its version is later than the stored one; return rows changed."""
    written = await projections.upsert_regions(
        conn,
        (
            projections.RegionVersion(
                w.node.region_id,
                w.node.level.value,
                w.node.name,
                w.node.parent_id,
                w.node.retired,
                w.version,
            )
            for w in writes
        ),
    )
    return len(written)


REGION_COLUMNS = (
    "region_id, level, name, parent_id, retired, orphan, misplaced, ev_time, ev_source, updated_at"
)


async def get_region(conn: Conn, region_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {REGION_COLUMNS} FROM regions_v WHERE region_id = $1", region_id
    )


async def path_to_root(conn: Conn, region_id: str) -> list[asyncpg.Record]:
    """The region, its parent, … up to the root (or the highest known ancestor)."""
    return await conn.fetch(
        f"""{projections.ANCESTORS}
            SELECT {", ".join("v." + c.strip() for c in REGION_COLUMNS.split(","))}
            FROM up JOIN regions_v v USING (region_id) ORDER BY up.hops""",
        region_id,
    )


async def children(conn: Conn, region_id: str, include_retired: bool) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {REGION_COLUMNS} FROM regions_v WHERE parent_id = $1 "
        "AND (NOT retired OR $2) ORDER BY region_id",
        region_id,
        include_retired,
    )


async def subtree(
    conn: Conn, region_id: str, include_retired: bool, max_depth: int
) -> list[asyncpg.Record]:
    """The region and its descendants, breadth first (distance, then id)."""
    return await conn.fetch(
        f"""WITH RECURSIVE down AS (
                SELECT region_id, 0 AS distance FROM regions WHERE region_id = $1
                UNION ALL
                SELECT r.region_id, down.distance + 1
                FROM regions r JOIN down ON r.parent_id = down.region_id
                WHERE (NOT r.retired OR $2) AND down.distance < $3)
            SELECT {", ".join("v." + c.strip() for c in REGION_COLUMNS.split(","))},
                   down.distance
            FROM down JOIN regions_v v USING (region_id)
            ORDER BY down.distance, v.region_id""",
        region_id,
        include_retired,
        max_depth,
    )


async def list_regions(
    conn: Conn,
    *,
    level: str | None,
    orphans_only: bool,
    include_retired: bool,
    limit: int,
    after: str | None,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {REGION_COLUMNS} FROM regions_v
            WHERE ($1::text IS NULL OR level = $1) AND (NOT $2 OR orphan OR misplaced)
              AND (NOT retired OR $3) AND ($5::text IS NULL OR region_id > $5)
            ORDER BY region_id LIMIT $4""",
        level,
        orphans_only,
        include_retired,
        limit,
        after,
    )


# --- grid staff and branches -------------------------------------------------------------


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


# --- members by grid ---------------------------------------------------------------------

# not deregistered: registered, or known only from a report so far
COUNTED = "m.status IS DISTINCT FROM 'deregistered'"


async def apply_reported(conn: Conn, rows: Sequence[tuple[str, str, str | None, Version]]) -> None:
    """rows: (member_id, community_id, grid_id, version); the latest report wins."""
    await projections.upsert_members(
        conn, TABLE, projections.REPORT, ((m, (c, g), v) for m, c, g, v in rows)
    )


async def apply_registered(conn: Conn, rows: Sequence[tuple[str, str, Version]]) -> None:
    """rows: (member_id, category, version); the latest registration wins, and the latest of
    registrations and deregistrations decides the status."""
    await projections.upsert_members(
        conn, TABLE, projections.REGISTRATION, ((m, (c,), v) for m, c, v in rows)
    )
    await apply_status(conn, [(m, "registered", v) for m, _, v in rows])


async def apply_status(conn: Conn, rows: Sequence[tuple[str, str, Version]]) -> None:
    """rows: (member_id, 'registered' or 'deregistered', version); the latest wins."""
    await projections.upsert_members(
        conn, TABLE, projections.STATUS, ((m, (s,), v) for m, s, v in rows)
    )


async def grid_members(conn: Conn, grid_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT m.member_id, coalesce(m.category, 'unknown') AS category, m.community_id
            FROM grid_members m WHERE m.grid_id = $1 AND {COUNTED} ORDER BY m.member_id""",
        grid_id,
    )


async def member_counts(conn: Conn, grid_ids: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT m.grid_id, coalesce(m.category, 'unknown') AS category, count(*) AS n
            FROM grid_members m WHERE m.grid_id = ANY($1::text[]) AND {COUNTED}
            GROUP BY 1, 2 ORDER BY 1, 2""",
        list(grid_ids),
    )


async def grids_within(conn: Conn, within: str | None) -> list[str]:
    rows = await conn.fetch(
        """WITH RECURSIVE scope AS (
               SELECT region_id, 0 AS distance FROM regions WHERE region_id = $1
               UNION ALL
               SELECT r.region_id, scope.distance + 1 FROM regions r
               JOIN scope ON r.parent_id = scope.region_id WHERE scope.distance < 8)
           SELECT region_id FROM regions
           WHERE level = 'grid' AND NOT retired
             AND ($1::text IS NULL OR region_id IN (SELECT region_id FROM scope))
           ORDER BY region_id""",
        within,
    )
    return [r["region_id"] for r in rows]


# --- visits ------------------------------------------------------------------------------


async def insert_visit(conn: Conn, v: dict[str, Any]) -> bool:
    row = await conn.fetchrow(
        """INSERT INTO visits (visit_id, grid_id, staff_id, member_id, households,
               duration_minutes, notes, visited_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING visit_id""",
        v["visit_id"],
        v["grid_id"],
        v["staff_id"],
        v["member_id"],
        v["households"],
        v["duration_minutes"],
        v["notes"],
        v["visited_at"],
    )
    return row is not None


async def visits_of(conn: Conn, grid_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM visits WHERE grid_id = $1 ORDER BY visited_at DESC, visit_id LIMIT $2",
        grid_id,
        limit,
    )


async def live_streets(conn: Conn) -> list[str]:
    """Streets of the region tree that are not retired."""
    rows = await conn.fetch(
        "SELECT region_id FROM regions WHERE level = 'street' AND NOT retired ORDER BY region_id"
    )
    return [r["region_id"] for r in rows]
