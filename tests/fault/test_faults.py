"""Faults survived, measured (docs/design.md §5.1: killed at any moment, cut off from Kafka or
killed mid-relay, a service loses no event and counts none twice).

The four services run as real processes under the same supervisor as `make run`, on a real
tansu broker and the session's real PostgreSQL. tansu advertises the address of a TCP proxy
(`proxy.py`), so every byte between the services and Kafka goes through it; the test's own
producer talks to the broker directly, as an outside city system whose network is fine.
While ~107,000 messages (~104,000 distinct events and 3,000 exact re-publications) are
published at a steady rate, the test

- SIGKILLs scoring at random moments (and members, grids and activities in turn), letting the
  supervisor restart them;
- cuts the services off the broker for 10 s, twice (once refusing connections, once holding
  them unanswered like a network partition);
- kills scoring's outbox relay between publishing and marking sent: the proxy delays the
  broker's acknowledgements, the test watches `points.changed` on the broker and SIGKILLs
  scoring as soon as a message it sees there is still unsent in scoring's outbox table.

Then it waits until every service has consumed everything and compares scoring's ledger,
buckets, every member's points per month and the street, community and grid rankings with the
plain recomputation in tests/scoring/reference.py: 0 lost, 0 counted twice. It prints how many
kills and cuts were survived and how many events were checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import BrokerMetadata

from dev.embedded import EmbeddedKafka, EmbeddedPostgres, free_port, start_kafka
from services.activities.handlers import CONSUMES as ACTIVITIES_CONSUME
from services.grids.handlers import CONSUMES as GRIDS_CONSUME
from services.members.handlers import CONSUMES as MEMBERS_CONSUME
from services.scoring.handlers import CONSUMES as SCORING_CONSUME
from shared.events import POINTS_CHANGED
from shared.incarnation import MARKER_TOPIC
from shared.settings import SERVICE_PORTS, with_database
from tests.scoring.reference import Reference, _key

from .proxy import TcpProxy
from .workload import Workload, build

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 200  # ports 8201-8204
TOKEN = "fault-city-admin-token-000001"
RATE = 1100  # messages per second from the outside publisher
SCORING_KILLS = 10  # at least
OTHER_KILLS = 2  # at least, for each of members, grids, activities
CUT_SECONDS = 10.0
CUTS = (("refuse", 18.0), ("hold", 55.0))  # mode, seconds after publishing started
RELAY_KILLS_AT = (8.0, 38.0, 75.0)
CONSUMES = {
    "scoring": SCORING_CONSUME,
    "members": MEMBERS_CONSUME,
    "grids": GRIDS_CONSUME,
    "activities": ACTIVITIES_CONSUME,
}
MONTHS = ("2026-07", "2026-08", "2026-09", "2026-10")
PERIODS = {
    **{m: (m,) for m in MONTHS},
    "2026-Q3": ("2026-07", "2026-08", "2026-09"),
    "2026-Q4": ("2026-10", "2026-11", "2026-12"),
    "2026": tuple(f"2026-{i:02d}" for i in range(1, 13)),
}
pytestmark = pytest.mark.e2e


# --- the world: broker behind a proxy, the supervisor, databases ------------------------------


@dataclass
class Faults:
    """What was done to the services, and what was seen while doing it."""

    kills: Counter[str] = field(default_factory=Counter)  # at random moments
    relay_kills: int = 0  # of scoring, between publishing and marking sent
    relay_unsent_at_kill: list[str] = field(default_factory=list)  # event ids
    cuts: list[tuple[str, float]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def note(self, started: float, what: str) -> None:
        self.log.append(f"{time.monotonic() - started:7.1f}s {what}")


@dataclass
class World:
    kafka: EmbeddedKafka
    proxy: TcpProxy
    supervisor: subprocess.Popen[bytes]
    run_log: Path
    data: Path
    prefix: str
    pg_url: str
    http: httpx.AsyncClient

    def pid(self, service: str) -> int | None:
        try:
            return int((self.data / "pids" / f"{service}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def db_url(self, service: str) -> str:
        return with_database(self.pg_url, f"{self.prefix}_{service}")

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + OFFSET}{path}"

    async def ready(self, service: str) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            r = await self.http.get(self.url(service, "/readyz"), timeout=2)
            return r.status_code == 200
        return False

    async def wait_ready(self, service: str, timeout: float = 90) -> int:
        """Until the service's current process answers /readyz; its pid."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pid(service)
            if pid and _alive(pid) and await self.ready(service):
                return pid
            await asyncio.sleep(0.2)
        raise AssertionError(f"{service} not ready after {timeout}s:\n{self.tail(service)}")

    def tail(self, service: str, lines: int = 40) -> str:
        path = self.data / "logs" / f"{service}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _direct(client: object, host: str, port: int) -> None:
    """Make an aiokafka client reach the broker at host:port whatever address the broker
    advertises (the proxy's): the test's own traffic never goes through the proxy."""
    cluster = client.cluster  # type: ignore[attr-defined]
    original = cluster.broker_metadata

    def broker_metadata(node_id: object) -> BrokerMetadata | None:
        found = original(node_id)
        return found and BrokerMetadata(found.nodeId, host, port, found.rack)

    cluster.broker_metadata = broker_metadata


