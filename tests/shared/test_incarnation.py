"""Restart safety on the memory broker (shared.incarnation), on a running scoring service with
the real tansu and PostgreSQL: what the outbox sent to a broker that then died is sent again
to the new one, and the service's consumer reads the new broker from the start."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from dev.embedded import EmbeddedKafka, EmbeddedPostgres, start_kafka
from dev.testing import TEST_TOKENS, cloud_event, read_topic, running_app, wait_until
from services.scoring.main import create_app
from shared.events import ACTIVITY_LOGGED
from shared.incarnation import BrokerWatch
from shared.metrics import REGISTRY
from shared.settings import Settings

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

        # the service sees the new broker (it creates the topics) and re-sends; only then is the
        # topic read, so the reader never subscribes to a topic that does not exist yet
        async def new_broker_recorded() -> bool:
            return bool(await pool.fetchval("SELECT incarnation FROM broker_incarnation") != before)

        await wait_until(new_broker_recorded, timeout=60)
        await wait_until(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL"),
            timeout=60,
        )
        on_new = await read_topic(kafka.bootstrap, ACTIVITY_LOGGED, min_count=1, timeout=30)
        assert [json.loads(m.value)["id"] for m in on_new] == [event["id"]]

        # the consumer read the new broker from the start: the copy came back as a duplicate
        async def copy_consumed() -> bool:
            return _duplicates() > duplicates_before

        await wait_until(copy_consumed, timeout=30)
        assert await pool.fetchval("SELECT count(*) FROM ledger") == 1


async def test_a_service_that_starts_again_on_the_same_broker_resends_nothing(
    pg_server: EmbeddedPostgres, kafka: EmbeddedKafka
) -> None:
    member = "M-restart-2"
    event = cloud_event(
        ACTIVITY_LOGGED, {"member_id": member, "activity_type": "study"}, subject=member, time=NOV
    )
    app = create_app(_settings(pg_server, kafka))
    async with running_app(app) as client:
        r = await client.post(
            "/v1/events",
            content=json.dumps(event).encode(),
            headers={"Content-Type": "application/cloudevents+json"},
        )
        assert r.status_code == 202, r.text
        runtime = app.state.runtime
        await wait_until(
            lambda: runtime.pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL")
        )
        sent = await runtime.pool.fetch("SELECT seq FROM outbox WHERE sent_at IS NOT NULL")
        # what a new process of the service does first: read the marker, compare, record
        fresh = BrokerWatch(
            runtime.pool,
            runtime.producer,
            bootstrap=kafka.bootstrap,
            partitions=2,
            service="scoring",
        )
        try:
            await fresh.check()
        finally:
            await fresh.stop()
        assert fresh.seen == runtime.watch.seen and fresh.resent == 0
        unsent_again = await runtime.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND seq = ANY($1::bigint[])",
            [r["seq"] for r in sent],
        )
        assert sent and unsent_again == 0
