"""Test infrastructure: a real embedded PostgreSQL for the session (a fresh database per test)
and a real tansu broker per test (it starts in milliseconds and keeps tests apart)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from dev.embedded import EmbeddedKafka, EmbeddedPostgres, free_port, start_kafka, start_postgres
from dev.testing import settings_for_test
from shared.settings import Settings, with_database


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    # A short path: PostgreSQL's unix socket path must stay under 108 characters.
    base = Path("/tmp") / f"pgtest-{uuid.uuid4().hex[:8]}"
    base.mkdir()
    pg = start_postgres(base / "data")
    yield pg
    pg.stop()


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[EmbeddedKafka]:
    broker = start_kafka(free_port(), log_path=tmp_path / "tansu.log")
    yield broker
    broker.stop()


@pytest.fixture
def db_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings_for(pg_server: EmbeddedPostgres, kafka: EmbeddedKafka, db_name: str):
    def make(service: str, **overrides: object) -> Settings:
        return settings_for_test(
            pg_server.url,
            kafka.bootstrap,
            service,
            **{"database_name": f"{db_name}_{service}", **overrides},
        )

    return make


@pytest.fixture
async def db(pg_server: EmbeddedPostgres, db_name: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a fresh, empty database."""
    admin = await asyncpg.connect(pg_server.url)
    await admin.execute(f'CREATE DATABASE "{db_name}"')
    await admin.close()
    conn = await asyncpg.connect(with_database(pg_server.url, db_name))
    yield conn
    await conn.close()
