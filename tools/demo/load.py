"""Loading the demo city once (a marker file under the data folder skips later bulk loads),
showing scoring catch up, and the `make run` entry point that then keeps the city living."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from .city import ANCHOR_FILE, MARKER, MEMBERS, TZ, City, build_city, say
from .events import Message, activity_plan, load_messages, load_size, start_producer
from .simulate import simulate

# --- publishing ------------------------------------------------------------------------------


class Progress:
    """A progress line, "[demo] loading 12,345/45,000 events  27%": a live bar on a terminal,
    a line every 10% otherwise (logs)."""

    def __init__(self, label: str, total: int, unit: str = "events") -> None:
        self.label, self.total, self.unit = label, max(total, 1), unit
        self.tty = sys.stdout.isatty()
        self.last_print = 0.0
        self.last_decile = -1

    def update(self, done: int, *, final: bool = False) -> None:
        pct = min(100, done * 100 // self.total)
        now = time.monotonic()
        if self.tty:
            if final or now - self.last_print > 0.2:
                bar = "#" * (pct // 4) + "." * (25 - pct // 4)
                end = "\n" if final else ""
                print(
                    f"\r[demo] {self.label} [{bar}] {done:,}/{self.total:,} {self.unit}  {pct:3d}%",
                    end=end,
                    flush=True,
                )
                self.last_print = now
        elif pct // 10 > self.last_decile or (final and self.last_decile < 10):
            self.last_decile = 10 if final else pct // 10
            say(f"{self.label} {done:,}/{self.total:,} {self.unit}  {pct}%")


async def publish_all(
    producer: AIOKafkaProducer, messages: Iterator[Message], total: int, chunk: int = 5000
) -> int:
    progress = Progress("loading", total)
    done = 0
    pending: list[asyncio.Future[Any]] = []
    for topic, key, value in messages:
        pending.append(await producer.send(topic, value, key=key))
        if len(pending) >= chunk:
            await asyncio.gather(*pending)
            done += len(pending)
            pending.clear()
            progress.update(done)
    await asyncio.gather(*pending)
    done += len(pending)
    progress.update(done, final=True)
    return done


def read_anchor(data: Path | None) -> datetime:
    """The time the past month ends at: fixed at the first load (so a reload publishes the very
    same events), the start of the current hour in the city's time zone."""
    now = datetime.now(TZ).replace(minute=0, second=0, microsecond=0)
    if data is None:
        return now
    path = data / ANCHOR_FILE
    if path.exists():
        return datetime.fromisoformat(json.loads(path.read_text())["anchor"])
    data.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"anchor": now.isoformat()}))
    return now


async def load(
    bootstrap: str, data: Path | None, members: int = MEMBERS, force: bool = False
) -> City:
    """Publish the whole city once; with a marker under `data`, later calls only rebuild it."""
    city = build_city(members)
    marker = data / MARKER if data else None
    if marker and marker.exists() and not force:
        info = json.loads(marker.read_text())
        say(
            f"demo city already loaded ({info['events']:,} events at {info['loaded_at']}); "
            "skipping the bulk load"
        )
        return city
    anchor = read_anchor(data)
    plan = activity_plan(city)
    total = load_size(city, plan)
    say(
        f"publishing the demo city: {len(city.regions)} regions "
        f"({len(city.communities)} communities, {sum(map(len, city.grids_of.values()))} grids), "
        f"{len(city.orgs)} Party organisations, {len(city.units)} units, "
        f"{len(city.members):,} members, {sum(plan):,} past activities"
    )
    started = time.monotonic()
    producer = await start_producer(bootstrap)
    try:
        sent = await publish_all(producer, load_messages(city, anchor, plan), total)
    finally:
        await producer.stop()
    seconds = time.monotonic() - started
    say(f"published {sent:,} events in {seconds:.1f}s ({sent / max(seconds, 1e-9):,.0f}/s)")
    if marker:
        marker.write_text(
            json.dumps(
                {
                    "events": sent,
                    "members": len(city.members),
                    "anchor": anchor.isoformat(),
                    "loaded_at": datetime.now(UTC).isoformat(),
                }
            )
        )
    return city


