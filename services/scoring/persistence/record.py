"""SQL of a member's record (全程记实): the ledger rows of one member and period with their
revocations, and the member's closed points. Reads the ledger (not the aggregates): one member,
one period, a few hundred rows at most."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from ..domain.periods import Period
from ..domain.points import Entry
from ..domain.record import Arrival


def as_entry(row: Any) -> Entry:
    """The entry of a ledger row."""
    return Entry(row["time"], row["source"], row["id"], row["activity_type"], row["hours"])


def as_arrival(row: Any) -> Arrival:
    """When a ledger row arrived and the revocation joined to it (`ledger_rows`)."""
    return Arrival(
        received_at=row["received_at"],
        revoked_at=row["revoked_at"],
        revoked_by=f"{row['by_source']} {row['by_id']}" if row["by_id"] else None,
        revoked_reason=row["reason"],
    )


async def ledger_rows(conn: Any, member_id: str, p: Period) -> list[asyncpg.Record]:
    """The member's entries of the period's months, and their reports of its years (the
    yearly bonus), each with the revocation that hit it, if any."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT l.*, r.received_at AS revoked_at, r.by_source, r.by_id, r.reason
           FROM ledger l
           LEFT JOIN revocations r ON r.target_source = l.source AND r.target_id = l.id
           WHERE l.member_id = $1 AND (l.month = ANY($2::text[])
              OR (l.kind = 'reported' AND left(l.month, 4) = ANY($3::text[])))""",
        member_id,
        list(p.months),
        sorted({m[:4] for m in p.months}),
    )
    return rows


async def closed_points(conn: Any, period: str, member_id: str) -> Decimal:
    """The member's points as closed (zero when the close did not count them)."""
    points: Decimal | None = await conn.fetchval(
        "SELECT points FROM closed_members WHERE period = $1 AND member_id = $2",
        period,
        member_id,
    )
    return points or Decimal("0.00")
