"""The time bank's ledger of volunteer hours (时间银行): hours come in two ways, both through
`bank`, one transaction with the event that caused them, every movement announced as
timebank.changed (outbox):
- from this service's own volunteer records (confirmed volunteer activities, project service):
  `publish_own` below is the outbox call the activities use cases make; it banks the hours of
  the activity.logged / activity.revoked it publishes in the same transaction (the service's
  consumer skips its own events when they come back from Kafka, since they are in its inbox);
- from outside systems (a volunteer platform): the inbox `apply` hands consumed activity.logged
  and activity.revoked to `bank`, deduplicated by CloudEvents source + id like every event.
Rules (no cap, revocations may go below zero) are in `domain.timebank`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from shared import outbox
from shared.db import Conn
from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    ActivityLogged,
    ActivityRevoked,
    CloudEvent,
    EventRef,
    new_event,
    validate_data,
)
from shared.events.timebank import (
    TIMEBANK_CHANGED,
    TimebankChanged,
)
from shared.inbox import Incoming

from ..domain import timebank as rules
from ..persistence import timebank as db

CONSUMES = (ACTIVITY_LOGGED, ACTIVITY_REVOKED)


def changed_event(source: str, entry: asyncpg.Record) -> CloudEvent:
    """The timebank.changed announcing one ledger entry."""
    logged = (
        EventRef(source=entry["logged_source"], id=entry["logged_id"])
        if entry["logged_id"]
        else None
    )
    data = TimebankChanged(
        account_id=entry["account_id"],
        entry_id=entry["entry_id"],
        kind=entry["kind"],
        hours=entry["hours"],
        balance=entry["balance"],
        community_id=entry["community_id"],
        offer_id=entry["offer_id"],
        counterpart=entry["counterpart"],
        logged=logged,
    )
    return new_event(
        type=TIMEBANK_CHANGED,
        source=source,
        data=data,
        subject=entry["account_id"],
        time=entry["at"],
        id=rules.event_id(entry["entry_id"]),
    )


async def _earn(conn: Conn, event: CloudEvent, data: ActivityLogged) -> asyncpg.Record | None:
    hours = rules.banked_hours(data)
    if hours is None or await db.is_revoked(conn, event.source, event.id):
        return None
    if await db.earned_entry(conn, event.source, event.id) is not None:
        return None
    balance = await db.credit(conn, data.member_id, hours, data.community_id, event.time)
    return await db.insert_entry(
        conn,
        {
            "entry_id": rules.earned_entry_id(event.source, event.id),
            "account_id": data.member_id,
            "kind": "earned",
            "hours": hours,
            "balance": balance,
            "at": event.time,
            "community_id": data.community_id,
            "logged_source": event.source,
            "logged_id": event.id,
        },
    )


async def _take_back(conn: Conn, event: CloudEvent, data: ActivityRevoked) -> asyncpg.Record | None:
    ref = data.revokes
    if not await db.record_revocation(conn, ref.source, ref.id, event.time):
        return None
    earned = await db.earned_entry(conn, ref.source, ref.id)
    if earned is None:
        return None  # not volunteer hours, or not arrived yet (it will then earn nothing)
    hours = -earned["hours"]
    balance = await db.credit(conn, earned["account_id"], hours, None, event.time)
    return await db.insert_entry(
        conn,
        {
            "entry_id": rules.revoked_entry_id(ref.source, ref.id),
            "account_id": earned["account_id"],
            "kind": "revoked",
            "hours": hours,
            "balance": balance,
            "at": event.time,
            "community_id": earned["community_id"],
            "logged_source": ref.source,
            "logged_id": ref.id,
        },
    )


async def bank(conn: Conn, source: str, events: Sequence[tuple[CloudEvent, Any]]) -> None:
    """Bank the volunteer hours of logged activities and take back those of revoked ones,
    in order, announcing every movement; other events are ignored."""
    changes = []
    for event, data in events:
        if isinstance(data, ActivityLogged):
            entry = await _earn(conn, event, data)
        elif isinstance(data, ActivityRevoked):
            entry = await _take_back(conn, event, data)
        else:
            continue
        if entry is not None:
            changes.append(changed_event(source, entry))
    await outbox.add_to_outbox(conn, changes)


async def apply(conn: Conn, events: list[Incoming], source: str) -> None:
    """The inbox part: consumed activity.logged / activity.revoked of other systems."""
    await bank(conn, source, [(i.event, i.data) for i in events])


async def publish_own(conn: Conn, events: Sequence[CloudEvent]) -> None:
    """`shared.outbox.publish_own`, plus banking the volunteer hours of what is published."""
    await outbox.publish_own(conn, events)
    mine = [e for e in events if e.type in CONSUMES]
    if mine:
        await bank(conn, mine[0].source, [(e, validate_data(e)) for e in mine])
