"""SQL of the two-way evaluation of resident units: commitment statuses, report-backs, part-time
committee members, the points projection, and what a year's scores are computed from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from shared.db import Conn

from ..domain.evaluation import CommitteeMember, ReportBack

Row = asyncpg.Record


async def set_commitment(
    conn: Conn,
    agreement_id: str,
    no: int,
    status: str,
    done_on: date | None,
    note: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO unit_commitment_status AS s
               (agreement_id, commitment_no, status, done_on, note, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (agreement_id, commitment_no) DO UPDATE SET status = excluded.status,
               done_on = excluded.done_on, note = excluded.note, updated_at = excluded.updated_at""",
        agreement_id,
        no,
        status,
        done_on,
        note,
        at,
    )


async def upsert_review(conn: Conn, unit_id: str, year: int, values: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO unit_reviews (unit_id, year, region_id, reported_on, evaluation, note,
                                     recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (unit_id, year) DO UPDATE SET region_id = excluded.region_id,
               reported_on = excluded.reported_on, evaluation = excluded.evaluation,
               note = excluded.note, recorded_at = excluded.recorded_at""",
        unit_id,
        year,
        values["region_id"],
        values["reported_on"],
        values["evaluation"],
        values.get("note"),
        values["recorded_at"],
    )


async def upsert_committee_member(conn: Conn, unit_id: str, values: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO unit_committee_members (unit_id, member_id, region_id, post, since, until)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (unit_id, member_id, region_id) DO UPDATE SET post = excluded.post,
               since = excluded.since, until = excluded.until""",
        unit_id,
        values["member_id"],
        values["region_id"],
        values["post"],
        values["since"],
        values.get("until"),
    )


async def committee_members(conn: Conn, unit_ids: list[str]) -> list[CommitteeMember]:
    rows = await conn.fetch(
        "SELECT unit_id, member_id, region_id, post, since, until FROM unit_committee_members "
        "WHERE unit_id = ANY($1::text[]) ORDER BY unit_id, region_id, member_id",
        unit_ids,
    )
    return [CommitteeMember(**dict(r)) for r in rows]


async def record_points(conn: Conn, rows: list[tuple[Any, ...]]) -> None:
    """(member_id, period, points, time, source, id): keep the latest event per member-month."""
    await conn.executemany(
        """INSERT INTO member_points AS p (member_id, period, points, ev_time, ev_source, ev_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (member_id, period) DO UPDATE SET points = excluded.points,
               ev_time = excluded.ev_time, ev_source = excluded.ev_source, ev_id = excluded.ev_id
           WHERE (excluded.ev_time, excluded.ev_source, excluded.ev_id)
                 > (p.ev_time, p.ev_source, p.ev_id)""",
        rows,
    )


async def units_in(conn: Conn, unit_id: str | None, region_id: str | None) -> list[Row]:
    """One unit, or the units reported to a community or to the communities of a street."""
    return await conn.fetch(
        """SELECT u.unit_id, u.name, u.party_org_id, u.community_id, c.parent_id AS street_id
           FROM units u LEFT JOIN regions c ON c.region_id = u.community_id
           WHERE u.community_id IS NOT NULL
             AND ($1::text IS NULL OR u.unit_id = $1)
             AND ($2::text IS NULL OR u.community_id = $2 OR c.parent_id = $2)
           ORDER BY u.unit_id""",
        unit_id,
        region_id,
    )


async def statuses(conn: Conn, unit_ids: list[str]) -> list[Row]:
    return await conn.fetch(
        """SELECT s.agreement_id, s.commitment_no, s.status, s.done_on, s.note
           FROM unit_commitment_status s JOIN unit_agreements a USING (agreement_id)
           WHERE a.unit_id = ANY($1::text[])""",
        unit_ids,
    )


async def reviews(conn: Conn, unit_ids: list[str], year: int) -> list[ReportBack]:
    rows = await conn.fetch(
        "SELECT unit_id, region_id, reported_on, evaluation, note FROM unit_reviews "
        "WHERE unit_id = ANY($1::text[]) AND year = $2",
        unit_ids,
        year,
    )
    return [ReportBack(**dict(r)) for r in rows]


async def participation(conn: Conn, party_org_ids: list[str], year: int) -> list[Row]:
    """Per Party organisation: active in-service members, and those with points in the year."""
    return await conn.fetch(
        """SELECT m.party_org_id, count(*) AS in_service,
                  count(*) FILTER (WHERE EXISTS (
                      SELECT 1 FROM member_points p WHERE p.member_id = m.member_id
                        AND p.period LIKE $2 AND p.points > 0)) AS participating
           FROM members m
           WHERE m.active AND m.category = 'in_service' AND m.party_org_id = ANY($1::text[])
           GROUP BY m.party_org_id""",
        party_org_ids,
        f"{year}-%",
    )
