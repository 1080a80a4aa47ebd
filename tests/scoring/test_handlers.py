"""Scoring's subscriber through FastStream's TestKafkaBroker (no network hop) on the real
database: the same batch handler, inbox and use case as in production."""

from __future__ import annotations

from dev.testing import in_memory_broker, running_app
from services.scoring.main import create_app
from shared.events import POINTS_CHANGED, parse_envelope, validate_data

from .helpers import logged, reported


async def test_batch_handler_applies_once_and_records_points_changed(settings_for) -> None:
    app = create_app(settings_for("scoring"))
    async with running_app(app) as client:
        async with in_memory_broker(app) as publish:
            report = reported("M9", "C9", "2026-11-03T08:00:00+08:00")
            visit = logged("M9", "grid_visit", "2026-11-03T09:00:00+08:00")
            await publish([(event["type"], b"M9", event) for event in (report, visit, visit)])
        body = (await client.get("/v1/members/M9/points", params={"period": "2026-11"})).json()
        assert body["points"] == 11.0
        pool = app.state.runtime.pool
        rows = await pool.fetch(
            "SELECT value FROM outbox WHERE topic = $1 ORDER BY seq", POINTS_CHANGED
        )
        changes = [validate_data(parse_envelope(bytes(r["value"])), POINTS_CHANGED) for r in rows]
        assert [(c.member_id, c.period, float(c.points), float(c.delta)) for c in changes] == [
            ("M9", "2026-11", 10.0, 10.0),
            ("M9", "2026-11", 11.0, 1.0),
        ]
