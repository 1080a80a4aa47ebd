"""Both content modes of the CloudEvents Kafka binding, end to end: events published with the
official CloudEvents SDK in binary mode (attributes in ce_* headers, data alone in the value)
and in structured mode are applied by every service on every topic it consumes, against the
real broker and databases; and a binary and a structured copy of one event count once."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from dev.testing import cloud_event, running_app, wait_until
from services.scoring.main import create_app as create_scoring
from shared.events import ACTIVITY_LOGGED, REGION_DEFINED
from shared.events.examples import EXAMPLES

from .sdk import MODES, send

SERVICES = ("members", "grids", "activities", "scoring")


def consumed(service: str) -> tuple[str, ...]:
    return tuple(importlib.import_module(f"services.{service}.handlers").CONSUMES)


def outside_event(topic: str, mode: str) -> dict[str, Any]:
    """The topic's documented example as an outside system would send it, with its own id;
    the region is a district so that it needs no parent in the receiving projections."""
    example = EXAMPLES[topic]
    data, subject = example["data"], example["subject"]
    if topic == REGION_DEFINED:
        data, subject = {"region_id": "350302", "level": "district", "name": "城厢区"}, "350302"
    return cloud_event(
        topic,
        data,
        subject=subject,
        source="/test/sdk-producer",
        id=f"{mode}-{topic}-{uuid.uuid4().hex[:8]}",
        time=example["time"],
    )


async def test_every_consumed_topic_accepts_binary_and_structured_events(
    settings_for, kafka
) -> None:
    topics = sorted({t for s in SERVICES for t in consumed(s)})
    sent = {(topic, mode): outside_event(topic, mode) for topic in topics for mode in MODES}
    # the four services start side by side (each waits a few seconds for its consumer group)
    up = asyncio.Barrier(len(SERVICES) + 1)

    async def publish() -> None:
        await up.wait()  # every service has created its topics
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, enable_idempotence=False)
        await producer.start()
        try:
            for (topic, mode), event in sent.items():
                await send(producer, topic, event, mode)
        finally:
            await producer.stop()

    async def applies_all(service: str) -> None:
        app = importlib.import_module(f"services.{service}.main").create_app(settings_for(service))
        async with running_app(app):
            await up.wait()
            pool = app.state.runtime.pool
            wanted = {e["id"] for (t, _), e in sent.items() if t in consumed(service)}

            async def inbox() -> set[str] | None:
                ids = {r["id"] for r in await pool.fetch("SELECT id FROM inbox")}
                return ids if wanted <= ids else None

            assert await wait_until(inbox, timeout=30), service
            letters = await pool.fetch("SELECT reason, detail FROM dead_letters")
            assert [dict(r) for r in letters] == [], service

    await asyncio.gather(publish(), *(applies_all(s) for s in SERVICES))


NOV = "2026-11-05T10:00:00+08:00"


async def test_a_binary_and_a_structured_copy_of_one_event_count_once(settings_for, kafka) -> None:
    app = create_scoring(settings_for("scoring"))
    member = "M-COPIES"
    event = cloud_event(
        ACTIVITY_LOGGED,
        {"member_id": member, "activity_type": "grid_visit"},
        subject=member,
        time=NOV,
    )
    # the same instant written in another offset: the copies differ in bytes, not in content
    in_utc = {**event, "time": datetime.fromisoformat(NOV).astimezone(UTC).isoformat()}
    marker = cloud_event(
        ACTIVITY_LOGGED, {"member_id": member, "activity_type": "study"}, subject=member, time=NOV
    )
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, enable_idempotence=False)
        await producer.start()
        try:
            await send(producer, ACTIVITY_LOGGED, event, "binary")
            await send(producer, ACTIVITY_LOGGED, in_utc, "structured")
            await send(producer, ACTIVITY_LOGGED, event, "structured")
            await send(producer, ACTIVITY_LOGGED, marker, "binary")
        finally:
            await producer.stop()

        async def marker_applied() -> bool:
            n = await pool.fetchval("SELECT count(*) FROM inbox WHERE id = $1", marker["id"])
            return bool(n)

        assert await wait_until(marker_applied)
        r = await client.get(f"/v1/members/{member}/points", params={"period": "2026-11"})
        assert r.json()["points"] == 2.0, r.text  # grid_visit 1 once + study 1
        assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0  # not a conflict
