"""Helpers for the test suites of every service: run an app with its lifespan against the
real embedded broker and database, publish raw messages as an outside system would, wait for
an effect, read a topic."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker

from shared.settings import Settings

T = TypeVar("T")

# Tokens the test settings configure (see tests/conftest.py).
ADMIN_TOKEN = "test-city-admin-token-0001"
# a second city admin: boards are reviewed and published by someone other than their drafter
REVIEWER_TOKEN = "test-city-reviewer-token-01"
TEST_TOKENS = (
    f"{ADMIN_TOKEN}:city_admin:*,test-readonly-token-00001:service:*,"
    f"{REVIEWER_TOKEN}:city_admin:*:reviewer"
)


def settings_for_test(
    database_url: str, bootstrap: str, service: str, **overrides: Any
) -> Settings:
    """A service's settings for a test: its own fresh database on the test server, the test's
    broker, short waits, the test tokens; `overrides` for what a test changes."""
    values: dict[str, Any] = {
        "service_name": service,
        "kafka_bootstrap_servers": bootstrap,
        "database_url": database_url,
        "database_name": f"t_{uuid.uuid4().hex[:12]}_{service}",
        "log_json": False,
        "consumer_batch_timeout_ms": 20,
        "outbox_poll_seconds": 0.2,
        "topic_partitions": 2,
        "api_tokens": TEST_TOKENS,
    }
    values.update(overrides)
    return Settings(**values)


SERVICES = ("members", "grids", "activities", "scoring")


def settings_of_every_service(
    database_url: str, bootstrap: str, prefix: str, **overrides: Any
) -> dict[str, Settings]:
    """The settings of the four services for a test that runs them side by side on one database
    server and one broker: those of `settings_for_test`, each service on its own database
    `<prefix>_<service>`, and only warnings logged (four services at once log a lot)."""
    return {
        service: settings_for_test(
            database_url,
            bootstrap,
            service,
            **{"database_name": f"{prefix}_{service}", "log_level": "WARNING", **overrides},
        )
        for service in SERVICES
    }


@contextlib.asynccontextmanager
async def running_app(
    app: FastAPI, token: str | None = ADMIN_TOKEN
) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (database, migrations, broker, relay) and give an HTTP client
    that sends `token` (a city admin by default)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with app.router.lifespan_context(app):
        # Kafka is joined in the background; tests start from a consuming service
        runtime = app.state.runtime
        deadline = time.monotonic() + 60
        while not runtime.ready:
            assert time.monotonic() < deadline, "the app did not connect to Kafka in 60 s"
            await asyncio.sleep(0.02)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:
            yield client


def cloud_event(
    type: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
    source: str = "/test/outside-system",
    id: str | None = None,
    time: str | datetime | None = None,
) -> dict[str, Any]:
    t = time or datetime.now(UTC)
    return {
        "specversion": "1.0",
        "id": id or str(uuid.uuid4()),
        "source": source,
        "type": type,
        "time": t.isoformat() if isinstance(t, datetime) else t,
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }


async def publish_raw(
    bootstrap: str, messages: list[tuple[str, bytes | None, bytes | dict[str, Any]]]
) -> None:
    """Publish (topic, key, value) with a plain aiokafka producer, like another city system."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=5
    )
    await producer.start()
    try:
        futures = []
        for topic, key, value in messages:
            raw = json.dumps(value).encode() if isinstance(value, dict) else value
            futures.append(await producer.send(topic, raw, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


Message = tuple[str, bytes | None, bytes | dict[str, Any]]  # topic, key, value (dict: JSON)


@contextlib.asynccontextmanager
async def in_memory_broker(
    app: FastAPI,
) -> AsyncIterator[Callable[[list[Message]], Awaitable[None]]]:
    """The app's broker swapped for FastStream's in-memory TestKafkaBroker, for fast handler
    tests: `publish([(topic, key, value), ...])` hands each message, in order, to the app's own
    inbox subscriber (the real inbox, use case and database) and returns once it is handled,
    so a test asserts right after it without waiting. Enter it around or inside `running_app`;
    broker-level behaviour (offsets, rebalances, redelivery) needs the real broker instead."""
    async with TestKafkaBroker(app.state.runtime.broker) as broker:

        async def publish(messages: list[Message]) -> None:
            for topic, key, value in messages:
                raw = json.dumps(value).encode() if isinstance(value, dict) else value
                await broker.publish(raw, topic, key=key)

        yield publish


async def wait_until(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    not_yet: tuple[type[Exception], ...] = (),
) -> T:
    """Call `probe` until it returns something truthy; fail with the last value after timeout.

    A probe that raises AssertionError, or one of `not_yet` (e.g. a browser evaluation that
    throws because the element it reads is not on the page yet), is tried again; any other
    exception is a real failure and ends the wait at once."""
    deadline = time.monotonic() + timeout
    last: Any = None
    retried: tuple[type[Exception], ...] = (AssertionError, *not_yet)
    while time.monotonic() < deadline:
        try:
            last = await probe()
        except retried as exc:
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met after {timeout}s; last: {last!r}")


async def read_topic(
    bootstrap: str, topic: str, *, min_count: int = 1, timeout: float = 20.0
) -> list[Any]:
    """Read a topic from the beginning until `min_count` records arrived (or timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < min_count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for msgs in batch.values():
                records.extend(msgs)
    finally:
        await consumer.stop()
    return records


def apt_install(*packages: str) -> None:
    """Install Debian packages a test needs (a browser, a compose tool) when running as root;
    raise with the command to run otherwise. Tests install what they need, never skip."""
    if os.geteuid() != 0:
        raise RuntimeError(
            f"{', '.join(packages)} missing and not running as root: run "
            f"`sudo apt-get install -y {' '.join(packages)}` and try again"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(cmd)}` failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
