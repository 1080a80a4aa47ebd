"""The benchmark's phases and the one run that ties them together (see bench/__init__.py).

Each phase starts the real scoring app in-process (services.scoring.main.create_app with its
lifespan: pool, migrations, FastStream consumer, outbox relay) against the embedded PostgreSQL
and tansu broker this run started, and measures it from the outside: the inbox table for
throughput, member_points (what the API reads) for freshness, the HTTP API for reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from dev.embedded import EmbeddedKafka, EmbeddedPostgres, free_port, start_kafka, start_postgres
from dev.testing import TEST_TOKENS, running_app
from services.scoring.domain.periods import month_of
from services.scoring.handlers import make_apply
from services.scoring.main import create_app
from services.scoring.metrics import WRITE_STEPS
from shared.db import create_pool, ensure_database, migrate
from shared.events import ACTIVITY_LOGGED
from shared.inbox import InboxConsumer, Record, parse_record
from shared.kafka import ensure_topics
from shared.metrics import REGISTRY
from shared.outbox import NOTIFY_CHANNEL
from shared.service import SHARED_MIGRATIONS
from shared.settings import Settings, with_database

from . import floors, population, workload
from .workload import Message

POINT_READ = "member's points (floor)"
SCORING_MIGRATIONS = Path(__file__).resolve().parent.parent / "services" / "scoring" / "migrations"
TEN_MILLION = 10_000_000


@dataclass
class Options:
    events: int = 300_000
    members: int = 20_000
    read_members: int = 1_000_000
    replay_events: int = 2_000_000
    naive_events: int = 3_000
    ledger_events: int = TEN_MILLION
    max_records: int = 10_000
    partitions: int = 4
    fresh_rate: int = 1000
    fresh_seconds: float = 10.0
    read_requests: int = 300
    read_time_cap: float = 60.0
    phases: Sequence[str] = ("ceilings", "ingest", "freshness", "reads", "replay", "rebuild")


@dataclass
class Results:
    figures: dict[str, float] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def say(msg: str) -> None:
    print(msg, flush=True)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]  # nearest rank


def scoring_app(settings: Settings) -> Any:
    """The scoring app as `uvicorn --factory` would build it, with FastStream's per-message
    INFO lines silenced (they would swamp the progress lines)."""
    app = create_app(settings)
    for name in ("faststream", f"faststream.{settings.service_name}"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app


# --- environment ------------------------------------------------------------------------------


@dataclass
class Env:
    pg: EmbeddedPostgres
    kafka: EmbeddedKafka
    base: Path
    extra_brokers: list[EmbeddedKafka] = field(default_factory=list)

    def settings(self, database: str, bootstrap: str | None = None, **extra: Any) -> Settings:
        values: dict[str, Any] = {
            "service_name": "scoring",
            "kafka_bootstrap_servers": bootstrap or self.kafka.bootstrap,
            "database_url": self.pg.url,
            "database_name": database,
            "log_json": False,
            "log_level": "WARNING",
            "api_tokens": TEST_TOKENS,
            "topic_partitions": extra.pop("partitions", 4),
        }
        values.update(extra)
        return Settings(**values)

    def url(self, database: str) -> str:
        return with_database(self.pg.url, database)

    def new_broker(self) -> EmbeddedKafka:
        broker = start_kafka(
            free_port(), log_path=self.base / f"tansu-{len(self.extra_brokers)}.log"
        )
        self.extra_brokers.append(broker)
        return broker


@contextlib.contextmanager
def environment() -> Any:
    base = Path(tempfile.mkdtemp(prefix="pgb-", dir="/tmp"))  # short: the socket path limit
    pg = kafka = None
    env = None
    try:
        say(f"starting embedded PostgreSQL and tansu under {base}")
        pg = start_postgres(base / "pg")
        kafka = start_kafka(free_port(), log_path=base / "tansu.log")
        env = Env(pg, kafka, base)
        yield env
    finally:
        for b in env.extra_brokers if env else []:
            b.stop()
        if kafka:
            kafka.stop()
        if pg:
            pg.stop()
        shutil.rmtree(base, ignore_errors=True)


async def publish(bootstrap: str, messages: Sequence[Message]) -> float:
    """Publish as fast as the producer batches; returns messages per second."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        acks=1,
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending: list[asyncio.Future[Any]] = []
        for topic, key, value in messages:
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(messages) / max(time.perf_counter() - started, 1e-9)


