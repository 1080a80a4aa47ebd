"""The set-based path for batches of activity.logged leaves exactly the database the exact
per-event path leaves, checked with hypothesis.

The same random sequence of batches — activity.logged in and out of order (across a month
boundary in Beijing time, capped, per-hour and negative rules, redeliveries and reused ids
with other content), batches of revocations, reports and moves that go the exact way in both,
and a rule version taking effect inside the month — is given to two databases: one through the
exact path only, one with every activity.logged batch forced through the set-based path
(called directly, so a failure there fails the test instead of falling back). Every derived
table, the ledger, the inbox, the dead letters and the points.changed events must be equal.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import services.scoring as pkg
from dev.testing import cloud_event
from services.scoring.domain.rules import Rule
from services.scoring.handlers import make_apply
from services.scoring.usecases import add_rule_version
from shared.db import create_pool, ensure_database, migrate
from shared.events import POINTS_CHANGED, parse_envelope, validate_data
from shared.inbox import InboxConsumer, Record
from shared.service import SHARED_MIGRATIONS
from shared.settings import with_database

from .helpers import forget_rule_revisions
from .reference import TZ

SOURCE = "/partygrid/scoring"
MEMBERS = ["M1", "M2", "M3"]
BASE = datetime(2026, 10, 31, 14, 0, tzinfo=UTC)  # 22:00 Beijing, 31 Oct
TYPES = ["study", "grid_visit", "volunteer_service", "organization_life_absent", "wish_fulfilled"]
times = st.integers(min_value=0, max_value=4 * 60).map(lambda m: BASE + timedelta(minutes=m * 5))

TABLES = (
    "inbox",
    "outbox",
    "dead_letters",
    "ledger",
    "revocations",
    "buckets",
    "member_points",
    "members",
    "regions",
    "region_members",
    "region_points",
    "score_counts",
)
COMPARED = {
    "ledger": "source, id, member_id, activity_type, time, month, hours, revoked",
    "buckets": "member_id, month, activity_type, points, events, hours, last_time, last_id",
    "member_points": "member_id, period, points",
    "region_points": "kind, region_id, period, total, positive",
    "score_counts": "kind, region_id, period, points, members",
    "region_members": "kind, region_id, members",
    "inbox": "source, id, digest",
    "dead_letters": "reason, event_source, event_id",
}


def _setup() -> list[dict]:
    events = [
        cloud_event(
            "partygrid.region.defined",
            {"region_id": c, "level": "community", "name": c, "parent_id": "S1"},
            subject=c,
            id=f"r-{c}",
            time=BASE,
        )
        for c in ("C1", "C2")
    ]
    for i, m in enumerate(MEMBERS[:2]):
        events.append(
            cloud_event(
                "partygrid.member.reported",
                {"member_id": m, "community_id": f"C{i + 1}", "grid_id": "G1"},
                subject=m,
                id=f"rep-{m}",
                time=BASE - timedelta(days=3),
            )
        )
    return events


@st.composite
def batch_sequences(draw: st.DrawFn) -> list[tuple[str, object]]:
    """[("logged", [events]), ("other", [events]), ("rule", Rule)], in delivery order."""
    steps: list[tuple[str, object]] = []
    sent: list[dict] = []
    k = 0
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["logged", "logged", "logged", "other", "rule"]))
        if kind == "logged":
            batch = []
            for _ in range(draw(st.integers(1, 12))):
                if sent and draw(st.integers(0, 9)) == 0:  # a redelivery, or a reused id
                    old = draw(st.sampled_from(sent))
                    if draw(st.booleans()):
                        batch.append(old)
                        continue
                    e = json.loads(json.dumps(old))
                    e["data"]["activity_type"] = "study"
                    e["data"].pop("hours", None)
                    batch.append(e)
                    continue
                t = draw(st.sampled_from(TYPES))
                m = draw(st.sampled_from(MEMBERS))
                data: dict[str, object] = {"member_id": m, "activity_type": t}
                if t == "volunteer_service":
                    data["hours"] = draw(st.sampled_from([0.5, 2, 7.25, 13.5, 24]))
                e = cloud_event(
                    "partygrid.activity.logged",
                    data,
                    subject=m,
                    id=f"a{k}",
                    source=draw(st.sampled_from(["/s/a", "/s/b"])),
                    time=draw(times).isoformat(),
                )
                k += 1
                batch.append(e)
                sent.append(e)
            steps.append(("logged", batch))
        elif kind == "other":
            batch = []
            if sent:
                target = draw(st.sampled_from(sent))
                batch.append(
                    cloud_event(
                        "partygrid.activity.revoked",
                        {
                            "member_id": target["data"]["member_id"],
                            "revokes": {"source": target["source"], "id": target["id"]},
                        },
                        subject=target["data"]["member_id"],
                        id=f"rv{k}",
                        time=BASE,
                    )
                )
            m = draw(st.sampled_from(MEMBERS))
            batch.append(
                cloud_event(
                    "partygrid.member.reported",
                    {"member_id": m, "community_id": draw(st.sampled_from(["C1", "C2"]))},
                    subject=m,
                    id=f"mv{k}",
                    time=draw(times).isoformat(),
                )
            )
            k += 1
            steps.append(("other", batch))
        else:
            steps.append(
                (
                    "rule",
                    Rule(
                        draw(st.sampled_from(["study", "volunteer_service", "wish_fulfilled"])),
                        Decimal(draw(st.sampled_from(["1", "3", "0.5"]))),
                        "event" if draw(st.booleans()) else "hour",
                        draw(st.sampled_from([None, Decimal("4"), Decimal("12")])),
                        draw(times),
                    ),
                )
            )
    return steps


def _records(events: list[dict], offset: int) -> list[Record]:
    return [
        Record(e["type"], 0, offset + i, e["subject"].encode(), json.dumps(e).encode())
        for i, e in enumerate(events)
    ]


@pytest.fixture(scope="module")
def two_dbs(pg_server) -> tuple[str, str]:
    urls = (with_database(pg_server.url, "bulk_exact"), with_database(pg_server.url, "bulk_fast"))

    async def setup() -> None:
        for url in urls:
            await ensure_database(url)
            pool = await create_pool(url)
            await migrate(pool, SHARED_MIGRATIONS, Path(pkg.__file__).parent / "migrations")
            await pool.close()

    asyncio.run(setup())
    return urls


async def _run(url: str, steps: list[tuple[str, object]], bulk: bool) -> dict[str, list]:
    pool = await create_pool(url, max_size=2)
    try:
        async with pool.acquire() as conn:
            await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
            await forget_rule_revisions(conn, "note = 'test'")
        apply = make_apply(TZ, SOURCE, bulk=bulk)
        consumer = InboxConsumer(pool, apply, service="scoring", source=SOURCE)
        await consumer.handle(_records(_setup(), 0))
        offset = 100
        for kind, what in steps:
            if kind == "rule":
                assert isinstance(what, Rule)
                async with pool.acquire() as conn, conn.transaction():
                    await add_rule_version(conn, what, "test", SOURCE)
                continue
            assert isinstance(what, list)
            records = _records(what, offset)
            offset += len(records)
            if kind == "logged" and bulk:
                assert apply.bulk is not None  # type: ignore[attr-defined]
                result = await apply.bulk(consumer, records)  # type: ignore[attr-defined]
                assert result is not None
            else:
                await consumer.handle(records)
        return await _state(pool)
    finally:
        await pool.close()


async def _state(pool: asyncpg.Pool) -> dict[str, list]:
    out: dict[str, list] = {}
    async with pool.acquire() as conn:
        for table, cols in COMPARED.items():
            rows = await conn.fetch(f"SELECT {cols} FROM {table} ORDER BY {cols}")
            out[table] = [tuple(r) for r in rows]
        changed = await conn.fetch(
            "SELECT value FROM outbox WHERE topic = 'partygrid.points.changed' ORDER BY seq"
        )
        for r in changed:  # each one a valid points.changed CloudEvent
            validate_data(parse_envelope(r["value"]), POINTS_CHANGED)
        out["points.changed"] = [
            (d["member_id"], d["period"], d["points"], d["delta"])
            for d in (json.loads(r["value"])["data"] for r in changed)
        ]
    return out


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=batch_sequences())
def test_bulk_path_leaves_the_same_database_as_the_exact_path(
    two_dbs: tuple[str, str], steps: list[tuple[str, object]]
) -> None:
    exact = asyncio.run(_run(two_dbs[0], steps, bulk=False))
    fast = asyncio.run(_run(two_dbs[1], steps, bulk=True))
    for table in exact:
        assert fast[table] == exact[table], table


def test_the_service_apply_keeps_the_set_based_path() -> None:
    from services.scoring.main import definition
    from shared.settings import Settings

    apply = definition(Settings(service_name="scoring")).apply
    assert getattr(apply, "bulk", None) is not None
