"""SQL of resident units (驻区单位): their rows, reports to a community and co-building
agreements (契约化共建)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from ..domain.units import Agreement, Commitment, Unit
from .common import Conn, Row


def as_agreement(row: Row) -> Agreement:
    """The domain agreement of a row of `unit_agreements` (its commitments stored as JSON)."""
    return Agreement(
        agreement_id=row["agreement_id"],
        unit_id=row["unit_id"],
        community_id=row["community_id"],
        signed_on=row["signed_on"],
        valid_until=row["valid_until"],
        commitments=tuple(
            Commitment(
                content=c["content"],
                due_on=None if c.get("due_on") is None else date.fromisoformat(c["due_on"]),
            )
            for c in json.loads(row["commitments"])
        ),
    )


def as_unit(row: Row, agreements: Sequence[Agreement]) -> Unit:
    """The domain unit of a row of `units` with its agreements."""
    return Unit(
        unit_id=row["unit_id"],
        name=row["name"],
        party_org_id=row["party_org_id"],
        address=row["address"],
        member_count=row["member_count"],
        community_id=row["community_id"],
        reported_at=row["reported_at"],
        agreements=tuple(agreements),
    )


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