def _supervise(env: dict[str, str], run_log: Path, data: Path) -> subprocess.Popen[bytes]:
    """`make run`'s supervisor (dev.run), on this test's broker (through the proxy) and
    databases."""
    with open(run_log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dev.run", "--data", str(data)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@contextlib.asynccontextmanager
async def world(pg: EmbeddedPostgres, tmp: Path) -> AsyncIterator[World]:
    broker_port, proxy_port = free_port(), free_port()
    kafka = start_kafka(
        broker_port, log_path=tmp / "tansu.log", advertised=f"127.0.0.1:{proxy_port}"
    )
    proxy = TcpProxy(proxy_port, broker_port)
    await proxy.start()
    prefix = "fault" + uuid.uuid4().hex[:8]
    env = dict(
        os.environ,
        DATABASE_URL=pg.url,
        DATABASE_PREFIX=prefix,
        KAFKA_BOOTSTRAP_SERVERS=proxy.address,
        PORT_OFFSET=str(OFFSET),
        API_TOKENS=f"{TOKEN}:city_admin:*",
        DEMO="0",
        TOPIC_PARTITIONS="4",
        CONSUMER_BATCH_TIMEOUT_MS="50",
        CONSUMER_MAX_RECORDS="2000",
        # a killed consumer's partitions move on after 6 s instead of 10 s
        CONSUMER_SESSION_TIMEOUT_MS="6000",
        CONSUMER_HEARTBEAT_INTERVAL_MS="1000",
        OUTBOX_POLL_SECONDS="0.2",
        RESTART_BACKOFF_MAX="1",
        LOG_JSON="true",
    )
    run_log = tmp / "run.log"
    data = tmp / "data"
    supervisor = _supervise(env, run_log, data)
    http = httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    w = World(kafka, proxy, supervisor, run_log, data, prefix, pg.url, http)
    try:
        deadline = time.monotonic() + 120
        while "all services ready" not in run_log.read_text():
            assert supervisor.poll() is None, run_log.read_text()
            assert time.monotonic() < deadline, "suite not ready:\n" + run_log.read_text()
            await asyncio.sleep(0.3)  # not time.sleep: the proxy runs on this loop
        yield w
    finally:
        proxy.restore()
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGINT)
            for _ in range(600):
                if supervisor.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                supervisor.kill()
        await http.aclose()
        await proxy.stop()
        kafka.stop()


# --- the outside publisher and the points.changed watcher -------------------------------------


