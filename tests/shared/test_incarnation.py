"""Restart safety on the memory broker (shared.incarnation), on a running scoring service with
the real tansu and PostgreSQL: what the outbox sent to a broker that then died is sent again
to the new one, and the service's consumer reads the new broker from the start."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from services.scoring.main import create_app
from shared.embedded import EmbeddedKafka, EmbeddedPostgres, start_kafka
from shared.events import ACTIVITY_LOGGED
from shared.metrics import REGISTRY
from shared.settings import Settings
from shared.testing import TEST_TOKENS, cloud_event, read_topic, running_app, wait_until

NOV = "2026-11-05T10:00:00+08:00"


def _duplicates() -> float:
    labels = {"service": "scoring", "type": ACTIVITY_LOGGED}
    return REGISTRY.get_sample_value("partygrid_events_duplicate_total", labels) or 0.0


def _settings(pg: EmbeddedPostgres, kafka: EmbeddedKafka) -> Settings:
    return Settings(
        service_name="scoring",
        kafka_bootstrap_servers=kafka.bootstrap,
        database_url=pg.url,
        database_name=f"t_{uuid.uuid4().hex[:12]}_scoring",
        log_json=False,
        consumer_batch_timeout_ms=20,
        outbox_poll_seconds=0.2,
        incarnation_check_seconds=0.2,
        topic_partitions=2,
        api_tokens=TEST_TOKENS,
    )


async def test_events_sent_to_a_broker_that_died_are_sent_to_the_new_one(
    pg_server: EmbeddedPostgres, kafka: EmbeddedKafka, tmp_path: Path
) -> None:
    member = "M-restart-1"
    event = cloud_event(
        ACTIVITY_LOGGED,
        {"member_id": member, "activity_type": "study"},
        subject=member,
        time=NOV,
    )
    app = create_app(_settings(pg_server, kafka))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        r = await client.post(
            "/v1/events",
            content=json.dumps(event).encode(),
            headers={"Content-Type": "application/cloudevents+json"},
        )
        assert r.status_code == 202, r.text
        await wait_until(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL")
        )
        await wait_until(lambda: pool.fetchval("SELECT count(*) FROM ledger"))
        before = await pool.fetchval("SELECT incarnation FROM broker_incarnation")
        duplicates_before = _duplicates()

        kafka.process.kill()  # the memory broker forgets every record and offset
        kafka.process.wait()
        kafka.process = start_kafka(kafka.port, log_path=tmp_path / "tansu2.log").process

        on_new = await read_topic(kafka.bootstrap, ACTIVITY_LOGGED, min_count=1, timeout=30)
        assert [json.loads(m.value)["id"] for m in on_new] == [event["id"]]
        assert await pool.fetchval("SELECT incarnation FROM broker_incarnation") != before

        # the consumer read the new broker from the start: the copy came back as a duplicate
        async def copy_consumed() -> bool:
            return _duplicates() > duplicates_before

        await wait_until(copy_consumed, timeout=30)
        assert await pool.fetchval("SELECT count(*) FROM ledger") == 1


async def test_a_restart_of_the_service_on_the_same_broker_resends_nothing(
    pg_server: EmbeddedPostgres, kafka: EmbeddedKafka
) -> None:
    settings = _settings(pg_server, kafka)
    member = "M-restart-2"
    event = cloud_event(
        ACTIVITY_LOGGED, {"member_id": member, "activity_type": "study"}, subject=member, time=NOV
    )
    app = create_app(settings)
    async with running_app(app) as client:
        r = await client.post(
            "/v1/events",
            content=json.dumps(event).encode(),
            headers={"Content-Type": "application/cloudevents+json"},
        )
        assert r.status_code == 202, r.text
        pool = app.state.runtime.pool
        await wait_until(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL")
        )
    again = create_app(settings)
    async with running_app(again):
        watch = again.state.runtime.watch
        assert watch is not None and watch.resent == 0
        pool = again.state.runtime.pool
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    copies = await read_topic(kafka.bootstrap, ACTIVITY_LOGGED, min_count=2, timeout=2)
    assert len(copies) == 1
