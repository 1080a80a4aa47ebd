"""SQL of the region tree: the lock that serialises its structural changes, loading nodes to
check a placement, latest-wins writes (shared.projections), the read side (`regions_v`, which
flags orphans and misplaced regions), and the grids or streets inside a region."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared import projections
from shared.db import Conn
from shared.events.types import RegionLevel

from ..domain.regions import Node, Region, RegionBelow

TREE_LOCK = 0x5047_5452  # "PGTR": serialises structural changes of the region tree

Version = projections.Version


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


def as_region(row: asyncpg.Record) -> Region:
    """The domain region of a row of `regions_v` (REGION_COLUMNS)."""
    return Region(**_region_fields(row))


def as_region_below(row: asyncpg.Record) -> RegionBelow:
    """The domain region of a `subtree` row, with its distance."""
    return RegionBelow(**_region_fields(row), distance=row["distance"])


def _region_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "region_id": row["region_id"],
        "level": RegionLevel(row["level"]),
        "name": row["name"],
        "parent_id": row["parent_id"],
        "retired": row["retired"],
        "orphan": row["orphan"],
        "misplaced": row["misplaced"],
        "defined_at": row["ev_time"],
        "defined_by": row["ev_source"],
    }


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


async def live_streets(conn: Conn) -> list[str]:
    """Streets of the region tree that are not retired."""
    rows = await conn.fetch(
        "SELECT region_id FROM regions WHERE level = 'street' AND NOT retired ORDER BY region_id"
    )
    return [r["region_id"] for r in rows]
