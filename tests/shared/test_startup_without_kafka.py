"""A service started while Kafka is away serves its HTTP API from its own database, says on
/readyz that Kafka is missing, and becomes ready and consumes once the broker is there —
instead of exiting and waiting for a supervisor to try again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from dev.embedded import free_port, start_kafka
from dev.testing import ADMIN_TOKEN, cloud_event, publish_raw, wait_until
from services.scoring.main import create_app


async def test_starts_without_kafka_then_connects(settings_for, tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(
        "scoring", kafka_bootstrap_servers=f"127.0.0.1:{port}", topic_partitions=1
    )
    app = create_app(settings)
    runtime = app.state.runtime
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
        ) as client,
    ):
        await asyncio.sleep(2)  # a few connection attempts fail meanwhile
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["kafka"] is False
        assert ready.json()["checks"]["database"] is True
        # reads are served from the database
        streets = await client.get("/v1/rankings/streets", params={"period": "2026-11"})
        assert streets.status_code == 200 and streets.json()["items"] == []

        broker = start_kafka(port, log_path=tmp_path / "tansu.log")
        try:

            async def is_ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await wait_until(is_ready, timeout=60, interval=0.2)
            assert runtime.ready
            event = cloud_event(
                "partygrid.member.reported",
                {"member_id": "M1", "community_id": "C1"},
                subject="M1",
                time="2026-11-02T09:00:00+08:00",
            )
            await publish_raw(
                broker.bootstrap, [(event["type"], b"M1", json.dumps(event).encode())]
            )

            async def applied() -> bool:
                r = await client.get("/v1/members/M1/points", params={"period": "2026"})
                return r.status_code == 200 and r.json()["points"] > 0

            await wait_until(applied, timeout=30, interval=0.1)
        finally:
            broker.stop()
