"""SQL of the follow-up of members due for it: the city's organisation-life rule (read in
`orglife`) and the talks community admins record; who recorded a talk comes from the audit
actor."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from shared.db import Conn

from ..domain.followups import Candidate, Followup, OrgLifeRule, Talk
from . import orglife


def as_candidate(row: Any) -> Candidate:
    """The member of a ranking row (`member_ranking` of the live or closed figures)."""
    return Candidate(row["member_id"], row["name"], row["community_id"], row["points"])


def as_followup(row: asyncpg.Record) -> Followup:
    return Followup(
        followup_id=row["followup_id"],
        member_id=row["member_id"],
        period=row["period"],
        kind=row["kind"],
        held_on=row["held_on"],
        note=row["note"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
    )


async def org_life_rule(conn: Any) -> OrgLifeRule:
    r = await orglife.rule(conn)
    return OrgLifeRule(every_quarter=r["every_quarter"], max_absences=r["max_absences"])


async def set_org_life_rule(conn: Conn, every_quarter: bool, max_absences: int) -> None:
    await conn.execute(
        """UPDATE org_life_rule SET every_quarter = $1, max_absences = $2,
               set_by = partygrid_actor(), set_at = now()""",
        every_quarter,
        max_absences,
    )


async def talks(conn: Any, period: str, member_ids: list[str]) -> dict[str, list[Talk]]:
    """The talks recorded for the period with these members, by member, in the order they were
    held."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT * FROM followups WHERE period = $1 AND member_id = ANY($2::text[])
           ORDER BY held_on, followup_id""",
        period,
        member_ids,
    )
    by_member: dict[str, list[Talk]] = {}
    for t in rows:
        by_member.setdefault(t["member_id"], []).append(
            Talk(kind=t["kind"], held_on=t["held_on"], note=t["note"], recorded_by=t["recorded_by"])
        )
    return by_member


async def insert(
    conn: Conn,
    member_id: str,
    period: str,
    kind: str,
    held_on: date,
    note: str | None,
    community_id: str | None,
) -> Followup:
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
    return as_followup(row)
