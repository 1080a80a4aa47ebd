"""PostgreSQL access: the asyncpg pool, creating a service's own database, and a forward-only
migrations runner.

Migrations are numbered `.sql` files in each service's `migrations/` folder. They are applied
in order at start-up, each in its own transaction, and recorded in `schema_migrations`; an
advisory lock makes two processes starting at once apply each file exactly once.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from .settings import with_database

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"  # every service's common tables
MIGRATION_LOCK = 0x5047_4D49  # "PGMI": one lock id for every service's migrations
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

# What a function that runs SQL receives: a plain connection, or one lent by the pool
# (`async with pool.acquire() as conn`). Typing only; both behave the same for queries.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


def from_jsonb(value: Any) -> Any:
    """A json or jsonb value as Python: asyncpg hands it over as text (no codec is set), a
    value built in Python is passed through."""
    return json.loads(value) if isinstance(value, str) else value


async def ensure_database(url: str) -> None:
    """Create the database of `url` if it does not exist (safe under concurrent starts)."""
    name = url.split("?")[0].rsplit("/", 1)[-1]
    try:
        conn = await asyncpg.connect(url)
        await conn.close()
        return
    except asyncpg.InvalidCatalogNameError:
        pass
    admin = await asyncpg.connect(with_database(url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        log.info("created database %s", name)
    except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
        pass
    finally:
        await admin.close()


async def create_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, command_timeout=60)
    assert pool is not None
    return pool


def migration_files(folder: Path) -> list[tuple[int, str, Path]]:
    files = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name} must be named NNNN_lower_snake.sql")
        files.append((int(match.group(1)), path.name, path))
    numbers = [n for n, _, _ in files]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"duplicate migration numbers in {folder}")
    return files


async def migrate(pool: asyncpg.Pool, *folders: Path) -> list[str]:
    """Apply pending migrations from `folders` (shared ones first); return the names applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       name text PRIMARY KEY,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for folder in folders:
                for _, name, path in migration_files(folder):
                    key = f"{folder.parent.name}/{name}"
                    if key in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(path.read_text())
                        await conn.execute("INSERT INTO schema_migrations(name) VALUES ($1)", key)
                    applied.append(key)
                    log.info("applied migration %s", key)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied
