"""The dead-letter API (list, re-publish after a fix) against a real tansu broker and a real
PostgreSQL: the scoring service dead-letters bad activity messages, the API lists them with their
reason and original bytes, a corrected re-publish is applied once and only once; a fix in the
code re-publishes the original bytes; tokens and bad requests answer with JSON errors."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

from dev.testing import (
    TEST_TOKENS,
    cloud_event,
    publish_raw,
    read_topic,
    running_app,
    wait_until,
)
from services.scoring.main import create_app
from shared.events import ACTIVITY_LOGGED
from shared.inbox import Incoming
from shared.service import ServiceDefinition, create_service_app

from . import sdk

NOV = "2026-11-{:02d}T10:00:00+08:00"
COMMUNITY_ADMIN = "test-community-admin-0001"
READONLY = "test-readonly-token-00001"
TOKENS = f"{TEST_TOKENS},{COMMUNITY_ADMIN}:community_admin:C1"


def _logged(member: str, kind: str, day: int, id: str, **data: object) -> dict:
    return cloud_event(
        ACTIVITY_LOGGED,
        {"member_id": member, "activity_type": kind, **data},
        subject=member,
        id=id,
        time=NOV.format(day),
    )


async def test_list_filter_and_republish_a_correction_once(settings_for, kafka) -> None:
    app = create_app(settings_for("scoring", api_tokens=TOKENS))
    too_long = _logged("M1", "volunteer_service", 2, "vs-1", hours=30)
    dancing = _logged("M1", "dancing", 3, "dance-1")
    async with running_app(app) as client:
        await publish_raw(
            kafka.bootstrap,
            [
                (ACTIVITY_LOGGED, b"M1", _logged("M1", "study", 1, "st-1")),
                (ACTIVITY_LOGGED, b"M1", too_long),
                (ACTIVITY_LOGGED, b"M1", dancing),
                (ACTIVITY_LOGGED, b"M1", b"\xff not json"),
            ],
        )

        async def points() -> float | None:
            r = await client.get("/v1/members/M1/points", params={"period": "2026-11"})
            return r.json()["points"] if r.status_code == 200 else None

        async def listed() -> dict:
            page = (await client.get("/v1/dead-letters")).json()
            return page if page["total"] == 3 else {}

        page = await wait_until(listed)
        assert await wait_until(points) == 1.0  # the good study event before the bad ones
        assert page["service"] == "scoring"
        assert [i["reason"] for i in page["items"]] == ["not_json", "invalid_data", "invalid_data"]
        assert [i["offset"] for i in page["items"]] == [3, 2, 1]  # newest first
        not_json, dance, hours = page["items"]
        assert hours["event_id"] == "vs-1" and "hours" in hours["detail"]
        assert hours["value_encoding"] == "utf-8"
        assert json.loads(hours["value"]) == too_long
        assert hours["key"] == "M1" and hours["topic"] == ACTIVITY_LOGGED
        assert hours["event_type"] == ACTIVITY_LOGGED and hours["republish_count"] == 0
        assert dance["event_id"] == "dance-1" and "activity_type" in dance["detail"]
        assert not_json["value_encoding"] == "base64" and not_json["event_id"] is None
        assert len({i["partition"] for i in page["items"]}) == 1

        async def ids(**params: str) -> list[int]:
            r = await client.get("/v1/dead-letters", params=params)
            assert r.status_code == 200, r.text
            return [i["id"] for i in r.json()["items"]]

        assert await ids(reason="not_json") == [not_json["id"]]
        assert await ids(reason="invalid_data", type=ACTIVITY_LOGGED) == [dance["id"], hours["id"]]
        assert await ids(topic="partygrid.member.reported") == []
        assert await ids(since="2999-01-01T00:00:00Z") == []
        assert len(await ids(until="2999-01-01T00:00:00", status="new")) == 3
        assert await ids(status="republished") == []
        other = (await client.get("/v1/dead-letters", params={"service": "members"})).json()
        assert other["filters"]["service"] == "members" and other["items"] == []
        assert (await client.get(f"/v1/dead-letters/{hours['id']}")).json() == hours

        # the fix is in the message: send a corrected copy of the same event (same source + id)
        corrected = {**too_long, "data": {**too_long["data"], "hours": 3}}
        r = await client.post(
            "/v1/dead-letters/republish", json={"ids": [hours["id"]], "value": corrected}
        )
        assert r.status_code == 200, r.text
        assert r.json()["republished"] == 1
        assert r.json()["results"][0]["outcome"] == "republished"
        assert await wait_until(lambda: _equals(points, 7.0))  # 1 + 3 h x 2
        # again: the API does not send it twice, and with force it sees the event applied
        again = await client.post(
            "/v1/dead-letters/republish", json={"ids": [hours["id"]], "value": corrected}
        )
        assert again.json()["results"][0]["outcome"] == "already_republished"
        forced = await client.post(
            "/v1/dead-letters/republish",
            json={"ids": [hours["id"]], "value": corrected, "force": True},
        )
        assert forced.json()["results"][0]["outcome"] == "already_applied"
        assert forced.json()["republished"] == 0
        # a second copy on the wire anyway (e.g. an operator re-sent it by hand) counts once
        pool = app.state.runtime.pool
        await publish_raw(kafka.bootstrap, [(ACTIVITY_LOGGED, b"M1", corrected)])
        await publish_raw(
            kafka.bootstrap, [(ACTIVITY_LOGGED, b"M1", _logged("M1", "study", 4, "st-2"))]
        )
        assert await wait_until(lambda: _equals(points, 8.0))  # the marker after it is applied
        assert await pool.fetchval("SELECT count(*) FROM inbox WHERE id = 'vs-1'") == 1
        item = (await client.get(f"/v1/dead-letters/{hours['id']}")).json()
        assert item["republish_count"] == 1 and item["republished_at"] is not None
        assert json.loads(item["republished_value"])["data"]["hours"] == 3
        assert await ids(status="republished") == [hours["id"]]

        # by filter: what is still wrong in the original is not sent; not-JSON needs a value
        r = await client.post(
            "/v1/dead-letters/republish", json={"filter": {"reason": "invalid_data"}}
        )
        assert [(o["id"], o["outcome"]) for o in r.json()["results"]] == [
            (dance["id"], "still_invalid")
        ]
        r = await client.post("/v1/dead-letters/republish", json={"ids": [not_json["id"]]})
        assert r.json()["results"][0]["outcome"] == "needs_value"
        assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 3  # nothing bounced

        # bad requests: JSON bodies, nothing sent
        for body, status in (
            ({"ids": [999_999]}, 404),
            ({"ids": [dance["id"], 999_999]}, 404),
            ({}, 422),
            ({"ids": [1], "filter": {}}, 422),
            ({"ids": [dance["id"], hours["id"]], "value": corrected}, 422),
            ({"ids": [0]}, 422),
            ({"ids": [dance["id"]], "value": {**dancing, "data": {"member_id": "M1"}}}, 422),
            ({"filter": {"reason": "no_such_reason"}}, 422),
        ):
            r = await client.post("/v1/dead-letters/republish", json=body)
            assert r.status_code == status, (body, r.text)
            assert r.json()["error"] in ("not_found", "invalid_request", "invalid_correction")
            assert r.json()["message"]
        bad_value = await client.post(
            "/v1/dead-letters/republish",
            json={"ids": [dance["id"]], "value": {**dancing, "data": {"member_id": "M1"}}},
        )
        assert bad_value.json()["error"] == "invalid_correction"
        r = await client.get("/v1/dead-letters/999999")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = await client.get("/v1/dead-letters", params={"reason": "nope", "limit": 0})
        assert r.status_code == 422 and r.json()["error"] == "invalid_request"
        assert await ids(status="new") == [not_json["id"], dance["id"]]

        # tokens: none -> 401; a community admin -> 403; read-only may list, not re-publish
        assert (
            await client.get("/v1/dead-letters", headers={"Authorization": ""})
        ).status_code == 401
        community = {"Authorization": f"Bearer {COMMUNITY_ADMIN}"}
        r = await client.get("/v1/dead-letters", headers=community)
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        readonly = {"Authorization": f"Bearer {READONLY}"}
        assert (await client.get("/v1/dead-letters", headers=readonly)).status_code == 200
        r = await client.post(
            "/v1/dead-letters/republish", json={"ids": [dance["id"]]}, headers=readonly
        )
        assert r.status_code == 403
        r = await client.post(
            "/v1/dead-letters/republish", json={"ids": [dance["id"]]}, headers=community
        )
        assert r.status_code == 403
        assert (
            await pool.fetchval("SELECT count(*) FROM dead_letters WHERE republish_count > 0") == 1
        )


async def _equals(probe, expected: float) -> bool:
    return await probe() == expected


BROKEN: set[str] = set()


async def _apply(conn: asyncpg.Connection, events: list[Incoming]) -> None:
    for e in events:
        if e.data.member_id in BROKEN:
            raise RuntimeError(f"bug: cannot handle {e.data.member_id}")
    await conn.executemany(
        "INSERT INTO seen VALUES ($1, $2, $3)",
        [(e.event.source, e.event.id, e.data.member_id) for e in events],
    )


async def test_fix_in_the_code_republishes_the_original_bytes_once(settings_for, kafka) -> None:
    definition = ServiceDefinition(
        name="scoring",
        title="dummy",
        description="dummy",
        migrations=Path(__file__).parent / "dummy_migrations",
        consumes=[ACTIVITY_LOGGED],
        apply=_apply,
    )
    app = create_service_app(definition, settings_for("scoring"))
    BROKEN.add("BUG")
    buggy = _logged("BUG", "study", 1, "b-1")
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await publish_raw(
            kafka.bootstrap,
            [
                (ACTIVITY_LOGGED, b"BUG", buggy),
                (ACTIVITY_LOGGED, b"BUG", _logged("M2", "study", 2, "ok-1")),  # same partition
            ],
        )

        async def listed() -> list:
            r = await client.get("/v1/dead-letters", params={"reason": "processing_error"})
            return r.json()["items"]

        async def seen() -> int:
            return await pool.fetchval("SELECT count(*) FROM seen")

        (letter,) = await wait_until(listed)
        assert "bug: cannot handle BUG" in letter["detail"]
        assert json.loads(letter["value"]) == buggy
        assert await wait_until(lambda: _equals(seen, 1))  # the next message was applied

        BROKEN.clear()  # the fix is deployed
        r = await client.post(
            "/v1/dead-letters/republish", json={"filter": {"reason": "processing_error"}}
        )
        assert r.status_code == 200, r.text
        assert r.json()["republished"] == 1

        assert await wait_until(lambda: _equals(seen, 2))
        r = await client.post(
            "/v1/dead-letters/republish", json={"filter": {"reason": "processing_error"}}
        )
        assert r.json()["results"] == []  # nothing new to send
        r = await client.post(
            "/v1/dead-letters/republish",
            json={"filter": {"reason": "processing_error"}, "force": True},
        )
        assert {o["outcome"] for o in r.json()["results"]} == {"already_applied"}
        # the original bytes on the wire once more (as if the outbox sent twice) count once
        await publish_raw(kafka.bootstrap, [(ACTIVITY_LOGGED, b"BUG", buggy)])
        await publish_raw(
            kafka.bootstrap, [(ACTIVITY_LOGGED, b"BUG", _logged("M2", "study", 3, "ok-2"))]
        )
        assert await wait_until(lambda: _equals(seen, 3))
        assert await pool.fetchval("SELECT count(*) FROM seen WHERE id = 'b-1'") == 1
        outbox = await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = $1", ACTIVITY_LOGGED
        )
        assert outbox == 1  # one re-publish, none for the forced/duplicate attempts


async def test_a_binary_dead_letter_is_republished_with_its_headers_and_applied(
    settings_for, kafka
) -> None:
    definition = ServiceDefinition(
        name="scoring",
        title="dummy",
        description="dummy",
        migrations=Path(__file__).parent / "dummy_migrations",
        consumes=[ACTIVITY_LOGGED],
        apply=_apply,
    )
    app = create_service_app(definition, settings_for("scoring"))
    BROKEN.add("BUG-BIN")
    buggy = _logged("BUG-BIN", "study", 1, "bin-1")
    key, value, headers = sdk.sdk_message(buggy, "binary")
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, enable_idempotence=False)
        await producer.start()
        try:
            original = await sdk.send(producer, ACTIVITY_LOGGED, buggy, "binary")
        finally:
            await producer.stop()

        async def listed() -> list:
            r = await client.get("/v1/dead-letters", params={"reason": "processing_error"})
            return r.json()["items"]

        (letter,) = await wait_until(listed)
        assert letter["event_id"] == "bin-1" and letter["value"] == value.decode()
        assert [(h["key"], h["value"].encode()) for h in letter["headers"]] == headers

        BROKEN.clear()  # the fix is deployed
        r = await client.post("/v1/dead-letters/republish", json={"ids": [letter["id"]]})
        assert r.json()["results"][0]["outcome"] == "republished", r.text

        async def applied() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM seen WHERE id = 'bin-1'"))

        assert await wait_until(applied)
        records = await read_topic(kafka.bootstrap, ACTIVITY_LOGGED, min_count=2)
        (again,) = [
            r for r in records if r.offset != original.offset or r.partition != original.partition
        ]
        assert (again.key, again.value, list(again.headers)) == (key, value, headers)