async def inbox_count(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM inbox"))


async def wait_inbox(
    conn: asyncpg.Connection,
    target: int,
    label: str,
    *,
    timeout: float,
    every: float = 5.0,
    started: float | None = None,
    base: int | None = None,
) -> tuple[float, float | None, int]:
    """Poll until the inbox holds `target` rows; returns (seconds since `started`, default
    now; seconds until the first new rows showed up; how many those were). `base` is the count
    before the run; without it, the first poll's count (a run finished before its first poll
    has no start)."""
    started = started if started is not None else time.perf_counter()
    first: float | None = None
    first_rows = 0
    last_say = started
    while True:
        n = await inbox_count(conn)
        now = time.perf_counter()
        if base is None:
            base = n
        if first is None and n > base:
            first, first_rows = now - started, n - base
        if n >= target:
            return now - started, first, first_rows
        if now - started > timeout:
            raise TimeoutError(f"{label}: inbox holds {n:,} of {target:,} after {timeout:.0f}s")
        if now - last_say >= every:
            say(f"  {label}: {n:,}/{target:,} in the inbox after {now - started:.0f}s")
            last_say = now
        await asyncio.sleep(0.2)  # count(*) is cheap but not free: keep it off the measurement


@contextlib.asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


# --- ceilings ---------------------------------------------------------------------------------


async def kafka_ceiling(bootstrap: str, n: int) -> float:
    """Raw aiokafka batched consumption of the first `n` activity.logged messages."""
    consumer = AIOKafkaConsumer(
        ACTIVITY_LOGGED,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    started = time.perf_counter()
    await consumer.start()
    got = 0
    try:
        while got < n:
            batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
            got += sum(len(v) for v in batch.values())
            if time.perf_counter() - started > 300:
                raise TimeoutError(f"kafka ceiling: {got} of {n}")
    finally:
        await consumer.stop()
    return got / (time.perf_counter() - started)


def parse_ceiling(messages: Sequence[Message]) -> float:
    """shared.inbox.parse_record (JSON, envelope, schema, digest) alone, CPU only."""
    started = time.perf_counter()
    for i, (topic, key, value) in enumerate(messages):
        parse_record(Record(topic, 0, i, key, value))
    return len(messages) / (time.perf_counter() - started)


LEDGER_LIKE = """
CREATE TABLE ledger_copy (
    source text NOT NULL, id text NOT NULL, member_id text NOT NULL, kind text NOT NULL,
    activity_type text NOT NULL, time timestamptz NOT NULL, month text NOT NULL,
    hours numeric(6,2), revoked boolean NOT NULL DEFAULT false, PRIMARY KEY (source, id));
CREATE INDEX ledger_copy_bucket ON ledger_copy (member_id, month, activity_type);
CREATE INDEX ledger_copy_type_time ON ledger_copy (activity_type, time);
"""


async def copy_ceiling(env: Env, rows: list[tuple[object, ...]]) -> float:
    """asyncpg COPY of the same ledger rows into a table shaped like the ledger (same keys
    and indexes), in one transaction."""
    url = env.url("bench_copy")
    await ensure_database(url)
    async with connect(url) as conn:
        await conn.execute("DROP TABLE IF EXISTS ledger_copy")
        await conn.execute(LEDGER_LIKE)
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(
                "ledger_copy",
                records=rows,
                columns=[
                    "source",
                    "id",
                    "member_id",
                    "kind",
                    "activity_type",
                    "time",
                    "month",
                    "hours",
                    "revoked",
                ],
            )
        return len(rows) / (time.perf_counter() - started)


# --- ingest + freshness -------------------------------------------------------------------------


async def prepare(env: Env, opts: Options, database: str, end: datetime) -> int:
    """Regions and member.reported for every member, applied beforehand (as if the members and
    grids services had run for a while) through the service's own inbox consumer and apply,
    fed directly rather than from Kafka: a consumer-group member that just left would delay
    the measured start (see the report). Returns the inbox rows it left."""
    tree = workload.region_tree(opts.members)
    setup = workload.region_messages(tree, end - timedelta(days=400))
    setup += workload.report_messages(opts.members, tree, end - timedelta(days=60))
    settings = env.settings(database)
    url = env.url(database)
    await ensure_database(url)
    pool = await create_pool(url, max_size=2)
    try:
        await migrate(pool, SHARED_MIGRATIONS, SCORING_MIGRATIONS)
        consumer = InboxConsumer(
            pool,
            make_apply(settings.tz, settings.source),
            service="scoring",
            source=settings.source,
        )
        step = 5000
        for k in range(0, len(setup), step):
            records = [
                Record(t, 0, k + i, key, value)
                for i, (t, key, value) in enumerate(setup[k : k + step])
            ]
            result = await consumer.handle(records)
            assert result.applied == len(records), result
    finally:
        await pool.close()
    return len(setup)


def write_steps() -> dict[str, tuple[float, float]]:
    """(seconds, batches) so far per step of scoring's set-based path, from its histogram (the
    service runs in this process, so its registry is this one)."""
    name = "partygrid_scoring_write_step_seconds"
    return {
        step: (
            REGISTRY.get_sample_value(f"{name}_sum", {"step": step}) or 0.0,
            REGISTRY.get_sample_value(f"{name}_count", {"step": step}) or 0.0,
        )
        for step in WRITE_STEPS
    }


def steps_line(phase: str, before: dict[str, tuple[float, float]], wall: float, since: str) -> str:
    """Where the phase's batches spent their time, step by step, since `before` (`wall`
    seconds ago, at `since`)."""
    after = write_steps()
    parts = []
    for step in WRITE_STEPS:
        seconds = after[step][0] - before[step][0]
        batches = after[step][1] - before[step][1]
        if batches:
            parts.append(
                f"{step} {seconds / wall:.0%} ({1000 * seconds / batches:,.1f} ms × {batches:,.0f})"
            )
    return (
        f"{phase}: the set-based path's steps, share of the {wall:.1f} s since {since} "
        f"(mean a batch × batches): " + ", ".join(parts)
    )


async def ingest(
    env: Env,
    opts: Options,
    res: Results,
    activity: list[Message],
    base: int,
    after: Callable[[Any, Any], Any] | None = None,
) -> None:
    """Start the service on an already-published backlog and time it until the inbox holds
    every event; `after(client, app)` then runs on the same running app."""
    app = scoring_app(
        env.settings(
            "bench_ingest", partitions=opts.partitions, consumer_max_records=opts.max_records
        )
    )
    async with connect(env.url("bench_ingest")) as conn:
        started = time.perf_counter()
        steps_before = write_steps()
        async with running_app(app) as client:
            elapsed, first, first_rows = await wait_inbox(
                conn, base + len(activity), "ingest", timeout=3600, started=started, base=base
            )
            steps = steps_line(
                "ingest", steps_before, time.perf_counter() - started, "the app's start"
            )
            eps = len(activity) / elapsed
            span = elapsed - (first or 0.0)
            # a run too small to span several polls of the inbox has no sustained rate
            steady = (len(activity) - first_rows) / span if span >= 1.0 else eps
            # Sustained: the events applied after the first applied batch(es), over the time
            # from then to the last (the first batches' time is not in the span, so neither are
            # their events); the start (migrations, broker connection, the consumer group
            # join: tansu holds a join for half the session timeout) is reported beside it.
            res.figures["ingest_eps"] = steady
            res.figures["ingest_start_s"] = first or 0.0
            res.lines.append(
                f"ingest: {len(activity):,} activity.logged → sustained {steady:,.0f} events/s "
                f"(first batch applied {first or 0:.1f}s after app start; {eps:,.0f} events/s "
                f"counting the start); max_records={opts.max_records}"
            )
            say(res.lines[-1])
            res.lines.append(steps)
            say(steps)
            if after is not None:
                await after(client, app)


async def drain_outbox(env: Env, res: Results, timeout: float = 1800) -> None:
    """Wait until the relay has published the points.changed the ingest left in the outbox,
    and report its rate: freshness is a figure of the steady state at 1,000 events/s, not of a
    relay still sending a backlog of hundreds of thousands beside it."""
    async with connect(env.url("bench_ingest")) as conn:
        query = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        backlog = left = await conn.fetchval(query)
        started = time.perf_counter()
        while left and time.perf_counter() - started < timeout:
            await asyncio.sleep(0.2)
            left = await conn.fetchval(query)
        took = time.perf_counter() - started
    if backlog:
        rate = (backlog - left) / took if took > 0 else float("nan")
        res.figures["relay_eps"] = rate
        res.lines.append(
            f"relay: the ingest's {backlog:,} points.changed published in {took:.1f}s "
            f"({rate:,.0f}/s){f'; {left:,} still unsent' if left else ''}"
        )
        say(res.lines[-1])


async def freshness(env: Env, opts: Options, res: Results, client: Any, app: Any) -> None:
    """Publish organization_life (5 points, uncapped) for distinct reported members at a steady
    rate; a member's change is visible when its month total in member_points — the row the
    points API reads — has grown by 5. Latency: producer.send → seen by a read made when a
    commit notifies the outbox channel (each batch's does), or after 10 ms without one."""
    tz = app.state.runtime.settings.tz
    month = month_of(datetime.now(UTC), tz)
    count = int(opts.fresh_rate * opts.fresh_seconds)
    rng = random.Random(3)
    chosen = [
        workload.member_id(i) for i in rng.sample(range(opts.members), min(count, opts.members))
    ]
    async with connect(env.url("bench_ingest")) as conn:
        rows = await conn.fetch(
            "SELECT member_id, points FROM member_points WHERE period = $1 AND member_id = ANY($2)",
            month,
            chosen,
        )
        before = {r["member_id"]: r["points"] for r in rows}
        backlog = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        from decimal import Decimal

        expected = {m: before.get(m, Decimal("0")) + 5 for m in chosen}
        sent: dict[str, float] = {}
        seen: dict[str, float] = {}
        producer = AIOKafkaProducer(
            bootstrap_servers=env.kafka.bootstrap, enable_idempotence=False, acks=1, linger_ms=1
        )
        await producer.start()
        done_publishing = asyncio.Event()

        async def publisher() -> None:
            tick = 0.01
            per_tick = max(1, round(opts.fresh_rate * tick))
            start = time.perf_counter()
            k = 0
            while k < len(chosen):
                for m in chosen[k : k + per_tick]:
                    value = workload._event(
                        ACTIVITY_LOGGED,
                        {"member_id": m, "activity_type": "organization_life"},
                        m,
                        datetime.now(UTC),
                        workload.SOURCE,
                        f"fresh-{m}",
                    )
                    sent[m] = time.perf_counter()
                    await producer.send(ACTIVITY_LOGGED, value, key=m.encode())
                k += per_tick
                next_at = start + (k // per_tick) * tick
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            done_publishing.set()

        say(f"  freshness: publishing {len(chosen):,} events at ~{opts.fresh_rate}/s")
        # each batch's commit notifies the outbox channel: read on it (or every 10 ms)
        committed = asyncio.Event()
        listener = await asyncpg.connect(env.url("bench_ingest"))
        await listener.add_listener(NOTIFY_CHANNEL, lambda *_: committed.set())
        steps_before, fresh_started = write_steps(), time.perf_counter()
        pub = asyncio.create_task(publisher())
        deadline: float | None = None
        while len(seen) < len(chosen):
            committed.clear()
            pending = [m for m in sent if m not in seen]
            if pending:
                got = await conn.fetch(
                    "SELECT member_id, points FROM member_points "
                    "WHERE period = $1 AND member_id = ANY($2)",
                    month,
                    pending,
                )
                now = time.perf_counter()
                for r in got:
                    if r["points"] >= expected[r["member_id"]]:
                        seen[r["member_id"]] = now
            if done_publishing.is_set() and deadline is None:
                deadline = time.perf_counter() + 60
            if deadline is not None and time.perf_counter() > deadline:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(committed.wait(), 0.01)
        await pub
        steps = steps_line(
            "freshness", steps_before, time.perf_counter() - fresh_started, "the first publish"
        )
        await producer.stop()
        await listener.close()
    lat = [(seen[m] - sent[m]) * 1000 for m in seen]
    missing = len(chosen) - len(seen)
    # the API agrees with the row it reads
    sample = list(seen)[:5]
    for m in sample:
        r = await client.get(f"/v1/members/{m}/points", params={"period": month})
        assert r.status_code == 200 and float(r.json()["points"]) == float(expected[m]), r.text
    p50, p99 = pct(lat, 50), pct(lat, 99)
    res.figures["fresh_p50_ms"], res.figures["fresh_p99_ms"] = p50, p99
    res.lines.append(
        f"freshness: {len(lat):,} events at ~{opts.fresh_rate}/s, publish → points visible: "
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(lat, default=0):.0f} ms"
        + (f" ({missing} never seen within 60 s!)" if missing else "")
        + f"; checked {len(sample)} through GET /v1/members/{{id}}/points; outbox backlog "
        f"left by the ingest at the start: {backlog:,} points.changed"
    )
    say(res.lines[-1])
    res.lines.append(steps)
    say(steps)


# --- reads --------------------------------------------------------------------------------------


async def reads(env: Env, opts: Options, res: Results) -> None:
    tree = workload.region_tree(opts.read_members)
    url = env.url("bench_reads")
    await ensure_database(url)
    pool = await create_pool(url, max_size=2)
    await migrate(pool, SHARED_MIGRATIONS, SCORING_MIGRATIONS)
    await pool.close()
    month = month_of(datetime.now(UTC), Settings().tz)
    say(
        f"  reads: loading {opts.read_members:,} members in {len(tree.communities):,} "
        f"communities of {len(tree.streets)} streets (COPY straight into the scoring tables)"
    )
    started = time.perf_counter()
    async with connect(url) as conn:
        counts = await population.load_population(
            conn, opts.read_members, tree, month, progress=say
        )
    load_s = time.perf_counter() - started
    res.lines.append(
        f"reads: population loaded by COPY + SQL aggregation straight into the scoring tables "
        f"(shortcut, not through events) in {load_s:.0f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    say(res.lines[-1])
    rng = random.Random(5)
    endpoints: list[tuple[str, Callable[[], tuple[str, dict[str, Any]]]]] = [
        (
            POINT_READ,
            lambda: (
                f"/v1/members/{workload.member_id(rng.randrange(opts.read_members))}/points",
                {"period": month},
            ),
        ),
        ("street ranking", lambda: ("/v1/rankings/streets", {"period": month})),
        (
            "community ranking in a street",
            lambda: (
                "/v1/rankings/communities",
                {"period": month, "street_id": rng.choice(tree.streets)},
            ),
        ),
        (
            "top-50 members of a community",
            lambda: (
                "/v1/rankings/members",
                {"period": month, "community_id": rng.choice(tree.communities), "limit": 50},
            ),
        ),
        (
            "member's own rank",
            lambda: (
                f"/v1/members/{workload.member_id(rng.randrange(opts.read_members))}/rank",
                {"period": month},
            ),
        ),
    ]
    app = scoring_app(env.settings("bench_reads", partitions=opts.partitions))
    worst = 0.0
    async with running_app(app) as client:
        for name, make in endpoints:
            for _ in range(5):  # warm-up
                path, params = make()
                (await client.get(path, params=params)).raise_for_status()
            lat: list[float] = []
            t_end = time.perf_counter() + opts.read_time_cap
            while len(lat) < opts.read_requests and time.perf_counter() < t_end:
                path, params = make()
                t0 = time.perf_counter()
                r = await client.get(path, params=params)
                lat.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise AssertionError(f"{path}: {r.status_code} {r.text[:300]}")
            p50, p99 = pct(lat, 50), pct(lat, 99)
            if name == POINT_READ:
                res.figures["point_read_p99_ms"] = p99
            else:
                worst = max(worst, p99)
            res.lines.append(
                f"reads: {name:32s} n={len(lat):4d}  p50 {p50:7.1f} ms  "
                f"p99 {p99:7.1f} ms  mean {statistics.fmean(lat):7.1f} ms"
            )
            say(res.lines[-1])
    res.figures["read_p99_ms"] = worst
    res.lines.append(
        "reads: read_p99_ms below is the worst p99 of the ranking endpoints; point_read_p99_ms "
        "the member's points (the read floor)"
    )


# --- replay -----------------------------------------------------------------------------------


async def replay(env: Env, opts: Options, res: Results) -> None:
    """A fresh broker holding a backlog (regions, reports, N activity.logged, published in
    chunks of consecutive time), a fresh database: the service replays everything from
    offset 0, from a cold start."""
    broker = env.new_broker()
    end = datetime.now(UTC) - timedelta(hours=1)
    tree = workload.region_tree(opts.members)
    history = workload.region_messages(tree, end - timedelta(days=400))
    history += workload.report_messages(opts.members, tree, end - timedelta(days=60))
    total = len(history) + opts.replay_events
    say(
        f"  replay: generating and publishing {opts.replay_events:,} activity.logged "
        f"(+{len(history):,} regions/reports) to a fresh broker"
    )
    await ensure_topics(broker.bootstrap, opts.partitions)
    await publish(broker.bootstrap, history)
    chunk, span = 200_000, timedelta(days=30)
    chunks = max(1, -(-opts.replay_events // chunk))
    for c in range(chunks):
        n = min(chunk, opts.replay_events - c * chunk)
        await publish(
            broker.bootstrap,
            workload.activity_messages(
                n,
                opts.members,
                end=end - span + span * (c + 1) / chunks,
                span=span / chunks,
                seed=99 + c,
                id_prefix=f"r{c}-",
            ),
        )
    app = scoring_app(
        env.settings(
            "bench_replay",
            broker.bootstrap,
            partitions=opts.partitions,
            consumer_max_records=opts.max_records,
        )
    )
    await ensure_database(env.url("bench_replay"))
    async with connect(env.url("bench_replay")) as conn:
        started = time.perf_counter()
        async with running_app(app):
            elapsed, _, _ = await wait_inbox(
                conn, total, "replay", timeout=3600, every=10, started=started
            )
        ledger = await conn.fetchval("SELECT count(*) FROM ledger")
    rate = total / elapsed
    res.figures["replay_eps"] = rate
    res.lines.append(
        f"replay: {total:,} events ({opts.replay_events:,} activity.logged, ledger {ledger:,} "
        f"rows) from a cold start on an empty database in {elapsed:.1f}s → {rate:,.0f} events/s"
        " (counting the start)"
    )
    say(res.lines[-1])


# --- the run ---------------------------------------------------------------------------------


async def run(opts: Options) -> Results:
    res = Results()
    with environment() as env:
        end = datetime.now(UTC) - timedelta(hours=1)
        needs_ingest = {"ceilings", "ingest", "freshness"} & set(opts.phases)
        activity: list[Message] = []
        base = 0
        if needs_ingest:
            say(f"generating {opts.events:,} activity.logged for {opts.members:,} members")
            activity = workload.activity_messages(opts.events, opts.members, end=end)
            say("setup: regions and member.reported, applied through the inbox consumer")
            await ensure_topics(env.kafka.bootstrap, opts.partitions)
            base = await prepare(env, opts, "bench_ingest", end)
            say(f"setup: {base:,} regions and member.reported applied")
            rate = await publish(env.kafka.bootstrap, activity)
            say(f"published {len(activity):,} activity.logged ({rate:,.0f}/s)")
        if "ceilings" in opts.phases:
            eps = await kafka_ceiling(env.kafka.bootstrap, len(activity))
            res.figures["kafka_ceiling_eps"] = eps
            res.lines.append(
                f"ceiling: raw aiokafka getmany of the same {len(activity):,} "
                f"messages: {eps:,.0f} events/s"
            )
            say(res.lines[-1])
            sample = activity[: min(len(activity), 50_000)]
            p = parse_ceiling(sample)
            res.lines.append(
                f"ceiling: shared.inbox.parse_record alone (JSON + pydantic, CPU): "
                f"{p:,.0f} events/s"
            )
            say(res.lines[-1])
            rows = workload.ledger_rows(activity, Settings().tz)
            rps = await copy_ceiling(env, rows)
            res.figures["copy_ceiling_rps"] = rps
            res.lines.append(
                f"ceiling: asyncpg COPY of the same {len(rows):,} ledger rows into "
                f"a ledger-shaped table (PK + 2 indexes): {rps:,.0f} rows/s"
            )
            say(res.lines[-1])
        if "ingest" in opts.phases or "freshness" in opts.phases:

            async def after(client: Any, app: Any) -> None:
                if "freshness" in opts.phases:
                    await drain_outbox(env, res)
                    await floors.raw_freshness(env, opts, res)
                    await freshness(env, opts, res, client, app)

            await ingest(env, opts, res, activity, base, after)
            if "ingest_eps" in res.figures:
                for k, name in (("kafka_ceiling_eps", "kafka"), ("copy_ceiling_rps", "copy")):
                    if k in res.figures:
                        res.figures[f"ingest_{name}_ratio"] = (
                            res.figures["ingest_eps"] / res.figures[k]
                        )
                        res.lines.append(
                            f"ratio: ingest/{name}_ceiling = "
                            f"{res.figures['ingest_eps'] / res.figures[k]:.3f}"
                        )
                        say(res.lines[-1])
            if "ingest" in opts.phases:
                await floors.naive(env, opts, res, end)
        if "reads" in opts.phases:
            await reads(env, opts, res)
        if "replay" in opts.phases:
            await replay(env, opts, res)
        if "rebuild" in opts.phases:
            await floors.ledger_rebuild(env, opts, res)
        ratios(res)
    return res


def ratios(res: Results) -> None:
    """The targets, as ratios to floors measured in the same run."""
    f = res.figures
    pairs = (
        ("ingest_naive_ratio", "ingest_eps", "naive_eps", "ingest / naive_eps", "≥ 10"),
        ("replay_ingest_ratio", "replay_eps", "ingest_eps", "replay / ingest", "≥ 0.8"),
        ("fresh_raw_ratio", "fresh_p99_ms", "raw_fresh_p99_ms", "fresh p99 / raw", "≤ 3"),
        ("read_point_ratio", "read_p99_ms", "point_read_p99_ms", "ranking p99 / point", "≤ 4"),
    )
    for key, a, b, label, target in pairs:
        if a in f and b in f and f[b] > 0:
            f[key] = f[a] / f[b]
            res.lines.append(f"ratio: {label} = {f[key]:.2f} (target {target})")
            say(res.lines[-1])
    if "rebuild_load_ratio" in f:
        res.lines.append(
            f"ratio: rebuild / ledger load = {f['rebuild_load_ratio']:.2f} (target ≤ 2)"
        )
        say(res.lines[-1])


KEYS = (
    "ingest_eps",
    "kafka_ceiling_eps",
    "copy_ceiling_rps",
    "ingest_kafka_ratio",
    "ingest_copy_ratio",
    "ingest_start_s",
    "fresh_p50_ms",
    "fresh_p99_ms",
    "read_p99_ms",
    "naive_eps",
    "raw_fresh_p99_ms",
    "point_read_p99_ms",
    "replay_eps",
    "ledger_load_s",
    "rebuild_s",
    "ingest_naive_ratio",
    "replay_ingest_ratio",
    "fresh_raw_ratio",
    "read_point_ratio",
    "rebuild_load_ratio",
)


def summary_line(figures: dict[str, float]) -> str:
    def fmt(v: float | None) -> str:
        if v is None:
            return "nan"
        return f"{v:.3f}" if v < 1 else (f"{v:.1f}" if v < 100 else f"{v:.0f}")

    return " ".join(f"{k}={fmt(figures.get(k))}" for k in KEYS)
