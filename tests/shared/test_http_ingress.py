"""CloudEvents over HTTP (`POST /v1/events`) on the running scoring service, real broker and
database (one app for the module): each binding mode lands the same canonical event in the
outbox before `202` and the service applies it from Kafka; duplicates, conflicts, bad events
and tokens answer as documented in shared/ingress.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import TEST_TOKENS, cloud_event, running_app, settings_for_test, wait_until
from services.scoring.main import create_app
from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED

NOV = "2026-11-05T10:00:00+08:00"
PUBLISHER = "test-publisher-token-00001"
STRUCTURED = {"Content-Type": "application/cloudevents+json"}
BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def logged(member: str | None = None, **data: Any) -> dict[str, Any]:
    member = member or f"M{uuid.uuid4().hex[:8]}"
    body = {"member_id": member, "activity_type": "study", "hours": 2, **data}
    return cloud_event(ACTIVITY_LOGGED, body, subject=member, time=NOV)


@dataclass
class Env:
    client: httpx.AsyncClient
    pool: Any

    async def post(self, body: Any, headers: dict[str, str], token: str | None = None) -> Any:
        extra = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post(
            "/v1/events", content=json.dumps(body).encode(), headers={**headers, **extra}
        )

    async def outbox(self, event_id: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT topic, key, value FROM outbox WHERE convert_from(value, 'UTF8') LIKE '%' || $1 || '%'",
            event_id,
        )
        return [{"topic": r["topic"], "key": r["key"], **json.loads(r["value"])} for r in rows]

    async def applied(self, event_id: str) -> bool:
        return bool(await self.pool.fetchval("SELECT count(*) FROM ledger WHERE id = $1", event_id))


@pytest.fixture(scope="module")
async def env(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    kafka = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    settings = settings_for_test(
        pg_server.url,
        kafka.bootstrap,
        "scoring",
        api_tokens=f"{TEST_TOKENS},{PUBLISHER}:publisher:{ACTIVITY_LOGGED}",
    )
    app = create_app(settings)
    try:
        async with running_app(app) as client:
            yield Env(client, app.state.runtime.pool)
    finally:
        kafka.stop()


async def test_structured_event_is_in_the_outbox_before_202_and_applied(env: Env) -> None:
    event = logged()
    r = await env.post(event, STRUCTURED)
    assert r.status_code == 202, r.text
    assert r.json()["mode"] == "structured" and r.json()["accepted"] == 1
    rows = await env.outbox(event["id"])
    assert [(x["topic"], x["key"], x["id"], x["data"]) for x in rows] == [
        (ACTIVITY_LOGGED, event["subject"].encode(), event["id"], event["data"])
    ]
    await wait_until(lambda: env.applied(event["id"]))


async def test_binary_mode_gives_the_same_canonical_event(env: Env) -> None:
    event = logged(activity_id="A-1")
    headers = {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": event["id"],
        "ce-source": "%2Ftest%2Foutside-system",  # percent-encoded, as the binding allows
        "ce-type": ACTIVITY_LOGGED,
        "ce-time": NOV,
        "ce-subject": event["subject"],
    }
    r = await env.client.post(
        "/v1/events", content=json.dumps(event["data"]).encode(), headers=headers
    )
    assert r.status_code == 202, r.text
    assert r.json()["mode"] == "binary"
    (row,) = await env.outbox(event["id"])
    assert row["source"] == "/test/outside-system" and row["data"] == event["data"]
    await wait_until(lambda: env.applied(event["id"]))


async def test_batch_mode_accepts_every_event(env: Env) -> None:
    events = [logged() for _ in range(5)]
    r = await env.post(events, BATCH)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 5
    assert [e["status"] for e in r.json()["events"]] == ["accepted"] * 5
    for e in events:
        await wait_until(lambda e=e: env.applied(e["id"]))


async def test_batch_with_one_bad_event_accepts_nothing(env: Env) -> None:
    good, bad = logged(), logged(hours=30)
    r = await env.post([good, bad], BATCH)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["events"][0]["index"] == 1
    assert "hours" in r.json()["message"]
    assert await env.outbox(good["id"]) == []


async def test_duplicate_answers_success_without_a_second_outbox_row(env: Env) -> None:
    event = logged()
    first = await env.post(event, STRUCTURED)
    again = await env.post([event, event], BATCH)
    assert first.status_code == again.status_code == 202
    assert [e["status"] for e in again.json()["events"]] == ["duplicate", "duplicate"]
    assert len(await env.outbox(event["id"])) == 1


async def test_same_id_with_other_content_is_a_conflict(env: Env) -> None:
    event = logged()
    assert (await env.post(event, STRUCTURED)).status_code == 202
    changed = {**event, "data": {**event["data"], "hours": 3}}
    r = await env.post(changed, STRUCTURED)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "conflict" and event["id"] in r.json()["message"]
    (row,) = await env.outbox(event["id"])
    assert row["data"]["hours"] == 2


@pytest.mark.parametrize(
    ("body", "headers", "status", "word"),
    [
        (logged(hours=30), STRUCTURED, 422, "hours"),
        ({**logged(), "time": "2099-01-01T00:00:00+08:00"}, STRUCTURED, 422, "ahead"),
        ({k: v for k, v in logged().items() if k != "id"}, STRUCTURED, 422, "id"),
        (cloud_event("partygrid.nothing", {}, time=NOV), STRUCTURED, 422, "unknown"),
        (logged(), {"Content-Type": "text/plain"}, 415, "cloudevents+json"),
        ({"not": "a list"}, BATCH, 400, "array"),
    ],
    ids=["invalid data", "time ahead", "no id", "unknown type", "not a binding", "bad batch"],
)
async def test_bad_event_answers_4xx_with_the_reason(
    env: Env, body: Any, headers: dict[str, str], status: int, word: str
) -> None:
    r = await env.post(body, headers)
    assert r.status_code == status, r.text
    assert word in r.text


async def test_type_this_service_does_not_consume_is_refused(env: Env) -> None:
    event = cloud_event(
        "partygrid.wish.posted",
        {"wish_id": "W-1", "community_id": "C1", "title": "t", "expires_at": NOV},
        subject="W-1",
        time=NOV,
    )
    r = await env.post(event, STRUCTURED)
    assert r.status_code == 422 and "does not accept" in r.text, r.text


async def test_no_token_is_401(env: Env) -> None:
    r = await env.client.post(
        "/v1/events",
        content=json.dumps(logged()).encode(),
        headers={**STRUCTURED, "Authorization": ""},
    )
    assert r.status_code == 401, r.text


async def test_read_only_token_may_not_send_events(env: Env) -> None:
    r = await env.post(logged(), STRUCTURED, token="test-readonly-token-00001")
    assert r.status_code == 403, r.text


async def test_publisher_sends_only_the_types_its_scope_lists(env: Env) -> None:
    allowed = logged()
    assert (await env.post(allowed, STRUCTURED, token=PUBLISHER)).status_code == 202
    member = allowed["subject"]
    other = cloud_event(
        ACTIVITY_REVOKED,
        {"member_id": member, "revokes": {"source": allowed["source"], "id": allowed["id"]}},
        subject=member,
        time=NOV,
    )
    r = await env.post(other, STRUCTURED, token=PUBLISHER)
    assert r.status_code == 403 and ACTIVITY_LOGGED in r.json()["message"], r.text
    assert await env.outbox(other["id"]) == []


async def test_publisher_token_opens_no_other_api(env: Env) -> None:
    r = await env.client.get(
        "/v1/rankings/streets", headers={"Authorization": f"Bearer {PUBLISHER}"}
    )
    assert r.status_code == 403 and "publisher" in r.text, r.text
