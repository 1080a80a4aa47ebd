"""Two scoring processes in one consumer group: Kafka splits the partitions between them, both
write the same database, and together they give exactly what one plain recomputation gives.

This is how scoring scales out (README, "Scaling"): more replicas in the group, up to the
number of partitions. Members are keyed by member id, so one member's events go to one
replica; rows shared by all (region aggregates, score counts) are upserted in key order, so
the replicas' transactions wait for each other instead of deadlocking.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiokafka import TopicPartition

from dev.testing import cloud_event, publish_raw, running_app, wait_until
from services.scoring.handlers import CONSUMES
from services.scoring.main import create_app
from shared.events import ACTIVITY_LOGGED

from .helpers import region, reported
from .reference import Reference

MEMBERS = [f"M{i:03d}" for i in range(120)]
COMMUNITIES = {"C1": "S1", "C2": "S1", "C3": "S2", "C4": "S2"}
TYPES = ["study", "grid_visit", "organization_life", "organization_life_absent", "wish_fulfilled"]
BASE = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def city(rnd: random.Random) -> list[dict[str, Any]]:
    events = [region(s, "street", "D1", id=f"r-{s}") for s in ("S1", "S2")]
    events += [region(c, "community", s, id=f"r-{c}") for c, s in COMMUNITIES.items()]
    for m in MEMBERS:
        c = rnd.choice(list(COMMUNITIES))
        events.append(
            reported(m, c, BASE.isoformat(), grid=f"{c}-G{rnd.randint(1, 2)}", id=f"rep-{m}")
        )
    logged = []
    for i in range(1500):
        m = rnd.choice(MEMBERS)
        t = rnd.choice(TYPES + ["volunteer_service"])
        data: dict[str, Any] = {"member_id": m, "activity_type": t}
        if t == "volunteer_service":
            data["hours"] = rnd.choice([1, 2.5, 4])
        when = BASE + timedelta(minutes=rnd.randint(0, 20 * 24 * 60))
        logged.append(cloud_event(ACTIVITY_LOGGED, data, subject=m, id=f"a{i}", time=when))
    revoked = [
        cloud_event(
            "partygrid.activity.revoked",
            {"member_id": e["subject"], "revokes": {"source": e["source"], "id": e["id"]}},
            subject=e["subject"],
            id=f"rv-{e['id']}",
            time=BASE + timedelta(days=21),
        )
        for e in rnd.sample(logged, 60)
    ]
    return events + logged + revoked


async def test_two_scoring_replicas_split_partitions_and_agree_with_a_recomputation(
    settings_for,
) -> None:
    rnd = random.Random(7)
    events = city(rnd)
    settings = settings_for(
        "scoring",
        topic_partitions=4,
        consumer_session_timeout_ms=6000,
        consumer_heartbeat_interval_ms=1000,
    )
    first, second = create_app(settings), create_app(settings)
    handled = [0, 0]

    async with running_app(first) as client, running_app(second):
        for i, app in enumerate((first, second)):
            consumer = app.state.runtime.slot.consumer
            original = consumer.handle

            async def counting(records: Any, i: int = i, original: Any = original) -> Any:
                handled[i] += len(records)
                return await original(records)

            consumer.handle = counting

        def assignment(app: Any) -> set[TopicPartition]:
            sub = app.state.runtime.broker.subscribers[0]
            return set(sub.consumer.assignment()) if sub.consumer is not None else set()

        async def split() -> bool:
            a, b = assignment(first), assignment(second)
            return bool(a) and bool(b) and not (a & b) and len(a | b) == 4 * len(CONSUMES)

        await wait_until(split, timeout=60)
        mine = {tp.topic for tp in assignment(first)} | {tp.topic for tp in assignment(second)}
        assert ACTIVITY_LOGGED in mine

        messages = [(e["type"], e["subject"].encode(), e) for e in events]
        messages += [(e["type"], e["subject"].encode(), e) for e in rnd.sample(events, 200)]
        rnd.shuffle(messages)
        await publish_raw(settings.kafka_bootstrap_servers, messages)

        pool = first.state.runtime.pool

        async def all_applied() -> bool:
            return await pool.fetchval("SELECT count(*) FROM inbox") >= len(events)

        await wait_until(all_applied, timeout=120, interval=0.2)
        await asyncio.sleep(0.5)  # redeliveries still in flight would show as extra rows
        assert await pool.fetchval("SELECT count(*) FROM inbox") == len(events)
        assert await pool.fetchval("SELECT count(*) FROM ledger") == len(events) - 6 - 60
        # both replicas did a share of the work
        assert handled[0] > 0 and handled[1] > 0, handled
        assert sum(handled) >= len(messages)

        ref = Reference(json.loads(json.dumps(events)))
        months = ("2026-11",)
        for m in MEMBERS:
            body = (
                await client.get(f"/v1/members/{m}/points", params={"period": "2026-11"})
            ).json()
            assert Decimal(str(body["points"])) == ref.points(m, months), (m, body)
        for m in rnd.sample(MEMBERS, 15):
            body = (await client.get(f"/v1/members/{m}/rank", params={"period": "2026-11"})).json()
            got = [(r["scope"], r["scope_id"], r["rank"], r["members"]) for r in body["ranks"]]
            assert got == ref.member_rank(m, months), (m, body)
        streets = (await client.get("/v1/rankings/streets", params={"period": "2026-11"})).json()
        assert [
            (i["rank"], i["region_id"], Decimal(str(i["score"])), i["members"])
            for i in streets["items"]
        ] == ref.street_ranking(months)
