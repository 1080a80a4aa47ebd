"""SQL of the members service (asyncpg). Every function takes a connection that the caller
holds inside its one transaction; nothing here commits or decides business rules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared import projections

from .domain.rules import Version

Row = asyncpg.Record
# a plain connection, or one lent by the pool
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# --- regions (projection of partygrid.region.defined) ---------------------------------------


async def get_region(conn: Conn, region_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM regions WHERE region_id = $1", region_id)


async def region_path(conn: Conn, region_id: str) -> list[str]:
    """The region and its known ancestors, nearest first (just the id when it is unknown)."""
    return await projections.region_path(conn, region_id)


async def upsert_region(
    conn: Conn,
    region_id: str,
    level: str,
    name: str,
    parent_id: str | None,
    retired: bool,
    version: Version,
) -> None:
    """Keep the region as its latest event by (time, source, id) says."""
    await projections.upsert_regions(
        conn,
        [projections.RegionVersion(region_id, level, name, parent_id, retired, version)],
    )


# --- Party organisations -------------------------------------------------------------------


async def get_party_org(conn: Conn, party_org_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM party_orgs WHERE party_org_id = $1", party_org_id)


async def list_party_orgs(conn: Conn, parent_id: str | None = None) -> list[Row]:
    if parent_id is None:
        return await conn.fetch("SELECT * FROM party_orgs ORDER BY party_org_id")
    return await conn.fetch(
        "SELECT * FROM party_orgs WHERE parent_id = $1 ORDER BY party_org_id", parent_id
    )


async def party_org_ancestors(conn: Conn, party_org_id: str) -> list[str]:
    rows = await conn.fetch(
        """WITH RECURSIVE up(id, parent_id, depth) AS (
               SELECT party_org_id, parent_id, 0 FROM party_orgs WHERE party_org_id = $1
               UNION ALL
               SELECT p.party_org_id, p.parent_id, up.depth + 1
               FROM party_orgs p JOIN up ON p.party_org_id = up.parent_id WHERE up.depth < 50)
           SELECT id FROM up ORDER BY depth""",
        party_org_id,
    )
    return [r["id"] for r in rows]


async def upsert_party_org(
    conn: Conn, party_org_id: str, name: str, kind: str, parent_id: str | None
) -> None:
    await conn.execute(
        """INSERT INTO party_orgs (party_org_id, name, kind, parent_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (party_org_id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
               parent_id = excluded.parent_id, updated_at = now()""",
        party_org_id,
        name,
        kind,
        parent_id,
    )


async def resolve_party_orgs(conn: Conn, refs: Sequence[str]) -> dict[str, str]:
    """Map each reference (an id, or an organisation's exact and unique name) to its id."""
    rows = await conn.fetch(
        """SELECT k.ref, p.party_org_id FROM unnest($1::text[]) AS k(ref)
           JOIN party_orgs p ON p.party_org_id = k.ref
           UNION ALL
           SELECT k.ref, min(p.party_org_id) FROM unnest($1::text[]) AS k(ref)
           JOIN party_orgs p ON p.name = k.ref
           WHERE NOT EXISTS (SELECT 1 FROM party_orgs q WHERE q.party_org_id = k.ref)
           GROUP BY k.ref HAVING count(*) = 1""",
        list(set(refs)),
    )
    return {r["ref"]: r["party_org_id"] for r in rows}


# --- members -------------------------------------------------------------------------------

MEMBER_SELECT = """
    SELECT m.*, c.community_id AS cur_community_id, c.grid_id AS cur_grid_id,
           c.skills AS cur_skills, c.ev_time AS cur_time, c.ev_source AS cur_source
    FROM members m LEFT JOIN current_reports c USING (member_id)"""


async def get_member(conn: Conn, member_id: str) -> Row | None:
    """A registered member (with their current report), or None."""
    return await conn.fetchrow(
        MEMBER_SELECT + " WHERE m.member_id = $1 AND m.name IS NOT NULL", member_id
    )


async def lock_member(conn: Conn, member_id: str, *, create: bool) -> Row | None:
    """Lock the member's row for this transaction (creating an empty one if `create`), so
    concurrent changes to one member happen one after the other."""
    if create:
        await conn.execute(
            "INSERT INTO members (member_id) VALUES ($1) ON CONFLICT DO NOTHING", member_id
        )
    return await conn.fetchrow("SELECT * FROM members WHERE member_id = $1 FOR UPDATE", member_id)


async def lock_members(conn: Conn, member_ids: Sequence[str]) -> dict[str, Row]:
    await conn.execute(
        """INSERT INTO members (member_id) SELECT unnest($1::text[])
           ON CONFLICT DO NOTHING""",
        list(member_ids),
    )
    rows = await conn.fetch(
        "SELECT * FROM members WHERE member_id = ANY($1::text[]) ORDER BY member_id FOR UPDATE",
        list(member_ids),
    )
    return {r["member_id"]: r for r in rows}


REGISTRY_COLUMNS = (
    "name",
    "category",
    "party_org_id",
    "joined_on",
    "skills",
    "phone",
    "id_number",
    "address_community_id",
    "active",
    "deregistered_reason",
    "reg_time",
    "reg_source",
    "reg_event_id",
    "state_time",
    "state_source",
    "state_event_id",
)


async def update_member(conn: Conn, member_id: str, values: dict[str, Any]) -> None:
    cols = [c for c in values if c in REGISTRY_COLUMNS]
    if not cols:
        return
    sets = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(cols))
    await conn.execute(
        f"UPDATE members SET {sets}, updated_at = now() WHERE member_id = $1",
        member_id,
        *[values[c] for c in cols],
    )


async def update_members(conn: Conn, rows: Sequence[dict[str, Any]]) -> None:
    """Write full registry rows (every REGISTRY_COLUMNS key) for many members at once."""
    if not rows:
        return
    sets = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(REGISTRY_COLUMNS))
    await conn.executemany(
        f"UPDATE members SET {sets}, updated_at = now() WHERE member_id = $1",
        [(r["member_id"], *[r[c] for c in REGISTRY_COLUMNS]) for r in rows],
    )


async def id_number_owners(conn: Conn, id_numbers: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT id_number, member_id FROM members WHERE id_number = ANY($1::text[])",
        list(id_numbers),
    )
    return {r["id_number"]: r["member_id"] for r in rows}


async def existing_regions(conn: Conn, ids: Sequence[str], level: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT region_id FROM regions WHERE region_id = ANY($1::text[]) AND level = $2 "
        "AND NOT retired",
        list(ids),
        level,
    )
    return {r["region_id"] for r in rows}


async def members_of_community(conn: Conn, community_id: str, category: str | None) -> list[Row]:
    return await conn.fetch(
        MEMBER_SELECT
        + """ WHERE c.community_id = $1 AND m.active AND ($2::text IS NULL OR m.category = $2)
              ORDER BY m.member_id""",
        community_id,
        category,
    )


async def members_of_party_org(
    conn: Conn, party_org_ids: Sequence[str], category: str | None
) -> list[Row]:
    return await conn.fetch(
        MEMBER_SELECT
        + """ WHERE m.party_org_id = ANY($1::text[]) AND m.active
              AND ($2::text IS NULL OR m.category = $2) ORDER BY m.member_id""",
        list(party_org_ids),
        category,
    )


async def party_org_subtree(conn: Conn, party_org_id: str) -> list[str]:
    rows = await conn.fetch(
        """WITH RECURSIVE down(id, depth) AS (
               SELECT party_org_id, 0 FROM party_orgs WHERE party_org_id = $1
               UNION ALL
               SELECT p.party_org_id, down.depth + 1 FROM party_orgs p
               JOIN down ON p.parent_id = down.id WHERE down.depth < 50)
           SELECT id FROM down""",
        party_org_id,
    )
    return [r["id"] for r in rows]


async def reporting_rate(conn: Conn, community_id: str) -> Row:
    row = await conn.fetchrow(
        """SELECT
             count(*) FILTER (WHERE m.address_community_id = $1) AS residents,
             count(*) FILTER (WHERE m.address_community_id = $1 AND c.community_id = $1)
                 AS reported_residents,
             count(*) FILTER (WHERE c.community_id = $1) AS reported_here
           FROM members m LEFT JOIN current_reports c USING (member_id)
           WHERE m.active AND m.category = 'in_service'
             AND (m.address_community_id = $1 OR c.community_id = $1)""",
        community_id,
    )
    assert row is not None  # an aggregate always returns one row
    return row


# --- reports -------------------------------------------------------------------------------


async def record_report(
    conn: Conn,
    member_id: str,
    community_id: str,
    grid_id: str | None,
    skills: Sequence[str],
    version: Version,
) -> None:
    """Add a report to the history and make it current if it is the latest by
    (time, source, id). A redelivered report (same source and id) changes nothing."""
    inserted = await conn.fetchval(
        """INSERT INTO member_reports (member_id, community_id, grid_id, skills,
                                       ev_time, ev_source, ev_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ev_source, ev_id) DO NOTHING
           RETURNING report_seq""",
        member_id,
        community_id,
        grid_id,
        list(skills),
        *version,
    )
    if inserted is None:
        return
    await conn.execute(
        f"""INSERT INTO current_reports AS c (member_id, community_id, grid_id, skills,
                                             ev_time, ev_source, ev_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (member_id) DO UPDATE SET
               community_id = excluded.community_id, grid_id = excluded.grid_id,
               skills = excluded.skills, ev_time = excluded.ev_time,
               ev_source = excluded.ev_source, ev_id = excluded.ev_id
           WHERE {projections.later("excluded", "c")}""",
        member_id,
        community_id,
        grid_id,
        list(skills),
        *version,
    )


async def report_history(conn: Conn, member_id: str) -> list[Row]:
    return await conn.fetch(
        """SELECT * FROM member_reports WHERE member_id = $1
           ORDER BY ev_time, ev_source COLLATE "C", ev_id COLLATE "C" """,
        member_id,
    )


# --- units ---------------------------------------------------------------------------------


async def get_unit(conn: Conn, unit_id: str, *, lock: bool = False) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM units WHERE unit_id = $1" + (" FOR UPDATE" if lock else ""), unit_id
    )


