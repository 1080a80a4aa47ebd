"""SQL of bulk import jobs: a job's row, its progress and how it ended. These statements run
on the pool, outside the import's own transaction, so a poller sees the progress while the
rows are still being written."""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeAlias, cast

import asyncpg

from ..domain.csvimport import RowError
from ..domain.imports import ImportJob, JobStatus
from .common import Conn, Row

# the pool for the job's own statements, a connection where a caller holds one
Runner: TypeAlias = "Conn | asyncpg.Pool"


def as_job(row: Row) -> ImportJob:
    """The domain job of a row of `import_jobs` (its errors stored as JSON)."""
    return ImportJob(
        job_id=str(row["job_id"]),
        status=cast(JobStatus, row["status"]),
        encoding=row["encoding"],
        total=row["total"],
        processed=row["processed"],
        created=row["created"],
        updated=row["updated"],
        unchanged=row["unchanged"],
        errors=tuple(
            RowError(line=e["line"], field=e["field"], rule=e["rule"])
            for e in json.loads(row["errors"])
        ),
    )


async def insert_job(pool: Runner, job_id: uuid.UUID) -> None:
    await pool.execute("INSERT INTO import_jobs (job_id, status) VALUES ($1, 'queued')", job_id)


async def get_job(conn: Runner, job_id: Any) -> Row | None:
    return await conn.fetchrow("SELECT * FROM import_jobs WHERE job_id = $1", job_id)


async def fail_unfinished(pool: Runner, errors: list[dict[str, Any]]) -> None:
    await pool.execute(
        """UPDATE import_jobs SET status = 'failed', finished_at = now(), processed = 0,
               errors = $1::jsonb WHERE status IN ('queued', 'running')""",
        json.dumps(errors),
    )


async def start_job(pool: Runner, job_id: uuid.UUID, encoding: str, total: int) -> None:
    await pool.execute(
        "UPDATE import_jobs SET status = 'running', encoding = $2, total = $3 WHERE job_id = $1",
        job_id,
        encoding,
        total,
    )


async def set_processed(pool: Runner, job_id: uuid.UUID, processed: int) -> None:
    await pool.execute("UPDATE import_jobs SET processed = $2 WHERE job_id = $1", job_id, processed)


async def finish_job(
    pool: Runner,
    job_id: uuid.UUID,
    status: str,
    errors: list[dict[str, Any]],
    created: int,
    updated: int,
    unchanged: int,
) -> None:
    await pool.execute(
        """UPDATE import_jobs SET status = $2, errors = $3::jsonb, finished_at = now(),
               created = $4, updated = $5, unchanged = $6,
               processed = CASE WHEN $2 = 'failed' THEN 0 ELSE processed END
           WHERE job_id = $1""",
        job_id,
        status,
        json.dumps(errors, ensure_ascii=False),
        created,
        updated,
        unchanged,
    )
