"""Period close and reopen (docs/design.md §4.10): a close freezes the period's figures as the
published ones in one transaction with `partygrid.period.closed` (and, for a half, one
`partygrid.feedback.issued` per Party organisation) in the outbox; a reopen needs a reason.
Both hold the period's lock, so two closes of one period never interleave. SQL in
`persistence.periods`; a refused request raises `shared.refusals.Refusal`.
"""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from shared.events import CloudEvent
from shared.events.envelope import new_event
from shared.events.scoring import FEEDBACK_ISSUED, PERIOD_CLOSED, FeedbackIssued, PeriodClosed
from shared.outbox import add_to_outbox
from shared.refusals import conflict, invalid

from ..domain.periods import Period, PeriodStatus, latest_first, parse_period, period_status
from ..persistence import periods as db


async def status(pool: Any, p: Period, tz: ZoneInfo) -> PeriodStatus:
    """The period's status, bounds, last close and history."""
    return period_status(p, tz, await db.status(pool, p.label), await db.history(pool, p.label))


async def listed(
    pool: Any, status_: Literal["closed", "reopened"] | None, tz: ZoneInfo
) -> list[PeriodStatus]:
    """Periods ever closed (in that state, if given), the one ending latest first: the first
    closed one is the latest published results. At most 200."""
    found = [
        await status(pool, parse_period(label), tz) for label in await db.listed(pool, status_)
    ]
    return latest_first(found)[:200]


def _event(type_: str, subject: str, data: BaseModel, source: str) -> CloudEvent:
    return new_event(type=type_, source=source, data=data, subject=subject)


async def close(pool: Any, p: Period, closed_by: str | None, source: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await db.lock(conn, p.label)
        if await db.is_closed(conn, p.label):
            raise conflict("already_closed", f"period {p.label} is closed; reopen it first")
        closed_at = await db.snapshot(conn, p)
        summary = await db.summary(conn, p.label)
        await db.record_close(conn, p.label, closed_at, summary)
        events = [
            _event(
                PERIOD_CLOSED,
                p.label,
                PeriodClosed(closed_at=closed_at, closed_by=closed_by, **summary),
                source,
            )
        ]
        if p.kind == "half":
            events += [
                _event(
                    FEEDBACK_ISSUED,
                    r["party_org_id"],
                    FeedbackIssued(
                        party_org_id=r["party_org_id"],
                        period=p.label,
                        members=r["members"],
                        total_points=r["total_points"],
                        zero_point_members=r["zero_point_members"],
                    ),
                    source,
                )
                for r in await db.org_feedback(conn, p.label)
            ]
        await add_to_outbox(conn, events)


async def reopen(pool: Any, p: Period, reason: str) -> None:
    if not reason.strip():
        raise invalid("invalid_reason", "a reason is required to reopen", field="reason")
    async with pool.acquire() as conn, conn.transaction():
        await db.lock(conn, p.label)
        if not await db.is_closed(conn, p.label):
            raise conflict("not_closed", f"period {p.label} is not closed")
        await db.record_reopen(conn, p.label, reason.strip())
