"""The dead-letter API every service serves (docs/design.md §3.5): list the messages
its consumer rejected, and re-publish them after a fix.

- GET  /v1/dead-letters                 newest first; filters type, reason, topic, since, until,
                                        status (new / republished), service (echoed: each
                                        service lists its own dead letters)
- GET  /v1/dead-letters/{id}            one dead letter
- POST /v1/dead-letters/republish       by ids or by filter; a corrected `value` for one id

Reading needs a city_admin or a read-only service token; re-publishing needs city_admin.
The use cases are in shared/deadletters.py.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, model_validator

from . import deadletters as uc
from .api import ERROR_RESPONSES, ApiError, Pool
from .auth import Caller, Principal
from .events import BadEvent
from .events.kafka_binding import headers_from_json

MAX_ID = 2**63 - 1
TOPIC_PATTERN = r"^[A-Za-z0-9._-]{1,249}$"
SERVICE_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
Reason = Literal[BadEvent.REASONS]  # type: ignore[valid-type]
Status = Literal["new", "republished"]
DeadLetterId = Annotated[int, Field(ge=1, le=MAX_ID, description="A dead letter's id.")]

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"], responses=ERROR_RESPONSES)


class HeaderItem(BaseModel):
    """One Kafka header of the original message."""

    key: str = Field(description="Header name, e.g. ce_id or content-type.")
    value: str = Field(description="Header value (text, or base64: value_encoding).")
    value_encoding: Literal["utf-8", "base64"] = Field(
        description="How `value` is written: utf-8 text, or base64 of bytes that are not UTF-8."
    )


class DeadLetterItem(BaseModel):
    """One message this service's consumer could not apply."""

    id: int = Field(description="The dead letter's id in this service.")
    service: str = Field(description="The service whose consumer rejected it.")
    topic: str = Field(description="Topic it was consumed from.")
    partition: int = Field(description="Partition it was consumed from.")
    offset: int = Field(description="Offset it was consumed from.")
    key: str | None = Field(description="The original Kafka key (text, or base64: key_encoding).")
    key_encoding: Literal["utf-8", "base64"] | None = Field(
        description="How `key` is written: utf-8 text, or base64 of bytes that are not UTF-8."
    )
    reason: str = Field(description="Machine reason: not_json, not_cloudevent, invalid_data, …")
    detail: str = Field(description="What was wrong (the error text) and what is accepted.")
    event_type: str | None = Field(description="CloudEvents type, when the envelope parsed.")
    event_source: str | None = Field(description="CloudEvents source, when the envelope parsed.")
    event_id: str | None = Field(description="CloudEvents id, when the envelope parsed.")
    value: str | None = Field(
        description="The original bytes (text, or base64: value_encoding); null for a tombstone."
    )
    value_encoding: Literal["utf-8", "base64"] | None = Field(
        description="How `value` is written: utf-8 text, or base64 of bytes that are not UTF-8."
    )
    headers: list[HeaderItem] | None = Field(
        description="The original Kafka headers in their order (a binary-mode CloudEvent's "
        "attributes are its ce_* headers and `value` is its data); null when there were none. "
        "Re-publishing the original sends them again."
    )
    received_at: datetime = Field(description="When the consumer rejected it.")
    republished_at: datetime | None = Field(description="When it was last re-published.")
    republish_count: int = Field(description="How many times it was re-published.")
    republished_by: str | None = Field(
        default=None, description="Who last re-published it (the audit trail's actor)."
    )
    republished_value: str | None = Field(
        description="The corrected message last re-published instead of the original, if any."
    )


class DeadLetterFilters(BaseModel):
    """The filters a list was made with (echoed back)."""

    service: str | None = Field(description="Service asked for; each service lists its own.")
    type: str | None = Field(description="CloudEvents type.")
    reason: str | None = Field(description="Dead-letter reason.")
    topic: str | None = Field(description="Topic the message came from.")
    since: datetime | None = Field(description="Received at or after.")
    until: datetime | None = Field(description="Received before.")
    status: Status | None = Field(description="new (never re-published) or republished.")