async def upsert_unit(
    conn: Conn,
    unit_id: str,
    name: str,
    party_org_id: str,
    address: str | None,
    member_count: int | None,
) -> None:
    await conn.execute(
        """INSERT INTO units (unit_id, name, party_org_id, address, member_count)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (unit_id) DO UPDATE SET name = excluded.name,
               party_org_id = excluded.party_org_id, address = excluded.address,
               member_count = excluded.member_count, updated_at = now()""",
        unit_id,
        name,
        party_org_id,
        address,
        member_count,
    )


async def set_unit_report(
    conn: Conn, unit_id: str, community_id: str, at: datetime, event_id: str
) -> None:
    await conn.execute(
        "UPDATE units SET community_id = $2, reported_at = $3, updated_at = now() "
        "WHERE unit_id = $1",
        unit_id,
        community_id,
        at,
    )
    await conn.execute(
        "INSERT INTO unit_reports (unit_id, community_id, reported_at, event_id) "
        "VALUES ($1, $2, $3, $4)",
        unit_id,
        community_id,
        at,
        event_id,
    )


async def insert_agreement(
    conn: Conn,
    agreement_id: str,
    unit_id: str,
    community_id: str,
    signed_on: Any,
    valid_until: Any,
    commitments: list[dict[str, Any]],
) -> bool:
    got = await conn.fetchval(
        """INSERT INTO unit_agreements (agreement_id, unit_id, community_id, signed_on,
                                        valid_until, commitments)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT DO NOTHING RETURNING agreement_id""",
        agreement_id,
        unit_id,
        community_id,
        signed_on,
        valid_until,
        json.dumps(commitments, ensure_ascii=False, default=str),
    )
    return got is not None


async def get_agreement(conn: Conn, agreement_id: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT * FROM unit_agreements WHERE agreement_id = $1", agreement_id
    )


async def unit_agreements(conn: Conn, unit_ids: Sequence[str]) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM unit_agreements WHERE unit_id = ANY($1::text[]) "
        "ORDER BY signed_on, agreement_id",
        list(unit_ids),
    )


async def units_of_community(conn: Conn, community_id: str) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM units WHERE community_id = $1 ORDER BY unit_id", community_id
    )


# --- import jobs ---------------------------------------------------------------------------


async def get_job(conn: Conn | asyncpg.Pool, job_id: Any) -> Row | None:
    return await conn.fetchrow("SELECT * FROM import_jobs WHERE job_id = $1", job_id)
