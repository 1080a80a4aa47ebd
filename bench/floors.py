"""The benchmark's floors and baselines, measured in the same run as the service so that
every target can be a ratio (absolute times drift on a shared machine):

- naive_eps: the same semantics applied one event per transaction, through the exact path,
  the way a plain per-message handler works;
- raw_fresh_p99_ms: publish → seen by a bare aiokafka consumer with the service's fetch
  settings, at the freshness phase's rate: the latency floor of freshness;
- ledger_load_s and rebuild_s: a ledger of 10,000,000 events loaded with COPY, then
  `services.scoring.rebuild` over it, both measured in full.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.scoring.handlers import make_apply
from services.scoring.rebuild import rebuild
from shared.db import create_pool, ensure_database, migrate
from shared.inbox import InboxConsumer, Record
from shared.service import SHARED_MIGRATIONS

from . import workload

if TYPE_CHECKING:
    from .run import Env, Options, Results

SCORING_MIGRATIONS = Path(__file__).resolve().parent.parent / "services" / "scoring" / "migrations"
RAW_TOPIC = "bench.raw-freshness"
LEDGER_COLUMNS = (
    "source", "id", "member_id", "kind", "activity_type", "time", "month", "hours", "revoked"
)  # fmt: skip


def _say(msg: str) -> None:
    print(msg, flush=True)


async def naive(env: Env, opts: Options, res: Results, end: datetime) -> None:
    """The exact path, one event per transaction, on the ingest phase's kind of events."""
    from .run import prepare

    database = "bench_naive"
    await prepare(env, opts, database, end)
    settings = env.settings(database)
    pool = await create_pool(env.url(database), max_size=2)
    try:
        consumer = InboxConsumer(
            pool,
            make_apply(settings.tz, settings.source, bulk=False),
            service="scoring",
            source=settings.source,
        )
        events = workload.activity_messages(opts.naive_events, opts.members, end=end, seed=11)
        started = time.perf_counter()
        for i, (topic, key, value) in enumerate(events):
            result = await consumer.handle([Record(topic, 0, i, key, value)])
            assert result.applied == 1, result
        eps = len(events) / (time.perf_counter() - started)
    finally:
        await pool.close()
    res.figures["naive_eps"] = eps
    res.lines.append(
        f"naive: the exact path one event per transaction (a plain per-message handler): "
        f"{len(events):,} activity.logged → {eps:,.0f} events/s"
    )
    _say(res.lines[-1])


