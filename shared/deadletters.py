"""Dead-letter use cases: list what this service's consumer rejected, and re-publish it after a
fix (docs/design.md §3.5).

Every service keeps the messages its consumer could not apply in its own `dead_letters` table
(shared/inbox.py) and announces each on `partygrid.deadletter`. After a fix, a dead letter is
sent again:

- the fix is in the code (a schema that now accepts it, a bug fixed): the ORIGINAL bytes go back
  to the original topic with the original key;
- the fix is in the message: a corrected CloudEvent goes to the topic named by its type (the
  topic of every event is its type), keyed by its subject.

Either way it goes through the outbox in the same transaction that marks the dead letter
re-published, so a crash cannot publish without marking or mark without publishing.

Re-publishing is idempotent on two levels. The API does not send a dead letter that was already
re-published (unless `force`), nor one whose event this service's inbox already holds; and if a
copy is sent twice anyway, it carries the same CloudEvent `source` + `id`, so every consuming
inbox counts it once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from .db import Conn
from .events import BadEvent
from .events.kafka_binding import decode_event, headers_from_json
from .inbox import Record, parse_record
from .outbox import add_message_to_outbox

NOT_AN_EVENT = ("not_json", "not_cloudevent")

_COLUMNS = """dl_id, reason, detail, topic, kafka_partition, kafka_offset, event_type,
    event_source, event_id, key, value, headers, rejected_at, republished_at, republish_count,
    republished_value, republished_by"""


@dataclass(frozen=True)
class Filters:
    """Which dead letters to list or re-publish; None means any."""

    type: str | None = None
    reason: str | None = None
    topic: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None  # "new" (never re-published) or "republished"

    def where(self, start: int = 1) -> tuple[str, list[Any]]:
        """SQL conditions and their arguments, numbered from `$start`."""
        parts: list[str] = []
        args: list[Any] = []
        for column, value, op in (
            ("event_type", self.type, "="),
            ("reason", self.reason, "="),
            ("topic", self.topic, "="),
            ("rejected_at", self.since, ">="),
            ("rejected_at", self.until, "<"),
        ):
            if value is not None:
                args.append(value)
                parts.append(f"{column} {op} ${start + len(args) - 1}")
        if self.status == "new":
            parts.append("republished_at IS NULL")
        elif self.status == "republished":
            parts.append("republished_at IS NOT NULL")
        return (" AND ".join(parts) or "TRUE"), args


class CorrectionRejected(Exception):
    """A corrected message that would be dead-lettered again; nothing was sent."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class UnknownDeadLetters(Exception):
    def __init__(self, ids: list[int]) -> None:
        super().__init__(f"no dead letters with ids {ids}")
        self.ids = ids


async def list_dead_letters(
    pool: asyncpg.Pool, filters: Filters, *, limit: int, offset: int
) -> tuple[int, list[asyncpg.Record]]:
    """The total matching `filters` and one page of them, newest first."""
    where, args = filters.where()
    async with pool.acquire() as conn:
        total = await conn.fetchval(f"SELECT count(*) FROM dead_letters WHERE {where}", *args)
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE {where} "
            f"ORDER BY rejected_at DESC, dl_id DESC LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
            *args,
            limit,
            offset,
        )
    return total, rows