# --- catching up -----------------------------------------------------------------------------


TAKEN = (
    "partygrid_events_applied_total{",
    "partygrid_events_duplicate_total{",
    "partygrid_events_deadlettered_total{",
)


async def scoring_applied(url: str) -> int | None:
    """Events the scoring service has taken (applied, duplicate or dead-lettered), from /metrics."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=2) as client:
            text = (await client.get(url)).text
    except httpx.HTTPError:
        return None
    total = 0.0
    for line in text.splitlines():
        if line.startswith(TAKEN) and 'service="scoring"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def wait_for_scoring(url: str, expected: int, stall: float = 60.0) -> None:
    """Show scoring catching up with the load (it keeps going in the background after this)."""
    progress = Progress("scoring applied", expected)
    best, best_at = -1, time.monotonic()
    while True:
        got = await scoring_applied(url)
        if got is None:
            say(f"scoring /metrics not reachable at {url}; not waiting")
            return
        progress.update(min(got, expected))
        if got >= expected:
            progress.update(expected, final=True)
            return
        if got > best:
            best, best_at = got, time.monotonic()
        elif time.monotonic() - best_at > stall:
            progress.update(got, final=True)
            say(f"scoring made no progress for {stall:.0f}s; going on")
            return
        await asyncio.sleep(1)


async def board_link(base: str, token: str, env: dict[str, str]) -> str:
    """A short-lived read-only link to the ranking board (tokens never go into URLs)."""
    how = f"POST {base}/v1/board-links with your token, then open the url it gives"
    if not token or token not in env.get("API_TOKENS", ""):
        return how
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.post(
                f"{base}/v1/board-links", json={}, headers={"Authorization": f"Bearer {token}"}
            )
            r.raise_for_status()
            link = r.json()
    except (httpx.HTTPError, ValueError, KeyError):
        return how
    return f"{base}{link['url']} (open within {env.get('LINK_MINUTES', '10')} minutes)"


async def load_and_simulate(env: dict[str, str], data: Path) -> None:
    """Called by `make run` (DEMO=1) once every service is ready: load once, then simulate
    until cancelled."""
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    members = int(env.get("DEMO_MEMBERS", MEMBERS))
    rate = float(env.get("DEMO_RATE", "20"))
    fresh = not (data / MARKER).exists()
    city = await load(bootstrap, data, members)
    if fresh:
        port = 8004 + int(env.get("PORT_OFFSET", "0"))
        plan = activity_plan(city)
        expected = load_size(city, plan) - len(city.orgs) - len(city.units)
        await wait_for_scoring(f"http://127.0.0.1:{port}/metrics", expected)
    port = 8004 + int(env.get("PORT_OFFSET", "0"))
    token_file = data / "dev-token"
    token = token_file.read_text().strip() if token_file.exists() else ""
    say(f"ranking board: {await board_link(f'http://127.0.0.1:{port}', token, env)}")
    say(f"simulating {rate:g} events/s (activities, moves, revocations, 1 bad message in 500)")
    # make run goes on to supervise the services: simulate in the background until it stops
    task = asyncio.create_task(simulate(bootstrap, city, rate), name="demo-simulator")
    _BACKGROUND.add(task)
    task.add_done_callback(_finished)
    # the community practices (time bank catalogue, visits, rated incidents and wishes) go
    # through the HTTP APIs, as a community office would
    from tools import demo_community

    offset = int(env.get("PORT_OFFSET", "0"))
    base = {
        "members": f"http://127.0.0.1:{8001 + offset}",
        "grids": f"http://127.0.0.1:{8002 + offset}",
        "activities": f"http://127.0.0.1:{8003 + offset}",
    }
    practices = demo_community.run(city, base, token, data / demo_community.MARKER)
    community = asyncio.create_task(practices, name="demo-community")
    _BACKGROUND.add(community)
    community.add_done_callback(_finished)


_BACKGROUND: set[asyncio.Task[Any]] = set()


def _finished(task: asyncio.Task[Any]) -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled() and task.exception() is not None:
        say(f"simulator stopped: {task.exception()!r}")