async def publish(w: World, messages: list[tuple[str, bytes, bytes]], done: asyncio.Event) -> float:
    """Publish at RATE messages per second, straight to the broker; the seconds it took."""
    producer = AIOKafkaProducer(
        bootstrap_servers=w.kafka.bootstrap,
        enable_idempotence=False,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    _direct(producer.client, w.kafka.host, w.kafka.port)
    await producer.start()
    started = time.monotonic()
    try:
        tick = RATE // 10
        for i in range(0, len(messages), tick):
            futures = [await producer.send(t, v, key=k) for t, k, v in messages[i : i + tick]]
            await asyncio.gather(*futures)
            ahead = started + (i + tick) / RATE - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
    finally:
        await producer.stop()
        done.set()
    return time.monotonic() - started


class TopicWatch:
    """Reads points.changed from the beginning, straight from the broker, for the relay-kill
    fault and for the final check."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.records: list = []
        self.arrived = asyncio.Event()
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.w.kafka.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        _direct(self.consumer._client, self.w.kafka.host, self.w.kafka.port)
        await self.consumer.start()
        parts = self.consumer.partitions_for_topic(POINTS_CHANGED) or set()
        tps = [TopicPartition(POINTS_CHANGED, p) for p in sorted(parts)]
        assert tps, "points.changed has no partitions"
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            batch = await self.consumer.getmany(timeout_ms=200, max_records=5000)
            for recs in batch.values():
                self.records.extend(recs)
            if batch:
                self.arrived.set()

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.consumer:
            await self.consumer.stop()


# --- the faults --------------------------------------------------------------------------------


async def kill_at_random(
    w: World,
    services: list[str],
    at_least: int,
    done: asyncio.Event,
    faults: Faults,
    lock: asyncio.Lock,
    rng: random.Random,
    started: float,
    pause: tuple[float, float],
) -> None:
    """SIGKILL each service in turn at a random moment after it became ready; the supervisor
    restarts it. Goes on while publishing, and until every service was killed `at_least` times."""
    i = 0
    while not done.is_set() or min(faults.kills[s] for s in services) < at_least:
        service = services[i % len(services)]
        i += 1
        await w.wait_ready(service)
        await asyncio.sleep(rng.uniform(*pause))
        async with lock if service == "scoring" else contextlib.nullcontext():
            pid = w.pid(service)
            if pid is None or not _alive(pid):
                continue
            os.kill(pid, signal.SIGKILL)
            faults.kills[service] += 1
            faults.note(started, f"SIGKILL {service} pid {pid} (#{faults.kills[service]})")
            await _restarted(w, service, pid)


async def _restarted(w: World, service: str, old: int) -> None:
    deadline = time.monotonic() + 30
    while w.pid(service) in (None, old):
        assert time.monotonic() < deadline, f"{service} not restarted:\n{w.run_log.read_text()}"
        await asyncio.sleep(0.1)


async def cut_network(w: World, faults: Faults, started: float) -> None:
    for mode, at in CUTS:
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        w.proxy.cut(mode)  # type: ignore[arg-type]
        faults.note(started, f"cut services off the broker ({mode})")
        await asyncio.sleep(CUT_SECONDS)
        w.proxy.restore()
        faults.cuts.append((mode, CUT_SECONDS))
        faults.note(started, "network restored")


async def kill_relay_mid_publish(
    w: World,
    watch: TopicWatch,
    faults: Faults,
    lock: asyncio.Lock,
    started: float,
) -> None:
    """Kill scoring after its relay published points.changed messages and before it marked
    them sent: the proxy holds back the broker's acknowledgements for a while, the test sees
    the messages on the broker and, while scoring's outbox still has them unsent, SIGKILLs it."""
    db = await asyncpg.connect(w.db_url("scoring"))
    try:
        for at in RELAY_KILLS_AT:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            async with lock:
                while w.proxy.is_cut:
                    await asyncio.sleep(0.2)
                pid = await w.wait_ready("scoring")
                first = seen = len(watch.records)
                w.proxy.down_delay = 2.0
                caught: list[str] = []
                killed = False
                deadline = time.monotonic() + 20
                try:
                    while not killed and time.monotonic() < deadline:
                        watch.arrived.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(watch.arrived.wait(), 1)
                        fresh = [r.value for r in watch.records[seen:]]
                        seen += len(fresh)
                        if not fresh:
                            continue
                        rows = await db.fetch(
                            "SELECT value FROM outbox WHERE sent_at IS NULL AND value = ANY($1)",
                            fresh,
                        )
                        if rows:
                            os.kill(pid, signal.SIGKILL)
                            killed = True
                            # a statement the relay sent just before dying (its UPDATE marking
                            # sent) still runs to its end: wait until the dead process's
                            # database sessions are gone, then see what it left unmarked
                            await _sessions_gone(db, await db.fetchval("SELECT clock_timestamp()"))
                            unsent = await db.fetch(
                                "SELECT value FROM outbox WHERE sent_at IS NULL AND value = ANY($1)",
                                [r.value for r in watch.records[first:]],
                            )
                            caught = [json.loads(r["value"])["id"] for r in unsent]
                finally:
                    w.proxy.down_delay = 0.0
                if caught:
                    faults.relay_kills += 1
                    faults.relay_unsent_at_kill.extend(caught)
                    faults.note(
                        started,
                        f"SIGKILL scoring pid {pid} mid-relay: {len(caught)} published, unmarked",
                    )
                elif killed:  # the relay marked them just before the kill: an ordinary kill
                    faults.kills["scoring"] += 1
                    faults.note(started, f"SIGKILL scoring pid {pid} (relay had just marked)")
                if killed:
                    await _restarted(w, "scoring", pid)
    finally:
        await db.close()


async def _sessions_gone(db: asyncpg.Connection, killed_at: object) -> None:
    deadline = time.monotonic() + 15
    while await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND backend_start < $1",
        killed_at,
    ):
        assert time.monotonic() < deadline, "the killed process's sessions stay open"
        await asyncio.sleep(0.05)


