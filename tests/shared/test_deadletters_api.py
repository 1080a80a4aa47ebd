"""The dead-letter API (list, re-publish after a fix) against a real tansu broker and a real
PostgreSQL: the scoring service dead-letters bad activity messages, the API lists them with their
reason and original bytes, a corrected re-publish is applied once and only once; a fix in the
code re-publishes the original bytes; tokens and bad requests answer with JSON errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import (
    TEST_TOKENS,
    cloud_event,
    publish_raw,
    read_topic,
    running_app,
    settings_for_test,
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


TOO_LONG = _logged("M1", "volunteer_service", 2, "vs-1", hours=30)
DANCING = _logged("M1", "dancing", 3, "dance-1")
# the fix is in the message: a corrected copy of the same event (same source + id)
CORRECTED = {**TOO_LONG, "data": {**TOO_LONG["data"], "hours": 3}}


@dataclass
class Letters:
    """A scoring service that dead-lettered three of four activity messages."""

    app: Any
    client: httpx.AsyncClient
    bootstrap: str
    page: dict  # the listing once the three letters were in
    corrected: httpx.Response | None = None  # the answer to the corrected re-publish
    points_after_correction: float | None = None
    points_after_duplicate: float | None = None

    async def points(self) -> float | None:
        r = await self.client.get("/v1/members/M1/points", params={"period": "2026-11"})
        return r.json()["points"] if r.status_code == 200 else None

    async def ids(self, **params: str) -> list[int]:
        r = await self.client.get("/v1/dead-letters", params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    @property
    def not_json(self) -> dict:
        return self.page["items"][0]

    @property
    def dance(self) -> dict:
        return self.page["items"][1]

    @property
    def hours(self) -> dict:
        return self.page["items"][2]

    async def applied(self, event_id: str) -> bool:
        pool = self.app.state.runtime.pool
        return bool(await pool.fetchval("SELECT count(*) FROM inbox WHERE id = $1", event_id))

    async def republish(self, body: dict, **kw: Any) -> httpx.Response:
        return await self.client.post("/v1/dead-letters/republish", json=body, **kw)


@pytest.fixture(scope="module")
async def scenario(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Letters]:
    """One service for the module (it joins the broker in seconds): a good study event, then
    three bad messages."""
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = settings_for_test(pg_server.url, broker.bootstrap, "scoring", api_tokens=TOKENS)
    try:
        app = create_app(settings)
        async with running_app(app) as client:
            await publish_raw(
                broker.bootstrap,
                [
                    (ACTIVITY_LOGGED, b"M1", _logged("M1", "study", 1, "st-1")),
                    (ACTIVITY_LOGGED, b"M1", TOO_LONG),
                    (ACTIVITY_LOGGED, b"M1", DANCING),
                    (ACTIVITY_LOGGED, b"M1", b"\xff not json"),
                ],
            )

            async def listed() -> dict:
                page = (await client.get("/v1/dead-letters")).json()
                return page if page["total"] == 3 else {}

            yield Letters(app, client, broker.bootstrap, await wait_until(listed))
    finally:
        broker.stop()


@pytest.fixture
def letters(scenario: Letters) -> Letters:
    """The letters as dead-lettered. The tests using this come first in the module: pytest
    runs them in file order, and `corrected` below changes the letters for good."""
    assert scenario.corrected is None, "a test of the letters as dead-lettered ran after the fix"
    return scenario


@pytest.fixture
async def corrected(scenario: Letters) -> Letters:
    """The letters after the too-long volunteering was re-published corrected, and a second
    copy of the corrected event put on the wire by hand (once for the module)."""
    s = scenario
    if s.corrected is None:
        s.corrected = await s.republish({"ids": [s.hours["id"]], "value": CORRECTED})
        await wait_until(lambda: s.applied("vs-1"))
        s.points_after_correction = await s.points()
        await publish_raw(s.bootstrap, [(ACTIVITY_LOGGED, b"M1", CORRECTED)])
        await publish_raw(
            s.bootstrap, [(ACTIVITY_LOGGED, b"M1", _logged("M1", "study", 4, "st-2"))]
        )
        await wait_until(lambda: s.applied("st-2"))  # the marker after the copy
        s.points_after_duplicate = await s.points()
    return s


# the letters as dead-lettered


async def test_good_events_before_the_bad_ones_are_applied(letters: Letters) -> None:
    assert await wait_until(letters.points) == 1.0


async def test_letters_are_listed_newest_first_with_their_reason(letters: Letters) -> None:
    page = letters.page
    assert page["service"] == "scoring"
    assert [i["reason"] for i in page["items"]] == ["not_json", "invalid_data", "invalid_data"]
    assert [i["offset"] for i in page["items"]] == [3, 2, 1]
    assert len({i["partition"] for i in page["items"]}) == 1


async def test_a_letter_keeps_the_original_message_and_what_was_wrong(letters: Letters) -> None:
    hours, dance = letters.hours, letters.dance
    assert hours["event_id"] == "vs-1" and "hours" in hours["detail"]
    assert hours["value_encoding"] == "utf-8"
    assert json.loads(hours["value"]) == TOO_LONG
    assert hours["key"] == "M1" and hours["topic"] == ACTIVITY_LOGGED
    assert hours["event_type"] == ACTIVITY_LOGGED and hours["republish_count"] == 0
    assert dance["event_id"] == "dance-1" and "activity_type" in dance["detail"]


async def test_a_letter_that_is_not_json_is_kept_as_base64(letters: Letters) -> None:
    not_json = letters.not_json
    assert not_json["value_encoding"] == "base64" and not_json["event_id"] is None


async def test_letters_filter_by_reason_type_and_topic(letters: Letters) -> None:
    assert await letters.ids(reason="not_json") == [letters.not_json["id"]]
    assert await letters.ids(reason="invalid_data", type=ACTIVITY_LOGGED) == [
        letters.dance["id"],
        letters.hours["id"],
    ]
    assert await letters.ids(topic="partygrid.member.reported") == []


async def test_letters_filter_by_time_and_status(letters: Letters) -> None:
    assert await letters.ids(since="2999-01-01T00:00:00Z") == []
    assert len(await letters.ids(until="2999-01-01T00:00:00", status="new")) == 3
    assert await letters.ids(status="republished") == []


async def test_another_service_lists_its_own_letters_only(letters: Letters) -> None:
    other = (await letters.client.get("/v1/dead-letters", params={"service": "members"})).json()
    assert other["filters"]["service"] == "members" and other["items"] == []


async def test_a_letter_reads_the_same_alone_as_in_the_list(letters: Letters) -> None:
    hours = letters.hours
    assert (await letters.client.get(f"/v1/dead-letters/{hours['id']}")).json() == hours


# after the corrected re-publish


async def test_a_corrected_copy_is_republished_and_applied(corrected: Letters) -> None:
    r = corrected.corrected
    assert r is not None and r.status_code == 200, r and r.text
    assert r.json()["republished"] == 1
    assert r.json()["results"][0]["outcome"] == "republished"
    assert corrected.points_after_correction == 7.0  # 1 + 3 h x 2


async def test_a_republished_letter_is_not_sent_twice(corrected: Letters) -> None:
    again = await corrected.republish({"ids": [corrected.hours["id"]], "value": CORRECTED})
    assert again.json()["results"][0]["outcome"] == "already_republished"


async def test_a_forced_republish_of_an_applied_event_sends_nothing(corrected: Letters) -> None:
    forced = await corrected.republish(
        {"ids": [corrected.hours["id"]], "value": CORRECTED, "force": True}
    )
    assert forced.json()["results"][0]["outcome"] == "already_applied"
    assert forced.json()["republished"] == 0


async def test_a_second_copy_on_the_wire_counts_once(corrected: Letters) -> None:
    assert corrected.points_after_duplicate == 8.0
    pool = corrected.app.state.runtime.pool
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE id = 'vs-1'") == 1


async def test_a_republished_letter_records_what_was_sent(corrected: Letters) -> None:
    hours_id = corrected.hours["id"]
    item = (await corrected.client.get(f"/v1/dead-letters/{hours_id}")).json()
    assert item["republish_count"] == 1 and item["republished_at"] is not None
    assert json.loads(item["republished_value"])["data"]["hours"] == 3
    assert await corrected.ids(status="republished") == [hours_id]


async def test_only_letters_not_yet_republished_are_new(corrected: Letters) -> None:
    assert await corrected.ids(status="new") == [corrected.not_json["id"], corrected.dance["id"]]


async def test_republish_by_filter_does_not_send_what_is_still_invalid(
    corrected: Letters,
) -> None:
    r = await corrected.republish({"filter": {"reason": "invalid_data"}})
    assert [(o["id"], o["outcome"]) for o in r.json()["results"]] == [
        (corrected.dance["id"], "still_invalid")
    ]


async def test_a_letter_that_is_not_json_needs_a_value(corrected: Letters) -> None:
    r = await corrected.republish({"ids": [corrected.not_json["id"]]})
    assert r.json()["results"][0]["outcome"] == "needs_value"


async def test_nothing_republished_is_dead_lettered_again(corrected: Letters) -> None:
    pool = corrected.app.state.runtime.pool
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 3


async def test_bad_republish_requests_answer_with_json_errors(corrected: Letters) -> None:
    dance, hours = corrected.dance["id"], corrected.hours["id"]
    for body, status in (
        ({"ids": [999_999]}, 404),
        ({"ids": [dance, 999_999]}, 404),
        ({}, 422),
        ({"ids": [1], "filter": {}}, 422),
        ({"ids": [dance, hours], "value": CORRECTED}, 422),
        ({"ids": [0]}, 422),
        ({"ids": [dance], "value": {**DANCING, "data": {"member_id": "M1"}}}, 422),
        ({"filter": {"reason": "no_such_reason"}}, 422),
    ):
        r = await corrected.republish(body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"] in ("not_found", "invalid_request", "invalid_correction")
        assert r.json()["message"]


async def test_a_correction_that_is_no_valid_event_is_refused(corrected: Letters) -> None:
    bad_value = await corrected.republish(
        {"ids": [corrected.dance["id"]], "value": {**DANCING, "data": {"member_id": "M1"}}}
    )
    assert bad_value.json()["error"] == "invalid_correction"


async def test_an_unknown_letter_is_not_found(corrected: Letters) -> None:
    r = await corrected.client.get("/v1/dead-letters/999999")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


async def test_bad_list_filters_are_an_invalid_request(corrected: Letters) -> None:
    r = await corrected.client.get("/v1/dead-letters", params={"reason": "nope", "limit": 0})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"


async def test_listing_letters_needs_a_token(corrected: Letters) -> None:
    no_token = {"Authorization": ""}
    assert (await corrected.client.get("/v1/dead-letters", headers=no_token)).status_code == 401


async def test_a_community_admin_may_not_list_letters(corrected: Letters) -> None:
    community = {"Authorization": f"Bearer {COMMUNITY_ADMIN}"}
    r = await corrected.client.get("/v1/dead-letters", headers=community)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


async def test_a_read_only_token_may_list_letters(corrected: Letters) -> None:
    readonly = {"Authorization": f"Bearer {READONLY}"}
    assert (await corrected.client.get("/v1/dead-letters", headers=readonly)).status_code == 200


async def test_only_an_admin_may_republish(corrected: Letters) -> None:
    body = {"ids": [corrected.dance["id"]]}
    readonly = {"Authorization": f"Bearer {READONLY}"}
    assert (await corrected.republish(body, headers=readonly)).status_code == 403
    community = {"Authorization": f"Bearer {COMMUNITY_ADMIN}"}
    assert (await corrected.republish(body, headers=community)).status_code == 403
    pool = corrected.app.state.runtime.pool
    assert await pool.fetchval("SELECT count(*) FROM dead_letters WHERE republish_count > 0") == 1


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
