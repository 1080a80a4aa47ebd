"""The demo city generator (the tools/demo package): the city has Putian's scale (8 streets, 61
communities, 31,040 members), it is the same city every time, a load reaches the real scoring
service through Kafka and fills its rankings, loading again changes nothing, and the simulator
keeps points moving and sends the odd bad message to the dead-letter topic."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from dev.testing import read_topic, running_app, wait_until
from services.scoring.handlers import CONSUMES
from services.scoring.main import create_app
from shared.events import DEADLETTER_TOPIC
from tools import demo


def test_city_has_the_scale_of_putian() -> None:
    city = demo.build_city()
    levels = Counter(r.level for r in city.regions)
    assert levels["district"] == 1 and levels["street"] == 8 and levels["community"] == 61
    assert levels["grid"] >= 200
    assert len(city.members) == 31_040
    assert set(Counter(m.category for m in city.members)) == set(demo.CATEGORIES)
    assert len(city.units) == 112 and sum(u.member_count for u in city.units) == 9_983
    unit_orgs = {u.party_org_id for u in city.units}
    in_service = [m for m in city.members if m.category == "in_service"]
    assert len(in_service) == 9_983 and all(m.party_org_id in unit_orgs for m in in_service)
    org_ids = {o.party_org_id for o in city.orgs}
    assert all(m.party_org_id in org_ids for m in city.members)
    names = [m.name for m in city.members]
    assert all(2 <= len(n) <= 4 and "\u4e00" <= n[0] <= "\u9fff" for n in names)
    assert len(set(names)) > 10_000  # realistic variety, not a handful repeated
    assert len({m.member_id for m in city.members}) == 31_040


def test_same_city_and_same_events_every_time() -> None:
    anchor = datetime(2026, 11, 22, 14, tzinfo=demo.TZ)
    a, b = demo.build_city(500), demo.build_city(500)
    assert a == b
    plan = demo.activity_plan(a)
    first = list(demo.load_messages(a, anchor, plan))
    assert first == list(demo.load_messages(b, anchor, demo.activity_plan(b)))
    assert len(first) == demo.load_size(a, plan)
    ids = [(json.loads(v)["source"], json.loads(v)["id"]) for _, _, v in first]
    assert len(set(ids)) == len(ids)  # no two different events share source + id


async def taken(pool: Any) -> int:
    """Events this test's scoring database has taken: applied (inbox) and dead-lettered.

    Counted in the test's own database, not in process-global metrics that other tests in the
    same process also move."""
    return int(
        await pool.fetchval(
            "SELECT (SELECT count(*) FROM inbox) + (SELECT count(*) FROM dead_letters)"
        )
    )


async def caught_up(bootstrap: str, group: str, topics: Sequence[str]) -> bool:
    """The consumer group (this test's broker, this test's service) has committed every offset
    up to the end of every topic it consumes, i.e. taken everything published so far."""
    # A consumer in the group that never subscribes does not join it (no rebalance); it only
    # reads the group's committed offsets.
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in reader.partitions_for_topic(t) or ()
        ]
        ends = await reader.end_offsets(partitions)
        committed = {tp: await reader.committed(tp) for tp in partitions}
    finally:
        await reader.stop()
    return bool(partitions) and all(
        end == 0 or (committed[tp] or 0) >= end for tp, end in ends.items()
    )


async def _at_least(count: Awaitable[int], n: int) -> bool:
    return await count >= n


def _streets(body: dict[str, Any]) -> list[tuple[str, float, int]]:
    return [(i["region_id"], i["score"], i["members"]) for i in body["items"]]


async def test_load_once_idempotent_reload_and_simulation(
    settings_for: Any, kafka: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = settings_for("scoring")
    app = create_app(settings)
    async with running_app(app) as http:
        pool = app.state.runtime.pool
        city = await demo.load(kafka.bootstrap, data, members=400)
        marker = json.loads((data / demo.MARKER).read_text())
        plan = demo.activity_plan(city)
        assert marker["events"] == demo.load_size(city, plan)
        reported = sum(1 for m in city.members if m.community_id)
        for_scoring = marker["events"] - len(city.orgs) - len(city.units)
        await wait_until(lambda: _at_least(taken(pool), for_scoring), timeout=60)

        async def loaded() -> dict[str, Any] | None:
            body = (await http.get("/v1/rankings/streets")).json()
            counted = sum(i["members"] for i in body["items"])
            return body if len(body["items"]) == 8 and counted == reported else None

        body = await wait_until(loaded, timeout=60)
        # every street has members with points this month, ranked by average
        scores = [i["score"] for i in body["items"]]
        assert scores == sorted(scores, reverse=True) and scores[0] > 0
        names = {i["name"] for i in body["items"]}
        assert names == set(demo.STREETS)

        before = body
        community = (await http.get("/v1/rankings/communities")).json()
        assert community["total"] == 61

        # loading again: the marker skips the bulk load ...
        await demo.load(kafka.bootstrap, data, members=400)
        assert json.loads((data / demo.MARKER).read_text()) == marker
        # ... and even a forced reload publishes the very same events: duplicates, no change
        await demo.load(kafka.bootstrap, data, members=400, force=True)
        taken_once = await taken(pool)
        await wait_until(
            lambda: caught_up(kafka.bootstrap, settings.consumer_group, CONSUMES), timeout=60
        )
        assert await taken(pool) == taken_once  # all duplicates: no new inbox row
        after = (await http.get("/v1/rankings/streets")).json()
        assert _streets(after) == _streets(before)

        # the simulator: activities move the totals, 1 bad message in `bad_every`
        sent = await demo.simulate(kafka.bootstrap, city, rate=2000, bad_every=50, max_events=200)
        assert sent == 200
        total_before = sum(i["total_points"] for i in before["items"])

        async def moved() -> bool:
            body = (await http.get("/v1/rankings/streets")).json()
            return sum(i["total_points"] for i in body["items"]) > total_before

        await wait_until(moved, timeout=30)
        # the 4 bad messages were taken (dead letters in this test's database) and relayed,
        # while the service still runs: the simulator's stream is not over when totals move
        bad = "SELECT count(*) FROM dead_letters"
        await wait_until(lambda: _at_least(pool.fetchval(bad), 4), timeout=30)
        letters = await read_topic(kafka.bootstrap, DEADLETTER_TOPIC, min_count=4)
    reasons = {json.loads(r.value)["data"]["reason"] for r in letters}
    assert {"not_json", "not_cloudevent", "invalid_data"} <= reasons, reasons
    assert "conflict" not in reasons  # the forced reload sent the same events, not new ones