# --- waiting for the end and checking ----------------------------------------------------------


async def wait_consumed(w: World, wl: Workload, timeout: float) -> dict[str, Counter[str]]:
    """Until every service's inbox holds every distinct event of the types it consumes, its
    consumer group has committed up to the end of every partition and scoring's outbox is sent."""
    expected = wl.distinct_by_type()
    sources = sorted({e["source"] for e in wl.events})
    deadline = time.monotonic() + timeout
    got: dict[str, Counter[str]] = {}
    conns = {s: await asyncpg.connect(w.db_url(s)) for s in CONSUMES}
    try:
        for service, topics in CONSUMES.items():
            want = Counter({t: expected[t] for t in topics if expected[t]})
            while True:
                rows = await conns[service].fetch(
                    "SELECT type, count(*) AS n FROM inbox WHERE source = ANY($1) GROUP BY type",
                    sources,
                )
                got[service] = Counter({r["type"]: r["n"] for r in rows})
                if got[service] == want:
                    break
                assert time.monotonic() < deadline, (
                    f"{service} consumed {dict(got[service])}, expected {dict(want)}\n"
                    + w.tail(service)
                )
                await asyncio.sleep(0.5)
        # A broker restarted empty is only caught up once every service has seen its marker and
        # re-sent its retained outbox rows: a drained outbox before that says nothing.
        marker = await broker_marker(w)
        for service, conn in conns.items():
            while await conn.fetchval("SELECT incarnation FROM broker_incarnation") != marker:
                assert time.monotonic() < deadline, f"{service} never saw broker {marker}"
                await asyncio.sleep(0.3)
        while await conns["scoring"].fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
            assert time.monotonic() < deadline, "scoring's outbox not drained"
            await asyncio.sleep(0.3)
    finally:
        for c in conns.values():
            await c.close()
    await wait_no_lag(w, deadline)
    return got


async def broker_marker(w: World) -> str:
    """The incarnation marker of the broker the test talks to now (shared.incarnation)."""
    reader = AIOKafkaConsumer(bootstrap_servers=w.kafka.bootstrap, enable_auto_commit=False)
    _direct(reader._client, w.kafka.host, w.kafka.port)
    await reader.start()
    marker = TopicPartition(MARKER_TOPIC, 0)
    deadline = time.monotonic() + 60
    try:
        reader.assign([marker])
        await reader.seek_to_beginning(marker)
        while time.monotonic() < deadline:
            records = (await reader.getmany(marker, timeout_ms=1000, max_records=1)).get(marker)
            if records and records[0].value:
                return records[0].value.decode()
        raise AssertionError("the broker holds no incarnation marker")
    finally:
        await reader.stop()


async def wait_no_lag(w: World, deadline: float) -> None:
    """Every consumer group has committed up to the end of every partition it reads. (A
    consumer in the group that subscribes to nothing only reads the committed offsets; aiokafka's
    admin OffsetFetch does not decode tansu's answer.)"""
    for service, topics in CONSUMES.items():
        group = AIOKafkaConsumer(
            bootstrap_servers=w.kafka.bootstrap,
            group_id=f"partygrid-{service}",
            enable_auto_commit=False,
        )
        _direct(group._client, w.kafka.host, w.kafka.port)
        await group.start()
        try:
            tps = [
                TopicPartition(t, p)
                for t in topics
                for p in sorted(group.partitions_for_topic(t) or ())
            ]
            while True:
                ends = await group.end_offsets(tps)
                lag = {}
                for tp in tps:
                    committed = await group.committed(tp) or 0
                    if ends[tp] > committed:
                        lag[tp] = ends[tp] - committed
                if not lag:
                    break
                assert time.monotonic() < deadline, f"{service} lag {lag}"
                await asyncio.sleep(0.5)
        finally:
            await group.stop()


