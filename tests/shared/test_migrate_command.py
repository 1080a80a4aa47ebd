"""`python -m shared.migrate <service>` (the Kubernetes init container) brings a service's
database to the current schema before the service starts, so the service's own start-up
migration finds nothing left to do."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg

from dev.embedded import EmbeddedPostgres
from shared.db import SHARED_MIGRATIONS, create_pool, migrate, migration_files
from shared.migrate import service_migrations
from shared.settings import with_database

ROOT = Path(__file__).resolve().parents[2]


def run_migrate(pg: EmbeddedPostgres, database: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=pg.url, DATABASE_NAME=database, LOG_JSON="false")
    env.pop("SCORING_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "shared.migrate", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_migrate_command_leaves_nothing_for_the_service_start(
    pg_server: EmbeddedPostgres,
) -> None:
    database = f"t_{uuid.uuid4().hex[:12]}_scoring"
    first = run_migrate(pg_server, database, "scoring")
    assert first.returncode == 0, first.stderr
    folder = service_migrations("scoring")
    expected = {f"shared/{name}" for _, name, _ in migration_files(SHARED_MIGRATIONS)}
    expected |= {f"scoring/{name}" for _, name, _ in migration_files(folder)}
    url = with_database(pg_server.url, database)
    conn = await asyncpg.connect(url)
    try:
        names = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
    finally:
        await conn.close()
    assert names == expected
    pool = await create_pool(url, max_size=2)
    try:  # what create_service_app's start-up runs
        assert await migrate(pool, SHARED_MIGRATIONS, folder) == []
    finally:
        await pool.close()
    again = run_migrate(pg_server, database, "scoring")
    assert again.returncode == 0, again.stderr


def test_migrate_command_rejects_an_unknown_service(pg_server: EmbeddedPostgres) -> None:
    result = run_migrate(pg_server, "t_unused", "scorring")
    assert result.returncode == 2
    assert "unknown service 'scorring'" in result.stderr
