"""The shared inbox/outbox pipeline against a real tansu broker and a real PostgreSQL:
applied once, duplicates skipped, conflicts and malformed messages dead-lettered, the next
good message still applied."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from dev.testing import cloud_event, publish_raw, read_topic, running_app, wait_until
from shared.events import ACTIVITY_LOGGED, DEADLETTER_TOPIC
from shared.inbox import Incoming
from shared.service import ServiceDefinition, create_service_app


async def _apply(conn: asyncpg.Connection, events: list[Incoming]) -> None:
    await conn.executemany(
        "INSERT INTO seen VALUES ($1, $2, $3)",
        [(e.event.source, e.event.id, e.data.member_id) for e in events],
    )


def _definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="scoring",
        title="dummy",
        description="dummy",
        migrations=Path(__file__).parent / "dummy_migrations",
        consumes=[ACTIVITY_LOGGED],
        apply=_apply,
    )


def _logged(member: str, id: str, **kw) -> dict:
    return cloud_event(
        ACTIVITY_LOGGED,
        {"member_id": member, "activity_type": "study"},
        subject=member,
        id=id,
        **kw,
    )


async def test_once_duplicate_conflict_and_dead_letters(settings_for, kafka) -> None:
    from shared.metrics import REGISTRY

    labels = {"service": "scoring", "type": ACTIVITY_LOGGED}
    dup_before = REGISTRY.get_sample_value("partygrid_events_duplicate_total", labels) or 0
    settings = settings_for("scoring")
    app = create_service_app(_definition(), settings)
    async with running_app(app) as client:
        first = _logged("M1", "e1")
        conflicting = dict(first, data={"member_id": "M1", "activity_type": "grid_visit"})
        await publish_raw(
            kafka.bootstrap,
            [
                (ACTIVITY_LOGGED, b"M1", first),
                (ACTIVITY_LOGGED, b"M1", first),  # redelivery
                (ACTIVITY_LOGGED, b"M1", b"{not json"),
                (ACTIVITY_LOGGED, b"M1", conflicting),
                (ACTIVITY_LOGGED, b"M2", _logged("M2", "e2")),
            ],
        )
        pool = app.state.runtime.pool

        async def both_seen() -> bool:
            return await pool.fetchval("SELECT count(*) FROM seen") == 2

        await wait_until(both_seen)
        letters = await read_topic(kafka.bootstrap, DEADLETTER_TOPIC, min_count=2)
        reasons = sorted(json.loads(r.value)["data"]["reason"] for r in letters)
        assert reasons == ["conflict", "not_json"]
        not_json = next(
            json.loads(r.value)["data"]
            for r in letters
            if json.loads(r.value)["data"]["reason"] == "not_json"
        )
        assert not_json["value_text"] == "{not json"
        assert not_json["topic"] == ACTIVITY_LOGGED
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 2
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        metrics = (await client.get("/metrics")).text
        assert "partygrid_events_duplicate_total" in metrics
        assert "partygrid_events_deadlettered_total" in metrics
        assert (
            REGISTRY.get_sample_value("partygrid_events_duplicate_total", labels) == dup_before + 1
        )