def supervisor_exits(run_log: str) -> list[tuple[str, int, str]]:
    """(service, exit code, the log lines the supervisor showed) for every death it saw."""
    out = []
    blocks = run_log.split("[partygrid] ")
    for block in blocks:
        m = re.match(r"(\w+) exited with (-?\d+)", block)
        if m:
            out.append((m.group(1), int(m.group(2)), block))
    return out


class IndexedReference(Reference):
    """The property test's reference, with member totals indexed (same numbers, faster for
    thousands of members) and the grid of each member's latest report."""

    def __init__(self, events: list[dict]) -> None:
        super().__init__(events)
        self.month_totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for (m, mo, _), v in self.buckets.items():
            self.month_totals[(m, mo)] += v
        latest: dict[str, dict] = {}
        for e in events:
            if e["type"] == "partygrid.member.reported":
                m = e["data"]["member_id"]
                if m not in latest or _key(e) > _key(latest[m]):
                    latest[m] = e
        self.grid = {m: e["data"].get("grid_id") for m, e in latest.items()}

    def points(self, member: str, months: tuple[str, ...]) -> Decimal:
        return sum((self.month_totals.get((member, mo), Decimal(0)) for mo in months), Decimal(0))

    def region_ranking(
        self, kind: str, months: tuple[str, ...]
    ) -> list[tuple[int, str, Decimal, int, Decimal]]:
        """(rank, region, avg_points, members, total) for communities or grids."""
        where = self.community if kind == "community" else self.grid
        members: dict[str, list[str]] = defaultdict(list)
        for m in self.counted:
            if where.get(m):
                members[where[m]].append(m)
        rows = []
        for rid, d in self.regions.items():
            if d["level"] != kind:
                continue
            ms = members.get(rid, [])
            total = sum((self.points(m, months) for m in ms), Decimal(0))
            avg = (total / len(ms)).quantize(Decimal("0.01"), ROUND_HALF_UP) if ms else Decimal(0)
            rows.append((rid, avg, len(ms), total))
        return _ranked(rows)


def _ranked(
    rows: Iterable[tuple[str, Decimal, int, Decimal]],
) -> list[tuple[int, str, Decimal, int, Decimal]]:
    ordered = sorted(rows, key=lambda r: (-r[1], r[0]))
    out: list[tuple[int, str, Decimal, int, Decimal]] = []
    for i, (rid, score, n, total) in enumerate(ordered):
        rank = out[-1][0] if out and out[-1][2] == score else i + 1
        out.append((rank, rid, score, n, total))
    return out


def _api_ranking(body: dict) -> list[tuple[int, str, Decimal, int, Decimal]]:
    return [
        (
            i["rank"],
            i["region_id"],
            Decimal(str(i["score"])).quantize(Decimal("0.01")),
            i["members"],
            Decimal(str(i["total_points"])).quantize(Decimal("0.01")),
        )
        for i in body["items"]
    ]