class DeadLetterPage(BaseModel):
    """One page of dead letters, newest first."""

    service: str = Field(description="The service answering (whose dead letters these are).")
    filters: DeadLetterFilters = Field(description="The filters applied.")
    total: int = Field(description="How many dead letters match the filters.")
    limit: int = Field(description="Page size asked for.")
    offset: int = Field(description="Items skipped.")
    items: list[DeadLetterItem] = Field(description="The dead letters, newest first.")


class RepublishFilter(BaseModel):
    """Choose dead letters by what they are rather than by id."""

    type: str | None = Field(
        default=None, pattern=TOPIC_PATTERN, description="CloudEvents type of the dead letters."
    )
    reason: Reason | None = Field(default=None, description="Dead-letter reason.")
    topic: str | None = Field(
        default=None, pattern=TOPIC_PATTERN, description="Topic they were consumed from."
    )
    since: datetime | None = Field(default=None, description="Received at or after.")
    until: datetime | None = Field(default=None, description="Received before.")


class RepublishRequest(BaseModel):
    """Which dead letters to send again, and optionally a corrected message for one of them."""

    ids: list[DeadLetterId] | None = Field(
        default=None, min_length=1, max_length=1000, description="Dead letters to re-publish."
    )
    filter: RepublishFilter | None = Field(
        default=None, description="Or: re-publish those matching this filter (oldest first)."
    )
    value: dict[str, Any] | None = Field(
        default=None,
        description="A corrected CloudEvent to send instead of the original (exactly one id). "
        "It goes to the topic named by its type, keyed by its subject.",
    )
    force: bool = Field(
        default=False,
        description="Send again even if already re-published, or if the original would be "
        "rejected again.",
    )
    limit: int = Field(
        default=100, ge=1, le=1000, description="At most this many when choosing by filter."
    )

    @model_validator(mode="after")
    def _one_way(self) -> RepublishRequest:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give either `ids` or `filter`, not both and not neither")
        if self.value is not None and (self.ids is None or len(self.ids) != 1):
            raise ValueError("a corrected `value` re-publishes exactly one id")
        return self


class RepublishOutcome(BaseModel):
    """What happened to one dead letter."""

    id: int = Field(description="The dead letter.")
    outcome: Literal[
        "republished",
        "already_republished",
        "needs_value",
        "still_invalid",
        "already_applied",
        "conflict",
    ] = Field(description="republished, or why it was not sent.")
    detail: str = Field(description="Explanation, and what to do next.")
    topic: str | None = Field(description="Topic it was (or would be) sent to.")
    republish_count: int = Field(description="Times re-published so far.")


class RepublishResult(BaseModel):
    """The outcome of a re-publish request, per dead letter."""

    service: str = Field(description="The service that re-published.")
    republished: int = Field(description="How many were sent to the outbox.")
    skipped: int = Field(description="How many were not sent (see each outcome).")
    results: list[RepublishOutcome] = Field(description="One entry per dead letter considered.")


def _text_or_b64(raw: bytes | None) -> tuple[str | None, Literal["utf-8", "base64"] | None]:
    if raw is None:
        return None, None
    try:
        return bytes(raw).decode(), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), "base64"


def _headers(stored: str | None) -> list[HeaderItem] | None:
    headers = headers_from_json(stored)
    if headers is None:
        return None
    items = []
    for name, raw in headers:
        text, encoding = _text_or_b64(raw)
        items.append(HeaderItem(key=name, value=text or "", value_encoding=encoding or "utf-8"))
    return items


