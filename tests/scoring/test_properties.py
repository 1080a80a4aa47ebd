"""Points are a pure function of the SET of events (docs/design.md §4), checked with hypothesis.

Random event sets (activities across a month boundary in Beijing time, caps, penalties,
revocations before and after their targets, reports and moves, deregistrations, regions) are
delivered in random order, split into random batches, with random redeliveries and a consumer
restart that re-delivers uncommitted batches. The scoring API's answers must equal the plain
recomputation in `reference.py`. Real PostgreSQL, the real inbox and the real use case; the
broker is left out here (the integration tests cover it) so hundreds of cases stay fast.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev.testing import ADMIN_TOKEN, TEST_TOKENS, cloud_event
from services.scoring.handlers import make_apply
from services.scoring.main import create_app
from shared.db import create_pool, ensure_database, migrate
from shared.inbox import InboxConsumer, Record
from shared.service import SHARED_MIGRATIONS
from shared.settings import Settings, with_database

from .reference import TZ, Reference

MEMBERS = ["M1", "M2", "M3", "M4"]
BASE = datetime(2026, 10, 31, 14, 0, tzinfo=UTC)  # 22:00 Beijing, 31 Oct: near a month boundary
TYPES = [
    "volunteer_service",
    "study",
    "grid_visit",
    "organization_life_absent",
    "wish_fulfilled",
    "organization_life",
]
SOURCES = ["/city/volunteer-platform", "/partygrid/activities"]

times = st.integers(min_value=0, max_value=6 * 60).map(lambda m: BASE + timedelta(minutes=m * 5))


@st.composite
def event_sets(draw: st.DrawFn) -> list[dict]:
    events: list[dict] = []
    for sid in ("S1", "S2"):
        events.append(
            cloud_event(
                "partygrid.region.defined",
                {"region_id": sid, "level": "street", "name": f"街道{sid}", "parent_id": "D1"},
                subject=sid,
                id=f"r-{sid}",
                time=BASE,
            )
        )
    for cid, sid in (("C1", "S1"), ("C2", "S1"), ("C3", "S2")):
        events.append(
            cloud_event(
                "partygrid.region.defined",
                {"region_id": cid, "level": "community", "name": f"社区{cid}", "parent_id": sid},
                subject=cid,
                id=f"r-{cid}",
                time=BASE,
            )
        )
    n = draw(st.integers(min_value=1, max_value=30))
    logged = []
    for i in range(n):
        t = draw(st.sampled_from(TYPES))
        data = {"member_id": draw(st.sampled_from(MEMBERS)), "activity_type": t}
        if t == "volunteer_service":
            data["hours"] = draw(st.sampled_from([0.5, 2, 7.25, 13.5, 24]))
        e = cloud_event(
            "partygrid.activity.logged",
            data,
            subject=data["member_id"],
            id=f"a{i}",
            source=draw(st.sampled_from(SOURCES)),
            time=draw(times).isoformat(),
        )
        logged.append(e)
    events += logged
    for j, target in enumerate(
        draw(st.lists(st.sampled_from(logged), max_size=4, unique_by=lambda e: e["id"]))
    ):
        events.append(
            cloud_event(
                "partygrid.activity.revoked",
                {
                    "member_id": target["data"]["member_id"],
                    "revokes": {"source": target["source"], "id": target["id"]},
                },
                subject=target["data"]["member_id"],
                id=f"rv{j}",
                time=draw(times).isoformat(),
            )
        )
    for k in range(draw(st.integers(min_value=0, max_value=6))):
        m = draw(st.sampled_from(MEMBERS))
        report = {"member_id": m, "community_id": draw(st.sampled_from(["C1", "C2", "C3"]))}
        grid = draw(st.sampled_from([None, "G1", "G2"]))
        if grid:
            report["grid_id"] = grid
        events.append(
            cloud_event(
                "partygrid.member.reported",
                report,
                subject=m,
                id=f"rep{k}",
                time=draw(times).isoformat(),
            )
        )
    if draw(st.booleans()):
        m = draw(st.sampled_from(MEMBERS))
        events.append(
            cloud_event(
                "partygrid.member.deregistered",
                {"member_id": m, "reason": "other"},
                subject=m,
                id="dereg",
                time=draw(times).isoformat(),
            )
        )
    if draw(st.booleans()):  # community C2 moves to street S2 (latest definition wins)
        events.append(
            cloud_event(
                "partygrid.region.defined",
                {"region_id": "C2", "level": "community", "name": "社区C2", "parent_id": "S2"},
                subject="C2",
                id="r-C2-moved",
                time=draw(times).isoformat(),
            )
        )
    return events


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
    "boards",
)


@pytest.fixture(scope="module")
def scoring_db(pg_server) -> str:
    url = with_database(pg_server.url, "prop_scoring")

    async def setup() -> None:
        await ensure_database(url)
        pool = await create_pool(url)
        from pathlib import Path

        import services.scoring as pkg

        await migrate(pool, SHARED_MIGRATIONS, Path(pkg.__file__).parent / "migrations")
        await pool.close()

    asyncio.run(setup())
    return url


async def _deliver(url: str, events: list[dict], rnd: random.Random) -> dict:
    pool = await create_pool(url, max_size=3)
    conn: asyncpg.Connection
    async with pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
    messages = [e for e in events]
    messages += [rnd.choice(events) for _ in range(rnd.randint(0, len(events) // 2))]  # redelivery
    rnd.shuffle(messages)
    records = [
        Record(e["type"], 0, i, e["subject"].encode(), json.dumps(e).encode())
        for i, e in enumerate(messages)
    ]
    cuts = sorted(rnd.sample(range(1, len(records)), min(len(records) - 1, rnd.randint(0, 5))))
    batches = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)], strict=True)]
    apply = make_apply(TZ, "/partygrid/scoring")
    consumer = InboxConsumer(pool, apply, service="scoring", source="/partygrid/scoring")
    restart_at = rnd.randrange(len(batches))
    i = 0
    restarted = False
    while i < len(batches):
        await consumer.handle(batches[i])
        if i == restart_at and not restarted:
            # crash before the offsets of the last batches were committed: a new consumer
            # gets them again
            restarted = True
            await pool.close()
            pool = await create_pool(url, max_size=3)
            consumer = InboxConsumer(pool, apply, service="scoring", source="/partygrid/scoring")
            i = max(0, i - rnd.randint(0, 2))
            continue
        i += 1

    app = create_app(Settings(service_name="scoring", api_tokens=TEST_TOKENS))
    app.state.runtime.pool = pool
    out: dict = {"points": {}, "rank": {}, "by_type": {}, "nov_by_type": {}}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://t",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as client:
        for m in MEMBERS:
            for period in ("2026-10", "2026-11", "2026-Q4", "2026"):
                r = await client.get(f"/v1/members/{m}/points", params={"period": period})
                out["points"][(m, period)] = (r.status_code, r.json())
            for period in ("2026-11", "2026-Q4"):
                r = await client.get(f"/v1/members/{m}/rank", params={"period": period})
                out["rank"][(m, period)] = (r.status_code, r.json())
        out["streets"] = (
            await client.get("/v1/rankings/streets", params={"period": "2026-11"})
        ).json()
        out["zero"] = {
            c: (
                await client.get("/v1/zero-points", params={"period": "2026-11", "community_id": c})
            ).json()
            for c in ("C1", "C2", "C3")
        }
    await pool.close()
    return out


PERIOD_MONTHS = {
    "2026-10": ("2026-10",),
    "2026-11": ("2026-11",),
    "2026-Q4": ("2026-10", "2026-11", "2026-12"),
    "2026": tuple(f"2026-{m:02d}" for m in range(1, 13)),
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=event_sets(), seed=st.integers(0, 2**32 - 1))
def test_points_are_a_function_of_the_event_set(
    scoring_db: str, events: list[dict], seed: int
) -> None:
    got = asyncio.run(_deliver(scoring_db, events, random.Random(seed)))
    ref = Reference(events)
    for (m, period), (status, body) in got["points"].items():
        if m not in ref.known:
            assert status == 404
            continue
        assert status == 200, body
        months = PERIOD_MONTHS[period]
        assert Decimal(str(body["points"])) == ref.points(m, months), (m, period, body)
        want = {t: v for t, v in ref.by_type(m, months).items()}
        assert {t: Decimal(str(v)) for t, v in body["by_type"].items() if Decimal(str(v)) != 0} == {
            t: v for t, v in want.items() if v != 0
        }, (m, period)
    for (m, period), (status, body) in got["rank"].items():
        if m not in ref.known:
            assert status == 404
            continue
        assert status == 200, body
        ranks = [(r["scope"], r["scope_id"], r["rank"], r["members"]) for r in body["ranks"]]
        assert ranks == ref.member_rank(m, PERIOD_MONTHS[period]), (m, period, body)
    streets = [
        (i["rank"], i["region_id"], Decimal(str(i["score"])), i["members"])
        for i in got["streets"]["items"]
    ]
    assert streets == ref.street_ranking(("2026-11",))
    for c, body in got["zero"].items():
        assert [i["member_id"] for i in body["items"]] == ref.zero_points(c, ("2026-11",))
