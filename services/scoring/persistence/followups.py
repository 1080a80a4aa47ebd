"""SQL of the follow-up of members due for it: the city's organisation-life rule (read in
`orglife`) and the talks community admins record; who recorded a talk comes from the audit
actor."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from shared.db import Conn


async def set_org_life_rule(conn: Conn, every_quarter: bool, max_absences: int) -> None:
    await conn.execute(
        """UPDATE org_life_rule SET every_quarter = $1, max_absences = $2,
               set_by = partygrid_actor(), set_at = now()""",
        every_quarter,
        max_absences,
    )


async def talks(conn: Any, period: str, member_ids: list[str]) -> list[asyncpg.Record]:
    """The talks recorded for the period with these members, in the order they were held."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM followups WHERE period = $1 AND member_id = ANY($2::text[])
           ORDER BY held_on, followup_id""",
        period,
        member_ids,
    )
    return rows


async def insert(
    conn: Conn,
    member_id: str,
    period: str,
    kind: str,
    held_on: date,
    note: str | None,
    community_id: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO followups (member_id, period, kind, held_on, note, community_id)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        member_id,
        period,
        kind,
        held_on,
        note,
        community_id,
    )
    assert row is not None  # INSERT ... RETURNING
    return row
