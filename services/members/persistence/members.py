"""SQL of the member registry and 双报到: member rows (locked one by one or many at once), the
report history and current reports, and the lists and counts built on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared import projections
from shared.events.types import DeregistrationReason, MemberCategory

from ..domain.members import Member, Report
from ..domain.rules import Version
from .common import Conn, Row

MEMBER_SELECT = """
    SELECT m.*, c.community_id AS cur_community_id, c.grid_id AS cur_grid_id,
           c.skills AS cur_skills, c.ev_time AS cur_time, c.ev_source AS cur_source
    FROM members m LEFT JOIN current_reports c USING (member_id)"""


def as_member(row: Row) -> Member:
    """The domain member of a row of MEMBER_SELECT (a member with their current report)."""
    current = None
    if row["cur_community_id"] is not None:
        current = Report(
            community_id=row["cur_community_id"],
            grid_id=row["cur_grid_id"],
            skills=tuple(row["cur_skills"]),
            reported_at=row["cur_time"],
            source=row["cur_source"],
        )
    reason = row["deregistered_reason"]
    return Member(
        member_id=row["member_id"],
        name=row["name"],
        category=MemberCategory(row["category"]),
        party_org_id=row["party_org_id"],
        joined_on=row["joined_on"],
        skills=tuple(row["skills"]),
        phone=row["phone"],
        id_number=row["id_number"],
        address_community_id=row["address_community_id"],
        status="active" if row["active"] else "deregistered",
        deregistered_reason=None if reason is None else DeregistrationReason(reason),
        current_report=current,
    )


def as_report(row: Row) -> Report:
    """The domain report of a row of `member_reports` (moved_from is the history's to mark)."""
    return Report(
        community_id=row["community_id"],
        grid_id=row["grid_id"],
        skills=tuple(row["skills"]),
        reported_at=row["ev_time"],
        source=row["ev_source"],
    )


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
