"""The inbox handler through FastStream's TestKafkaBroker on top of the real database: the
member, unit and region projections end the same whatever order their events arrive in
(latest by time, source, id wins), redeliveries count once and bad messages are dead-lettered."""

from __future__ import annotations

from dev.testing import Message, cloud_event, in_memory_broker
from services.activities.main import create_app
from services.activities.persistence import common as persistence
from shared.events import MEMBER_REGISTERED, MEMBER_REPORTED, REGION_DEFINED

from .helpers import deregistered, registered, unit_reported


def reported(
    member_id: str, community: str, time: str, source: str = "/test/a", id: str | None = None
) -> tuple[str, bytes, dict[str, object]]:
    data = {"member_id": member_id, "community_id": community}
    return (
        MEMBER_REPORTED,
        member_id.encode(),
        cloud_event(MEMBER_REPORTED, data, subject=member_id, time=time, source=source, id=id),
    )


def region(
    region_id: str, level: str, parent: str | None, time: str
) -> tuple[str, bytes, dict[str, object]]:
    data = {"region_id": region_id, "level": level, "name": region_id, "parent_id": parent}
    return (
        REGION_DEFINED,
        region_id.encode(),
        cloud_event(REGION_DEFINED, data, subject=region_id, time=time),
    )


T1, T2, T3 = "2026-01-01T08:00:00+08:00", "2026-01-02T08:00:00+08:00", "2026-01-03T08:00:00+08:00"


async def test_projections_are_order_independent(settings_for) -> None:
    app = create_app(settings_for("activities"))
    runtime = app.state.runtime
    async with in_memory_broker(app) as publish, app.router.lifespan_context(app):
        pool = runtime.pool

        async def send(*messages: Message) -> None:
            await publish(list(messages))

        # A: the deregistration is newer but arrives first → stays deregistered
        # B: the registration is newer but arrives first → stays registered
        await send(
            deregistered("A", time=T2),
            registered("A", time=T1),
            registered("B", time=T2),
            deregistered("B", time=T1),
        )
        # reports out of order; equal times are decided by source, then id
        await send(
            reported("C", "NEW", T3),
            reported("C", "OLD", T1),
            reported("D", "FROM_B", T2, source="/test/b"),
            reported("D", "FROM_A", T2, source="/test/a"),
        )
        redelivered = registered("E", id="same-id")
        await send(redelivered, redelivered, (MEMBER_REGISTERED, b"E", b"{broken"))
        # the community arrives before its street; the street is renamed/moved later
        await send(
            region("C1", "community", "S1", T1),
            region("S1", "street", "D0", T1),
            region("S1", "street", "D9", T2),
            region("S1", "street", "D8", T1),
        )
        await send(unit_reported("U1"), unit_reported("U1", "ELSEWHERE"))

        rows = {
            r["member_id"]: dict(r)
            for r in await pool.fetch(
                "SELECT member_id, status, community_id FROM member_projection"
            )
        }
        assert rows["A"]["status"] == "deregistered"
        assert rows["B"]["status"] == "registered"
        assert rows["C"]["community_id"] == "NEW"
        assert rows["D"]["community_id"] == "FROM_B"
        assert rows["E"]["status"] == "registered"
        assert await pool.fetchval("SELECT count(*) FROM inbox WHERE id = 'same-id'") == 1
        assert (
            await pool.fetchval(
                "SELECT reason FROM dead_letters WHERE topic = $1", MEMBER_REGISTERED
            )
            == "not_json"
        )
        async with pool.acquire() as conn:
            assert await persistence.region_path(conn, "C1") == ["C1", "S1"]
            assert await persistence.region_path(conn, "UNKNOWN") == ["UNKNOWN"]
            assert (
                await conn.fetchval("SELECT parent_id FROM regions WHERE region_id = 'S1'") == "D9"
            )
            unit = await persistence.unit(conn, "U1")
            assert unit is not None and unit["community_id"] == "ELSEWHERE"  # the later one