async def check_scoring(w: World, wl: Workload, ref: IndexedReference) -> dict[str, int]:
    """Scoring's tables and API against the recomputation; returns what was compared."""
    counted = {"member_months": 0, "buckets": 0, "rankings": 0}
    distinct = wl.distinct_by_type()
    db = await asyncpg.connect(w.db_url("scoring"))
    try:
        # 0 lost, 0 twice: one ledger row per distinct activity and report, one per revocation
        ledger = {
            r["kind"]: r["n"]
            for r in await db.fetch("SELECT kind, count(*) AS n FROM ledger GROUP BY kind")
        }
        assert ledger == {
            "activity": distinct["partygrid.activity.logged"],
            "reported": distinct["partygrid.member.reported"],
        }
        revoked = await db.fetchval("SELECT count(*) FROM ledger WHERE revoked")
        assert revoked == distinct["partygrid.activity.revoked"]
        assert await db.fetchval("SELECT count(*) FROM revocations") == revoked

        buckets = {
            (r["member_id"], r["month"], r["activity_type"]): r["points"]
            for r in await db.fetch(
                "SELECT member_id, month, activity_type, points FROM buckets WHERE points <> 0"
            )
        }
        expected_buckets = {k: v for k, v in ref.buckets.items() if v != 0}
        diff = {
            k: (buckets.get(k), expected_buckets.get(k))
            for k in buckets.keys() | expected_buckets.keys()
            if buckets.get(k) != expected_buckets.get(k)
        }
        assert not diff, f"{len(diff)} buckets differ, e.g. {list(diff.items())[:10]}"
        counted["buckets"] = len(expected_buckets)

        month_points = {
            (r["member_id"], r["period"]): r["points"]
            for r in await db.fetch(
                "SELECT member_id, period, points FROM member_points "
                "WHERE period ~ '^[0-9]{4}-[0-9]{2}$' AND points <> 0"
            )
        }
        expected_months = {k: v for k, v in ref.month_totals.items() if v != 0}
        diff = {
            k: (month_points.get(k), expected_months.get(k))
            for k in month_points.keys() | expected_months.keys()
            if month_points.get(k) != expected_months.get(k)
        }
        assert not diff, f"{len(diff)} member months differ, e.g. {list(diff.items())[:10]}"
        counted["member_months"] = len(expected_months)
        members_with_points = {m for m, _ in expected_months}
    finally:
        await db.close()

    # the HTTP API: rankings at every level and period, and a sample of members
    for period, months in PERIODS.items():
        streets = (
            await w.http.get(
                w.url("scoring", "/v1/rankings/streets"), params={"period": period, "limit": 1000}
            )
        ).json()
        want = [(rank, sid, score, n) for rank, sid, score, n in ref.street_ranking(months)]
        assert [r[:4] for r in _api_ranking(streets)] == want, period
        for kind, path in (("community", "communities"), ("grid", "grids")):
            body = (
                await w.http.get(
                    w.url("scoring", f"/v1/rankings/{path}"),
                    params={"period": period, "limit": 1000},
                )
            ).json()
            assert _api_ranking(body) == ref.region_ranking(kind, months), (kind, period)
            counted["rankings"] += len(body["items"])
        counted["rankings"] += len(streets["items"])
    for member in random.Random(5).sample(sorted(members_with_points), 40):
        for month in MONTHS[1:]:
            r = await w.http.get(
                w.url("scoring", f"/v1/members/{member}/points"), params={"period": month}
            )
            assert r.status_code == 200, r.text
            assert Decimal(str(r.json()["points"])) == ref.points(member, (month,)), (member, month)
    return counted


async def check_points_changed(
    watch: TopicWatch, ref: IndexedReference, faults: Faults
) -> tuple[int, int]:
    """The last points.changed per member and month carries the final total; a re-sent event is
    byte-identical to its first copy (so a consumer dedupes it by source + id)."""
    deadline = time.monotonic() + 30
    while True:
        last: dict[tuple[str, str], Decimal] = {}
        copies: dict[str, list[bytes]] = defaultdict(list)
        for r in watch.records:
            e = json.loads(r.value)
            copies[e["id"]].append(r.value)
            last[(e["data"]["member_id"], e["data"]["period"])] = Decimal(str(e["data"]["points"]))
        keys = set(last) | {k for k, v in ref.month_totals.items() if v != 0}
        wrong = {
            k: (last.get(k), ref.month_totals.get(k, Decimal(0)))
            for k in keys
            if last.get(k) != ref.month_totals.get(k, Decimal(0))
        }
        if not wrong:
            break
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(wrong)} last points.changed wrong: {list(wrong.items())[:10]}"
            )
        await asyncio.sleep(0.5)
    for values in copies.values():
        assert len(set(values)) == 1
    resent = [i for i in faults.relay_unsent_at_kill if len(copies.get(i, ())) >= 2]
    assert resent == faults.relay_unsent_at_kill, "the relay did not re-send what it had not marked"
    return len(watch.records), sum(len(v) - 1 for v in copies.values())


async def check_projections(w: World, ref: IndexedReference) -> None:
    """members, grids and activities keep each member's latest report too."""
    queries = {
        "members": "SELECT member_id, community_id FROM current_reports",
        "grids": "SELECT member_id, community_id FROM grid_members WHERE community_id IS NOT NULL",
        "activities": "SELECT member_id, community_id FROM member_projection "
        "WHERE community_id IS NOT NULL",
    }
    for service, sql in queries.items():
        db = await asyncpg.connect(w.db_url(service))
        try:
            got = {r["member_id"]: r["community_id"] for r in await db.fetch(sql)}
        finally:
            await db.close()
        assert got == ref.community, service