async def get_dead_letter(pool: asyncpg.Pool, dl_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {_COLUMNS} FROM dead_letters WHERE dl_id = $1", dl_id)


@dataclass
class Outcome:
    """What happened to one dead letter in a re-publish request."""

    id: int
    outcome: str
    detail: str
    topic: str | None = None
    republish_count: int = 0


def encode_correction(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


async def republish(
    pool: asyncpg.Pool,
    *,
    ids: list[int] | None,
    filters: Filters | None,
    value: dict[str, Any] | None,
    force: bool,
    limit: int,
) -> list[Outcome]:
    """Re-publish the dead letters chosen by `ids` (all must exist) or by `filters` (those not
    yet re-published unless `force`, oldest first, at most `limit`). `value` replaces the
    original bytes of a single dead letter. All in one transaction."""
    correction = None
    if value is not None:
        correction = encode_correction(value)
        _check(correction, value.get("type") if isinstance(value.get("type"), str) else None)
    async with pool.acquire() as conn, conn.transaction():
        if ids is not None:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM dead_letters WHERE dl_id = ANY($1::bigint[]) "
                "ORDER BY dl_id FOR UPDATE",
                ids,
            )
            missing = sorted(set(ids) - {r["dl_id"] for r in rows})
            if missing:
                raise UnknownDeadLetters(missing)
        else:
            chosen = filters or Filters()
            if not force and chosen.status is None:
                chosen = Filters(**{**chosen.__dict__, "status": "new"})
            where, args = chosen.where()
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM dead_letters WHERE {where} "
                f"ORDER BY dl_id LIMIT ${len(args) + 1} FOR UPDATE",
                *args,
                limit,
            )
        return [await _republish_one(conn, row, correction, force) for row in rows]


def _check(raw: bytes, topic: str | None) -> None:
    """Raise CorrectionRejected if `raw` would be dead-lettered again on `topic`."""
    try:
        parse_record(Record(topic or "", 0, 0, None, raw))
    except BadEvent as exc:
        raise CorrectionRejected(exc.reason, exc.detail) from None


async def _republish_one(
    conn: Conn, row: asyncpg.Record, correction: bytes | None, force: bool
) -> Outcome:
    dl_id = row["dl_id"]
    count = row["republish_count"]
    if row["republished_at"] is not None and not force:
        return Outcome(
            dl_id,
            "already_republished",
            f"re-published {count} time(s), last at {row['republished_at'].isoformat()}; "
            "send force=true to send it again",
            row["topic"],
            count,
        )
    raw = correction if correction is not None else row["value"]
    # the original goes again with its Kafka headers (a binary-mode event's attributes); a
    # correction is a structured CloudEvent and needs none
    headers = headers_from_json(row["headers"]) if correction is None else None
    if correction is None and (row["reason"] in NOT_AN_EVENT or raw is None):
        return Outcome(
            dl_id,
            "needs_value",
            f"the original ({row['reason']}) is not a CloudEvent; re-publish it with a "
            "corrected `value`",
            row["topic"],
            count,
        )
    event = decode_event(headers, raw)
    topic = event.type if correction is not None else row["topic"]
    if correction is None:
        try:
            parse_record(Record(topic, 0, 0, row["key"], raw, headers or ()))
        except BadEvent as exc:
            if not force:
                return Outcome(
                    dl_id,
                    "still_invalid",
                    f"the original would be rejected again ({exc.reason}: {exc.detail}); "
                    "fix the code, or send a corrected `value`, or force=true",
                    topic,
                    count,
                )
    applied = await conn.fetchval(
        "SELECT digest FROM inbox WHERE source = $1 AND id = $2", event.source, event.id
    )
    if applied is not None:
        same = bytes(applied) == event.digest()
        return Outcome(
            dl_id,
            "already_applied" if same else "conflict",
            f"this service already applied the event {event.source} / {event.id}"
            + ("" if same else " with different content; give the correction a new id"),
            topic,
            count,
        )
    key = event.subject.encode() if correction is not None and event.subject else row["key"]
    await add_message_to_outbox(conn, topic, key, raw, headers)
    count = await conn.fetchval(
        """UPDATE dead_letters SET republished_at = now(), republish_count = republish_count + 1,
               republished_value = $2
           WHERE dl_id = $1 RETURNING republish_count""",
        dl_id,
        correction,
    )
    return Outcome(
        dl_id,
        "republished",
        "sent to the outbox" + (" (corrected)" if correction is not None else " (original bytes)"),
        topic,
        count,
    )
