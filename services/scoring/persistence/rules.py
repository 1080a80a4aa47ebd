"""SQL of rules with a history: a rule version is never overwritten. Every version added and
every correction (a version posted again at the same activity_type and effective_from) is a new
row of the append-only rule_revisions (migration 0006), with its note and author (the caller's
name, from the audit actor); a correction names the revision it corrects. The revision of a key
that no revision corrects is in force; the view rule_versions shows those.
"""

from __future__ import annotations

import asyncpg

from shared.db import Conn

from ..domain.rulebook import RevisionEntry
from ..domain.rules import Rule


async def in_force(conn: Conn, rule: Rule) -> int | None:
    """The revision in force at the rule's (activity_type, effective_from), if there is one."""
    found: int | None = await conn.fetchval(
        "SELECT version_id FROM rule_versions WHERE activity_type = $1 AND effective_from = $2",
        rule.activity_type,
        rule.effective_from,
    )
    return found


async def append(conn: Conn, rule: Rule, note: str | None, corrects: int | None) -> int:
    """Record a revision (the caller holds the rules lock, so `corrects` is still in force)."""
    revision_id: int = await conn.fetchval(
        """INSERT INTO rule_revisions (activity_type, points, per, monthly_cap, effective_from,
                                       note, corrects)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING revision_id""",
        rule.activity_type,
        rule.points,
        rule.per,
        rule.monthly_cap,
        rule.effective_from,
        note,
        corrects,
    )
    return revision_id


async def revisions(pool: asyncpg.Pool, activity_type: str | None) -> list[RevisionEntry]:
    """Every revision, oldest first, with the revision that corrects it (if any)."""
    return [
        RevisionEntry(
            revision_id=r["revision_id"],
            activity_type=r["activity_type"],
            points=r["points"],
            per=r["per"],
            monthly_cap=r["monthly_cap"],
            effective_from=r["effective_from"],
            note=r["note"],
            created_by=r["created_by"],
            recorded_at=r["recorded_at"],
            correction=r["corrects"] is not None,
            corrects=r["corrects"],
            corrected_by=r["corrected_by"],
            in_force=r["corrected_by"] is None,
        )
        for r in await pool.fetch(
            """SELECT r.*, c.revision_id AS corrected_by
               FROM rule_revisions r
               LEFT JOIN rule_revisions c ON c.corrects = r.revision_id
               WHERE $1::text IS NULL OR r.activity_type = $1
               ORDER BY r.revision_id""",
            activity_type,
        )
    ]