async def raw_freshness(env: Env, opts: Options, res: Results) -> None:
    """Publish at the freshness phase's rate; a bare aiokafka consumer, fetching the way the
    service's subscriber does (getmany with its batch timeout and fetch wait), notes when
    each message arrives."""
    settings = env.settings("bench_ingest")
    admin = AIOKafkaAdminClient(bootstrap_servers=env.kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(RAW_TOPIC, opts.partitions, 1)])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        RAW_TOPIC,
        bootstrap_servers=env.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
    )
    await consumer.start()
    producer = AIOKafkaProducer(
        bootstrap_servers=env.kafka.bootstrap, enable_idempotence=False, acks=1, linger_ms=1
    )
    await producer.start()
    count = int(opts.fresh_rate * opts.fresh_seconds)
    sent: dict[bytes, float] = {}
    seen: dict[bytes, float] = {}

    async def receive() -> None:
        while len(seen) < count:
            batch = await consumer.getmany(
                timeout_ms=settings.consumer_batch_timeout_ms,
                max_records=settings.consumer_max_records,
            )
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    if r.key is not None:
                        seen.setdefault(r.key, now)

    receiver = asyncio.create_task(receive())
    try:
        tick = 0.01
        per_tick = max(1, round(opts.fresh_rate * tick))
        start = time.perf_counter()
        for k in range(count):
            key = f"raw-{k}".encode()
            value = workload._event(
                "bench.raw", {"k": k}, key.decode(), datetime.now(UTC), workload.SOURCE
            )
            sent[key] = time.perf_counter()
            await producer.send(RAW_TOPIC, value, key=key)
            if (k + 1) % per_tick == 0:
                next_at = start + ((k + 1) // per_tick) * tick
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.wait_for(receiver, timeout=60)
    finally:
        receiver.cancel()
        await producer.stop()
        await consumer.stop()
    from .run import pct

    lat = [(seen[k] - sent[k]) * 1000 for k in seen if k in sent]
    p50, p99 = pct(lat, 50), pct(lat, 99)
    res.figures["raw_fresh_p99_ms"] = p99
    res.lines.append(
        f"floor: publish → seen by a bare aiokafka consumer (same fetch settings), "
        f"{len(lat):,} messages at ~{opts.fresh_rate}/s: p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    _say(res.lines[-1])


# A ledger like a year of the ingest phase's events: the same type mix, per-hour volunteering,
# 2% up to two days late, and one member.reported a member.
_LEDGER = """
    WITH g AS (
        SELECT g, random() AS r, random() AS r2, random() AS r3, random() AS late,
               $start::timestamptz + ($span::float8 * g / $n) * interval '1 second' AS t0
        FROM generate_series(1, $n) g),
    e AS (
        SELECT g, r3, CASE WHEN late < 0.02 THEN t0 - r2 * interval '2 days' ELSE t0 END AS t,
               CASE WHEN r < 0.30 THEN 'study' WHEN r < 0.48 THEN 'grid_visit'
                    WHEN r < 0.63 THEN 'volunteer_service' WHEN r < 0.73 THEN 'organization_life'
                    WHEN r < 0.81 THEN 'theme_party_day' WHEN r < 0.89 THEN 'service_post'
                    WHEN r < 0.95 THEN 'wish_fulfilled' ELSE 'organization_life_absent' END AS ty,
               'm' || lpad(floor(r2 * $members)::int::text, 7, '0') AS m
        FROM g)
    SELECT '/bench/activities', 'l' || lpad(g::text, 9, '0'), m, 'activity', ty, t,
           to_char(t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'),
           CASE WHEN ty = 'volunteer_service'
                THEN (1 + floor(r3 * 4)) + CASE WHEN r3 * 8 - floor(r3 * 8) < 0.5 THEN 0 ELSE 0.5 END
           END::numeric(6,2),
           false
    FROM e
    UNION ALL
    SELECT '/bench/members', 'rep-' || i, 'm' || lpad(i::text, 7, '0'), 'reported',
           'member_reported', $start::timestamptz, to_char($start::timestamptz AT TIME ZONE
           'Asia/Shanghai', 'YYYY-MM'), NULL, false
    FROM generate_series(0, $members - 1) i
"""


async def ledger_rebuild(env: Env, opts: Options, res: Results) -> None:
    """Write a ledger of `opts.ledger_events` to a file (not timed), COPY it into an empty
    scoring database (ledger_load_s), then run the rebuild over it (rebuild_s)."""
    import asyncpg

    database = "bench_rebuild"
    url = env.url(database)
    await ensure_database(url)
    pool = await create_pool(url, max_size=1)
    await migrate(pool, SHARED_MIGRATIONS, SCORING_MIGRATIONS)
    await pool.close()
    path = env.base / "ledger.tsv"
    end = datetime.now(UTC) - timedelta(hours=1)
    start = end - timedelta(days=365)
    tree = workload.region_tree(opts.members)
    conn = await asyncpg.connect(url)
    try:
        _say(f"  rebuild: writing a ledger of {opts.ledger_events:,} events to {path}")
        await conn.execute("SELECT setseed(0.42)")
        query = (
            _LEDGER.replace("$start", f"'{start.isoformat()}'")
            .replace("$span", str(int((end - start).total_seconds())))
            .replace("$n", str(opts.ledger_events))
            .replace("$members", str(opts.members))
        )
        t0 = time.perf_counter()
        await conn.copy_from_query(query, output=path)
        _say(f"  rebuild: written in {time.perf_counter() - t0:.0f}s; members and regions")
        await conn.execute(
            """INSERT INTO members (member_id, community_id, grid_id)
               SELECT 'm' || lpad(i::text, 7, '0'), 'c' || lpad((i % $2)::text, 4, '0'),
                      'c' || lpad((i % $2)::text, 4, '0') || '-g' || ((i / $2) % 5)
               FROM generate_series(0, $1 - 1) i""",
            opts.members,
            len(tree.communities),
        )
        _say(f"  rebuild: COPY of {opts.ledger_events:,} + {opts.members:,} ledger rows")
        t0 = time.perf_counter()
        await conn.copy_to_table(
            "ledger",
            source=path,
            columns=LEDGER_COLUMNS,
        )
        load_s = time.perf_counter() - t0
        _say(f"  rebuild: ledger loaded in {load_s:.1f}s; rebuilding")
        report = await rebuild(conn, progress=lambda m: _say(f"  rebuild {m}"))
    finally:
        await conn.close()
        path.unlink(missing_ok=True)
    res.figures["ledger_load_s"] = load_s
    res.figures["rebuild_s"] = report.seconds
    res.figures["rebuild_load_ratio"] = report.seconds / load_s
    res.lines.append(
        f"rebuild: ledger of {opts.ledger_events + opts.members:,} events loaded by COPY in "
        f"{load_s:.1f}s (ledger_load_s); `services.scoring rebuild` over it, measured in full: "
        f"{report.seconds:.1f}s (rebuild_s, {report.seconds / load_s:.2f}× the load) → "
        + ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
        + f"; {report.exact_buckets:,} buckets entry by entry"
    )
    _say(res.lines[-1])
