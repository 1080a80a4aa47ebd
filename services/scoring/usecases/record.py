"""A member's record (全程记实, docs/design.md §4.10): every ledger entry of the period with the
rule version applied, what it earned, what the monthly cap trimmed and whether it was revoked
(`domain.record`); for a closed period the closed points beside them and the close they are
compared with. SQL in `persistence.record`; a refused request raises
`shared.refusals.Refusal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.refusals import Kind, Refusal

from ..domain.periods import Period
from ..domain.points import Entry
from ..domain.record import Line, record
from ..persistence import live as q
from ..persistence import periods as periods_db
from ..persistence import record as db
from ..persistence.points import load_rules
from .reads import check_scope


@dataclass(frozen=True)
class Found:
    lines: list[Line]
    rows: dict[tuple[str, str], asyncpg.Record]  # each line's ledger row, by (source, id)
    closed_points: Decimal | None  # None: the period is not closed
    closed_at: datetime | None  # the close late entries are compared with


async def member_record(pool: Any, caller: Principal, member_id: str, p: Period) -> Found:
    member = await q.member_exists(pool, member_id)
    if member is None:
        raise Refusal(
            Kind.NOT_FOUND,
            "not_found",
            f"no events about member {member_id} have been received",
        )
    await check_scope(pool, caller, member["community_id"] or "-")
    async with pool.acquire() as conn:
        rules = await load_rules(conn)
        rows = await db.ledger_rows(conn, member_id, p)
        closed = await periods_db.status(conn, p.label)
        closed_points = None
        if closed is not None and closed.status == "closed":
            closed_points = await db.closed_points(conn, p.label, member_id)

    def entry(r: Any) -> Entry:
        return Entry(r["time"], r["source"], r["id"], r["activity_type"], r["hours"])

    lines = record(
        [(entry(r), r["month"], r["revoked"]) for r in rows if r["kind"] == "activity"],
        [(entry(r), r["month"]) for r in rows if r["kind"] == "reported"],
        p.months,
        rules,
    )
    return Found(
        lines=lines,
        rows={(r["source"], r["id"]): r for r in rows},
        closed_points=closed_points,
        closed_at=closed.closed_at if closed_points is not None and closed else None,
    )
