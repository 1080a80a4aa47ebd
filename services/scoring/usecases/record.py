"""A member's record (全程记实, docs/design.md §4.10): every ledger entry of the period with the
rule version applied, what it earned, what the monthly cap trimmed and whether it was revoked
(`domain.record`); for a closed period the closed points beside them and the close they are
compared with. SQL in `persistence.record`; a refused request raises
`shared.refusals.Refusal`.
"""

from __future__ import annotations

from typing import Any

from shared.auth import Principal
from shared.refusals import Kind, Refusal

from ..domain import record as rec
from ..domain.periods import Period
from ..domain.record import MemberRecord
from ..persistence import live as q
from ..persistence import periods as periods_db
from ..persistence import record as db
from ..persistence.points import load_rules
from .reads import check_scope


async def member_record(pool: Any, caller: Principal, member_id: str, p: Period) -> MemberRecord:
    member = await q.member_exists(pool, member_id)
    if member is None:
        raise Refusal(
            Kind.NOT_FOUND,
            "not_found",
            f"no events about member {member_id} have been received",
        )
    await check_scope(pool, caller, member.community_id or "-")
    async with pool.acquire() as conn:
        rules = await load_rules(conn)
        rows = await db.ledger_rows(conn, member_id, p)
        closed = await periods_db.status(conn, p.label)
        closed_points = None
        if closed is not None and closed.status == "closed":
            closed_points = await db.closed_points(conn, p.label, member_id)

    lines = rec.record(
        [(db.as_entry(r), r["month"], r["revoked"]) for r in rows if r["kind"] == "activity"],
        [(db.as_entry(r), r["month"]) for r in rows if r["kind"] == "reported"],
        p.months,
        rules,
    )
    return rec.member_record(
        member_id,
        p.label,
        lines,
        {(r["source"], r["id"]): db.as_arrival(r) for r in rows},
        closed_points,
        closed.closed_at if closed_points is not None and closed else None,
    )