async def run_faults(
    w: World, wl: Workload, watch: TopicWatch, faults: Faults, started: float
) -> float:
    """Publish everything while the faults run; the seconds publishing took."""
    rng = random.Random(7)
    done = asyncio.Event()
    scoring_lock = asyncio.Lock()
    tasks = [
        asyncio.create_task(publish(w, wl.messages, done)),
        asyncio.create_task(
            kill_at_random(
                w,
                ["scoring"],
                SCORING_KILLS,
                done,
                faults,
                scoring_lock,
                rng,
                started,
                (1, 6),
            )
        ),
        asyncio.create_task(
            kill_at_random(
                w,
                ["members", "grids", "activities"],
                OTHER_KILLS,
                done,
                faults,
                scoring_lock,
                rng,
                started,
                (2, 8),
            )
        ),
        asyncio.create_task(cut_network(w, faults, started)),
        asyncio.create_task(kill_relay_mid_publish(w, watch, faults, scoring_lock, started)),
    ]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        raise
    return tasks[0].result()


# --- the test ----------------------------------------------------------------------------------


async def test_kills_cuts_and_relay_crashes_lose_nothing_and_count_nothing_twice(
    pg_server: EmbeddedPostgres,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    record_property,
) -> None:
    began = time.monotonic()
    wl = build()
    ref = IndexedReference(wl.events)
    faults = Faults()
    async with world(pg_server, tmp_path) as w:
        watch = TopicWatch(w)
        await watch.start()
        try:
            started = time.monotonic()
            published_in = await run_faults(w, wl, watch, faults, started)
            faults.note(started, "faults over; waiting for every service to catch up")
            for service in CONSUMES:
                await w.wait_ready(service)
            consumed = await wait_consumed(w, wl, timeout=150)
            caught_up = time.monotonic() - started
            counted = await check_scoring(w, wl, ref)
            await check_projections(w, ref)
            changed, resent = await check_points_changed(watch, ref, faults)
        finally:
            await watch.stop()
        for service in CONSUMES:  # every service survived and is healthy again
            assert await w.ready(service), service
        exits = supervisor_exits(w.run_log.read_text())
        proxy = w.proxy.stats

    assert faults.kills["scoring"] >= SCORING_KILLS
    assert all(faults.kills[s] >= OTHER_KILLS for s in ("members", "grids", "activities"))
    assert len(faults.cuts) == len(CUTS)
    # the cuts were felt: services tried to reach the broker while cut off
    assert proxy.refused > 0 and proxy.held > 0, proxy
    assert faults.relay_kills >= 1, "never caught the relay between publishing and marking"
    expected_restarts = Counter(faults.kills)
    expected_restarts["scoring"] += faults.relay_kills
    # every death was one of our SIGKILLs, or a start while the broker was cut off (the
    # service exits when it cannot bootstrap and the supervisor retries): no service died of
    # a cut while running, of a redelivery or of a half-finished batch
    killed = Counter(s for s, code, _ in exits if code == -9)
    assert killed == expected_restarts, (killed, faults.log)
    failed_starts = [(s, code) for s, code, why in exits if code != -9]
    assert all(
        code == 3 and "Unable to bootstrap" in why for _, code, why in exits if code != -9
    ), [why for _, code, why in exits if code != -9]
    summary = (
        f"faults survived: {sum(expected_restarts.values())} SIGKILLs "
        f"({', '.join(f'{s} {n}' for s, n in sorted(expected_restarts.items()))}; "
        f"{faults.relay_kills} of scoring's mid-relay with {len(faults.relay_unsent_at_kill)} "
        f"events published but unmarked, all re-sent), "
        f"{len(faults.cuts)} broker cuts of {CUT_SECONDS:.0f} s "
        f"({', '.join(m for m, _ in faults.cuts)}: {proxy.refused} connections refused, "
        f"{proxy.held} held; {len(failed_starts)} restarts during a cut found no broker and "
        f"were retried); "
        f"checked {len(wl.events)} distinct events ({len(wl.messages)} messages, "
        f"{wl.duplicates} re-published), {counted['member_months']} member-months, "
        f"{counted['buckets']} buckets, {counted['rankings']} ranking rows, "
        f"{changed} points.changed ({resent} re-sent copies): 0 lost, 0 counted twice; "
        f"published in {published_in:.0f} s, all consumed at {caught_up:.0f} s, "
        f"test {time.monotonic() - began:.0f} s"
    )
    record_property("faults_summary", summary)
    with capsys.disabled():
        print("\n[fault test] " + summary)
        print(
            "[fault test] inbox by service: "
            + str({s: sum(c.values()) for s, c in consumed.items()})
        )
        for line in faults.log:
            print("[fault test]   " + line)
