"""CloudEvents over HTTP: `POST /v1/events`, for city systems that only speak HTTP.

Every service that consumes events accepts the types it consumes (its inbox's topics; each
service's `/docs` lists them). An accepted event is validated exactly as the Kafka input is
(shared.events.http_binding), then written to this service's outbox, on the event's topic and
with its subject as key, in one transaction with its `source` + `id` in the `ingress` table —
before the answer `202`. So the acknowledgement is durable: the relay sends it to Kafka
(again, should the broker lose it), and every consumer of the type gets it as if the system had
published it to Kafka itself.

- A repeated POST of the same `source` + `id` and content answers `202` with status
  `duplicate` and adds nothing; the same id with other content answers `409`.
- A batch is all or nothing: one bad event (or a conflict) and nothing is written; the answer
  lists each bad event's index and reason.
- Tokens: `city_admin` may send every accepted type; a `publisher` token the types its scope
  lists (shared.auth); any other role gets `403`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .api import ERROR_RESPONSES, ApiError, Pool
from .auth import Principal, Publisher
from .db import Conn
from .events import BadEvent
from .events.http_binding import ACCEPTED_MODES, Accepted, check_event, decode_request, mode_of
from .outbox import add_raw_to_outbox

MAX_BATCH = 1000

router = APIRouter(tags=["events"])


class EventStatus(BaseModel):
    """What happened to one event of the request."""

    source: str = Field(description="The event's CloudEvents source.")
    id: str = Field(description="The event's CloudEvents id.")
    type: str = Field(description="The event's type (the Kafka topic it goes to).")
    status: str = Field(
        description="accepted: written to the outbox now; duplicate: this source + id with "
        "this content was accepted before, nothing added."
    )


class IngressAnswer(BaseModel):
    """The answer to an accepted request (every event durable before it is sent)."""

    mode: str = Field(description="The binding mode read: structured, binary or batch.")
    accepted: int = Field(description="Events written to the outbox by this request.")
    duplicates: int = Field(description="Events already accepted before (no second effect).")
    events: list[EventStatus] = Field(description="Per event, in request order.")


@router.post(
    "/v1/events",
    status_code=202,
    summary="Send CloudEvents over HTTP (structured, binary or batch mode)",
    response_model=IngressAnswer,
    responses={
        **ERROR_RESPONSES,
        413: {"description": f"A batch of more than {MAX_BATCH} events."},
        415: {"description": "Not a CloudEvents HTTP request (the body says what is accepted)."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/cloudevents+json": {"schema": {"type": "object"}},
                "application/cloudevents-batch+json": {
                    "schema": {"type": "array", "items": {"type": "object"}}
                },
                "application/json": {
                    "schema": {"type": "object", "description": "binary mode: data; ce-* headers"}
                },
            },
        }
    },
)
async def post_events(request: Request, pool: Pool, caller: Publisher) -> JSONResponse:
    accepts: frozenset[str] = request.app.state.accepts
    allowed = caller.publishes
    if allowed is not None and not allowed:
        raise ApiError(403, "forbidden", f"a {caller.role} token may not send events")
    try:
        mode_of(request.headers)
    except BadEvent as exc:
        raise ApiError(415, "unsupported_media_type", exc.detail) from None
    try:
        mode, raws = decode_request(request.headers, await request.body())
    except BadEvent as exc:
        raise ApiError(400, exc.reason, exc.detail, accepted=ACCEPTED_MODES) from None
    if len(raws) > MAX_BATCH:
        raise ApiError(413, "batch_too_large", f"at most {MAX_BATCH} events per batch")
    events, problems = _check_all(raws, accepts, caller, allowed)
    if problems:
        status = 403 if all(p["reason"] == "forbidden" for p in problems) else 422
        first = problems[0]
        raise ApiError(
            status,
            "forbidden" if status == 403 else "invalid_event",
            f"{len(problems)} of {len(raws)} events refused, nothing was accepted; "
            f"event {first['index']}: {first['detail']}",
            events=problems,
        )
    async with pool.acquire() as conn, conn.transaction():
        statuses = await accept(conn, events, caller)
    answer = IngressAnswer(
        mode=mode,
        accepted=sum(s.status == "accepted" for s in statuses),
        duplicates=sum(s.status == "duplicate" for s in statuses),
        events=statuses,
    )
    return JSONResponse(answer.model_dump(), status_code=202)


def _check_all(
    raws: list[bytes], accepts: frozenset[str], caller: Principal, allowed: frozenset[str] | None
) -> tuple[list[Accepted], list[dict[str, Any]]]:
    events: list[Accepted] = []
    problems: list[dict[str, Any]] = []
    for index, raw in enumerate(raws):
        try:
            item = check_event(raw)
        except BadEvent as exc:
            problems.append({"index": index, "reason": exc.reason, "detail": exc.detail})
            continue
        kind = item.event.type
        if kind not in accepts:
            problems.append(
                {
                    "index": index,
                    "reason": "not_accepted_here",
                    "detail": f"this service does not accept {kind}; it accepts "
                    f"{', '.join(sorted(accepts))} (send it to a service that consumes it)",
                }
            )
        elif allowed is not None and kind not in allowed:
            problems.append(
                {
                    "index": index,
                    "reason": "forbidden",
                    "detail": f"this {caller.role} token may not send {kind}; it may send "
                    f"{', '.join(sorted(allowed))}",
                }
            )
        else:
            events.append(item)
    return events, problems


async def accept(conn: Conn, events: list[Accepted], caller: Principal) -> list[EventStatus]:
    """Record each new source + id and queue it on the outbox; inside the caller's transaction.
    Raises ApiError 409 (the transaction rolls back) when an id was accepted with other content."""
    first: dict[tuple[str, str], Accepted] = {}
    for item in events:
        seen = first.setdefault(item.event.identity, item)
        if seen.event.digest() != item.event.digest():
            _conflict(item, "earlier in this batch")
    new = {
        (r["source"], r["id"])
        for r in await conn.fetch(
            """INSERT INTO ingress (source, id, type, digest, publisher)
               SELECT s, i, t, d, $5
               FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS u(s, i, t, d)
               ON CONFLICT DO NOTHING RETURNING source, id""",
            [e.event.source for e in first.values()],
            [e.event.id for e in first.values()],
            [e.event.type for e in first.values()],
            [e.event.digest() for e in first.values()],
            caller.name,
        )
    }
    old = [e for key, e in first.items() if key not in new]
    if old:
        digests = {
            (r["source"], r["id"]): bytes(r["digest"])
            for r in await conn.fetch(
                """SELECT g.source, g.id, g.digest FROM ingress g
                   JOIN unnest($1::text[], $2::text[]) AS k(source, id) USING (source, id)""",
                [e.event.source for e in old],
                [e.event.id for e in old],
            )
        }
        for item in old:
            if digests[item.event.identity] != item.event.digest():
                _conflict(item, "before")
    await add_raw_to_outbox(
        conn,
        [
            (e.event.type, e.event.subject.encode() if e.event.subject else None, e.value)
            for key, e in first.items()
            if key in new
        ],
    )
    return [
        EventStatus(
            source=e.event.source,
            id=e.event.id,
            type=e.event.type,
            status="accepted"
            if e.event.identity in new and first[e.event.identity] is e
            else "duplicate",
        )
        for e in events
    ]


def _conflict(item: Accepted, when: str) -> None:
    raise ApiError(
        409,
        "conflict",
        f"an event with source {item.event.source!r} and id {item.event.id!r} was accepted "
        f"{when} with different content; the first one stands (send a new id for a new event)",
        source=item.event.source,
        id=item.event.id,
    )