def _item(service: str, row: asyncpg.Record) -> DeadLetterItem:
    key, key_encoding = _text_or_b64(row["key"])
    value, value_encoding = _text_or_b64(row["value"])
    corrected = row["republished_value"]
    return DeadLetterItem(
        id=row["dl_id"],
        service=service,
        topic=row["topic"],
        partition=row["kafka_partition"],
        offset=row["kafka_offset"],
        key=key,
        key_encoding=key_encoding,
        reason=row["reason"],
        detail=row["detail"],
        event_type=row["event_type"],
        event_source=row["event_source"],
        event_id=row["event_id"],
        value=value,
        value_encoding=value_encoding,
        headers=_headers(row["headers"]),
        received_at=row["rejected_at"],
        republished_at=row["republished_at"],
        republish_count=row["republish_count"],
        republished_by=row["republished_by"],
        republished_value=bytes(corrected).decode(errors="replace") if corrected else None,
    )


def _service(request: Request) -> str:
    return request.app.state.runtime.settings.service_name


def _may_read(caller: Principal) -> None:
    if caller.role not in ("city_admin", "service"):
        raise ApiError(
            403, "forbidden", "dead letters are read with a city_admin or read-only service token"
        )


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


@router.get("", summary="List dead letters, newest first")
async def list_dead_letters(
    request: Request,
    caller: Caller,
    pool: Pool,
    service: Annotated[
        str | None,
        Query(pattern=SERVICE_PATTERN, description="Only this service's (each lists its own)."),
    ] = None,
    type: Annotated[
        str | None, Query(pattern=TOPIC_PATTERN, description="CloudEvents type.")
    ] = None,
    reason: Annotated[Reason | None, Query(description="Dead-letter reason.")] = None,
    topic: Annotated[
        str | None, Query(pattern=TOPIC_PATTERN, description="Topic it came from.")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="Received at or after (RFC 3339; UTC if no offset).")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Received before (RFC 3339; UTC if no offset).")
    ] = None,
    status: Annotated[Status | None, Query(description="new or republished.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> DeadLetterPage:
    _may_read(caller)
    own = _service(request)
    filters = uc.Filters(type, reason, topic, _aware(since), _aware(until), status)
    total: int = 0
    rows: list[asyncpg.Record] = []
    if service is None or service == own:
        total, rows = await uc.list_dead_letters(pool, filters, limit=limit, offset=offset)
    return DeadLetterPage(
        service=own,
        filters=DeadLetterFilters(
            service=service,
            type=type,
            reason=reason,
            topic=topic,
            since=filters.since,
            until=filters.until,
            status=status,
        ),
        total=total,
        limit=limit,
        offset=offset,
        items=[_item(own, r) for r in rows],
    )


@router.get("/{dl_id}", summary="One dead letter")
async def get_dead_letter(
    request: Request,
    caller: Caller,
    pool: Pool,
    dl_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The dead letter's id.")],
) -> DeadLetterItem:
    _may_read(caller)
    row = await uc.get_dead_letter(pool, dl_id)
    if row is None:
        raise ApiError(404, "not_found", f"no dead letter {dl_id} in {_service(request)}")
    return _item(_service(request), row)


@router.post("/republish", summary="Re-publish dead letters after a fix")
async def republish(
    request: Request, caller: Caller, pool: Pool, body: RepublishRequest
) -> RepublishResult:
    caller.require_city()
    f = body.filter
    filters = uc.Filters(f.type, f.reason, f.topic, _aware(f.since), _aware(f.until)) if f else None
    try:
        outcomes = await uc.republish(
            pool,
            ids=body.ids,
            filters=filters,
            value=body.value,
            force=body.force,
            limit=body.limit,
        )
    except uc.UnknownDeadLetters as exc:
        raise ApiError(
            404,
            "not_found",
            f"no dead letters with ids {exc.ids} in {_service(request)}; nothing was re-published",
            ids=exc.ids,
        ) from None
    except uc.CorrectionRejected as exc:
        raise ApiError(
            422,
            "invalid_correction",
            f"the corrected value would be dead-lettered again ({exc.reason}): {exc.detail}",
            field="value",
            rule=exc.reason,
        ) from None
    sent = sum(o.outcome == "republished" for o in outcomes)
    return RepublishResult(
        service=_service(request),
        republished=sent,
        skipped=len(outcomes) - sent,
        results=[RepublishOutcome(**o.__dict__) for o in outcomes],
    )
