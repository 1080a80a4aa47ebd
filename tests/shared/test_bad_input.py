"""Every class of bad input of docs/design.md §3.5, published through the real broker to the running
scoring service (one app for the whole module, so each case costs a fraction of a second):
each lands on `partygrid.deadletter` with its reason, the original bytes and key, and the topic,
partition and offset it came from; the next good message on the same partition is applied."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import cloud_event, running_app, settings_for_test, wait_until
from services.scoring.main import create_app
from shared.events import (
    ACTIVITY_LOGGED,
    DEADLETTER_TOPIC,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
)
from shared.events.kafka_binding import REQUIRED_HEADERS

from . import sdk

NOV = "2026-11-05T10:00:00+08:00"


def logged(member: str, **data: Any) -> dict[str, Any]:
    return cloud_event(
        ACTIVITY_LOGGED,
        {"member_id": member, "activity_type": "study", **data},
        subject=member,
        time=NOV,
    )


def registered(member: str, category: str = "retired") -> dict[str, Any]:
    data = {"member_id": member, "name": "张三", "category": category, "party_org_id": "P1"}
    return cloud_event(MEMBER_REGISTERED, data, subject=member, time=NOV)


@dataclass(frozen=True)
class Case:
    """One bad message: its topic, how to build it for a member, the reason expected."""

    topic: str
    build: Callable[[str], bytes | dict[str, Any] | None]
    reason: str
    detail: str  # a word the dead letter's detail must contain


def _without(event: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != field}


def _future(m: str) -> dict[str, Any]:
    soon = datetime.now(UTC) + timedelta(days=1, hours=1)
    return {**logged(m), "time": soon.isoformat()}


CASES: dict[str, Case] = {
    "not JSON": Case(ACTIVITY_LOGGED, lambda m: b'{"member_id": ', "not_json", "JSON"),
    "not UTF-8": Case(ACTIVITY_LOGGED, lambda m: b"\xff\xfe\x00garbage", "not_json", "UTF-8"),
    "tombstone (no value)": Case(ACTIVITY_LOGGED, lambda m: None, "not_json", "empty"),
    "JSON but not an object": Case(
        ACTIVITY_LOGGED, lambda m: b"[1, 2]", "not_cloudevent", "object"
    ),
    "not a CloudEvent": Case(
        ACTIVITY_LOGGED, lambda m: {"member_id": m, "hours": 2}, "not_cloudevent", "specversion"
    ),
    "CloudEvent without time": Case(
        ACTIVITY_LOGGED, lambda m: _without(logged(m), "time"), "not_cloudevent", "time"
    ),
    "time without offset": Case(
        ACTIVITY_LOGGED,
        lambda m: {**logged(m), "time": "2026-11-05T10:00:00"},
        "not_cloudevent",
        "time",
    ),
    "wrong type for its topic": Case(
        ACTIVITY_LOGGED,
        lambda m: cloud_event(
            MEMBER_REPORTED, {"member_id": m, "community_id": "C1"}, subject=m, time=NOV
        ),
        "wrong_topic",
        MEMBER_REPORTED,
    ),
    "unknown event type": Case(
        ACTIVITY_LOGGED,
        lambda m: {**logged(m), "type": "partygrid.activity.danced"},
        "unknown_type",
        "partygrid.activity.danced",
    ),
    "missing required field": Case(
        ACTIVITY_LOGGED,
        lambda m: {**logged(m), "data": {"member_id": m}},
        "invalid_data",
        "activity_type",
    ),
    "hours missing for volunteering": Case(
        ACTIVITY_LOGGED,
        lambda m: logged(m, activity_type="volunteer_service"),
        "invalid_data",
        "hours",
    ),
    "unknown category": Case(
        MEMBER_REGISTERED, lambda m: registered(m, "student"), "invalid_data", "category"
    ),
    "unknown activity type": Case(
        ACTIVITY_LOGGED,
        lambda m: logged(m, activity_type="dancing"),
        "invalid_data",
        "activity_type",
    ),
    "hours above 24": Case(
        ACTIVITY_LOGGED,
        lambda m: logged(m, activity_type="volunteer_service", hours=24.5),
        "invalid_data",
        "hours",
    ),
    "hours zero": Case(
        ACTIVITY_LOGGED,
        lambda m: logged(m, activity_type="volunteer_service", hours=0),
        "invalid_data",
        "hours",
    ),
    "hours with 3 decimals": Case(
        ACTIVITY_LOGGED,
        lambda m: logged(m, activity_type="volunteer_service", hours=1.125),
        "invalid_data",
        "hours",
    ),
    "bad member id": Case(
        ACTIVITY_LOGGED, lambda m: logged(m, member_id="M 1/2"), "invalid_data", "member_id"
    ),
    "time more than a day ahead": Case(ACTIVITY_LOGGED, _future, "time_in_future", "ahead"),
}


@dataclass
class Env:
    producer: AIOKafkaProducer
    letters: list[Any]
    pool: Any
    client: Any

    async def send(self, topic: str, key: str, value: bytes | dict[str, Any] | None) -> Any:
        raw = json.dumps(value).encode() if isinstance(value, dict) else value
        return await (await self.producer.send(topic, raw, key=key.encode()))

    async def letter_for(self, meta: Any) -> dict[str, Any]:
        async def found() -> dict[str, Any] | None:
            for r in self.letters:
                d = json.loads(r.value)["data"]
                if (d["topic"], d["partition"], d["offset"]) == (
                    meta.topic,
                    meta.partition,
                    meta.offset,
                ):
                    return d
            return None

        return await wait_until(found)

    async def applied(self, event_id: str) -> bool:
        return bool(await self.pool.fetchval("SELECT count(*) FROM inbox WHERE id = $1", event_id))


@pytest.fixture(scope="module")
async def env(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    kafka = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    settings = settings_for_test(pg_server.url, kafka.bootstrap, "scoring")
    app = create_app(settings)
    letters: list[Any] = []
    try:
        async with running_app(app) as client:
            producer = AIOKafkaProducer(
                bootstrap_servers=kafka.bootstrap, enable_idempotence=False, acks="all"
            )
            consumer = AIOKafkaConsumer(
                DEADLETTER_TOPIC,
                bootstrap_servers=kafka.bootstrap,
                auto_offset_reset="earliest",
                enable_auto_commit=False,
                group_id=None,
            )
            await producer.start()
            await consumer.start()

            async def collect() -> None:
                async for record in consumer:
                    letters.append(record)

            task = asyncio.create_task(collect())
            try:
                yield Env(producer, letters, app.state.runtime.pool, client)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await consumer.stop()
                await producer.stop()
    finally:
        kafka.stop()


def _check_letter(
    letter: dict[str, Any], meta: Any, key: str, raw: bytes | None, case: Case
) -> None:
    assert letter["reason"] == case.reason, letter
    assert case.detail in letter["detail"], letter["detail"]
    assert letter["service"] == "scoring"
    assert (letter["topic"], letter["partition"], letter["offset"]) == (
        meta.topic,
        meta.partition,
        meta.offset,
    )
    assert letter["key_b64"] == base64.b64encode(key.encode()).decode()
    original = base64.b64decode(letter["value_b64"]) if letter.get("value_b64") else None
    assert original == raw


@pytest.mark.parametrize("name", list(CASES))
async def test_bad_input_is_dead_lettered_and_the_next_message_applied(env: Env, name: str) -> None:
    case = CASES[name]
    member = f"M-{uuid.uuid4().hex[:10]}"
    value = case.build(member)
    raw = json.dumps(value).encode() if isinstance(value, dict) else value
    bad = await env.send(case.topic, member, raw)
    good_event = registered(member) if case.topic == MEMBER_REGISTERED else logged(member)
    good = await env.send(case.topic, member, good_event)
    assert (good.topic, good.partition) == (bad.topic, bad.partition)
    assert good.offset > bad.offset

    _check_letter(await env.letter_for(bad), bad, member, raw, case)
    assert await wait_until(lambda: env.applied(good_event["id"]))
    if case.topic == ACTIVITY_LOGGED:  # the effect, not only the inbox: the study point
        r = await env.client.get(f"/v1/members/{member}/points", params={"period": "2026-11"})
        assert r.json()["points"] == 1.0, r.text


async def test_same_source_and_id_with_other_content_is_a_conflict(env: Env) -> None:
    member = f"M-{uuid.uuid4().hex[:10]}"
    first = logged(member, activity_type="grid_visit")
    conflicting = {**first, "data": {**first["data"], "activity_type": "organization_life"}}
    await env.send(ACTIVITY_LOGGED, member, first)
    again = await env.send(ACTIVITY_LOGGED, member, first)  # a redelivery: no dead letter
    bad = await env.send(ACTIVITY_LOGGED, member, conflicting)
    marker = logged(member)
    await env.send(ACTIVITY_LOGGED, member, marker)

    case = Case(ACTIVITY_LOGGED, lambda m: None, "conflict", "first one stands")
    letter = await env.letter_for(bad)
    _check_letter(letter, bad, member, json.dumps(conflicting).encode(), case)
    assert (letter["event_source"], letter["event_id"]) == (first["source"], first["id"])
    assert await wait_until(lambda: env.applied(marker["id"]))
    r = await env.client.get(f"/v1/members/{member}/points", params={"period": "2026-11"})
    assert r.json()["points"] == 2.0  # grid_visit 1 (the first stands, once) + study 1
    offsets = {
        json.loads(r.value)["data"]["offset"]
        for r in env.letters
        if json.loads(r.value)["data"]["topic"] == ACTIVITY_LOGGED
        and json.loads(r.value)["data"]["partition"] == again.partition
    }
    assert again.offset not in offsets

    # the dead-letter API: the original cannot go again (the first stands); under a new id it can
    listed = await env.client.get(
        "/v1/dead-letters", params={"reason": "conflict", "type": ACTIVITY_LOGGED}
    )
    (item,) = [i for i in listed.json()["items"] if i["offset"] == bad.offset]
    r = await env.client.post("/v1/dead-letters/republish", json={"ids": [item["id"]]})
    assert r.json()["results"][0]["outcome"] == "conflict", r.text
    renamed = {**conflicting, "id": f"{first['id']}-fixed"}
    r = await env.client.post(
        "/v1/dead-letters/republish", json={"ids": [item["id"]], "value": renamed}
    )
    assert r.json()["results"][0]["outcome"] == "republished", r.text

    async def points() -> float:
        r = await env.client.get(f"/v1/members/{member}/points", params={"period": "2026-11"})
        return r.json()["points"]

    assert await wait_until(lambda: _is(points, 7.0))  # + organization_life 5


async def _is(probe: Callable[[], Any], expected: float) -> bool:
    return await probe() == expected


@pytest.mark.parametrize("header", REQUIRED_HEADERS)
async def test_binary_event_without_a_required_header_is_dead_lettered_with_its_headers(
    env: Env, header: str
) -> None:
    member = f"M-{uuid.uuid4().hex[:10]}"
    event = logged(member)
    _, value, headers = sdk.sdk_message(event, "binary")
    kept = [[name, raw.decode()] for name, raw in headers if name != header]
    bad = await sdk.send(env.producer, ACTIVITY_LOGGED, event, "binary", drop=header)
    good_event = logged(member)
    good = await sdk.send(env.producer, ACTIVITY_LOGGED, good_event, "binary")
    assert (good.topic, good.partition) == (bad.topic, bad.partition)

    letter = await env.letter_for(bad)
    assert letter["reason"] == "not_cloudevent", letter
    assert f"without the {header} header" in letter["detail"], letter["detail"]
    assert base64.b64decode(letter["value_b64"]) == value  # the data alone, as it came
    assert [[h["key"], h["value_text"]] for h in letter["headers"]] == kept
    assert await wait_until(lambda: env.applied(good_event["id"]))
    listed = await env.client.get("/v1/dead-letters", params={"reason": "not_cloudevent"})
    (item,) = [
        i
        for i in listed.json()["items"]
        if (i["partition"], i["offset"]) == (bad.partition, bad.offset)
    ]
    assert [[h["key"], h["value"]] for h in item["headers"]] == kept
