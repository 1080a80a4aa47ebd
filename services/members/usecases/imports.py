"""Use cases of the bulk import of members from CSV (as Excel saves it): a job is started and
runs in the background; every row is validated, then all of them are written in ONE
transaction, or none. Importing the same file again changes nothing and publishes nothing."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.events import CloudEvent
from shared.outbox import publish_own

from ..domain.csvimport import ImportRow, RowError, parse_csv
from ..domain.imports import ImportJob
from ..domain.registry import event_fields_differ, registration
from ..persistence import common as regions
from ..persistence import imports as db
from ..persistence import members as member_db
from ..persistence import party_orgs
from ..persistence.common import Conn
from .common import Clock, event_time, missing, registered_event, utcnow

log = logging.getLogger(__name__)

IMPORT_CHUNK = 500


def start_import(
    pool: asyncpg.Pool, source: str, job_id: uuid.UUID, raw: bytes, running: set[asyncio.Task[None]]
) -> asyncio.Task[None]:
    """Run the import of a created job in the background, kept in `running` until it ends (so
    the service can stop it on shutdown)."""
    task = asyncio.create_task(run_import(pool, source, job_id, raw))
    running.add(task)
    task.add_done_callback(running.discard)
    return task


async def create_import_job(pool: asyncpg.Pool) -> uuid.UUID:
    job_id = uuid.uuid4()
    await db.insert_job(pool, job_id)
    return job_id


async def import_job(pool: asyncpg.Pool, job_id: str | uuid.UUID) -> ImportJob:
    """The job with its progress; an id that is not a job's is not found."""
    try:
        key = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(job_id)
    except ValueError:
        key = None
    row = await db.get_job(pool, key) if key is not None else None
    if row is None:
        raise missing(
            "job_id",
            f"no import job {job_id}",
            "must be a job id returned by POST /v1/members/import",
        )
    return db.as_job(row)


async def fail_interrupted_jobs(pool: asyncpg.Pool) -> None:
    """A job running when the process stopped was rolled back: say so."""
    error = RowError(0, "file", "interrupted by a restart; nothing was written, submit again")
    await db.fail_unfinished(pool, [error.as_dict()])


async def _finish(
    pool: asyncpg.Pool, job_id: uuid.UUID, status: str, errors: list[RowError], **counts: int
) -> None:
    await db.finish_job(
        pool,
        job_id,
        status,
        [e.as_dict() for e in sorted(errors, key=lambda e: e.line)],
        counts.get("created", 0),
        counts.get("updated", 0),
        counts.get("unchanged", 0),
    )


async def run_import(
    pool: asyncpg.Pool, source: str, job_id: uuid.UUID, raw: bytes, now: Clock = utcnow
) -> None:
    """Validate every row, then write all of them in ONE transaction, or none."""
    try:
        parsed = await asyncio.to_thread(parse_csv, raw)
        bad_lines = {e.line for e in parsed.errors if e.line > 1}
        await db.start_job(pool, job_id, parsed.encoding, len(parsed.rows) + len(bad_lines))
        errors = list(parsed.errors)
        async with pool.acquire() as conn:
            orgs = await _check_rows(conn, parsed.rows, errors)
        if errors:
            await _finish(pool, job_id, "failed", errors)
            return
        counts = await _write_rows(pool, source, job_id, parsed.rows, orgs, now)
        await _finish(pool, job_id, "succeeded", [], **counts)
    except asyncio.CancelledError:
        await asyncio.shield(
            _finish(
                pool,
                job_id,
                "failed",
                [RowError(0, "file", "the service stopped during the import; nothing was written")],
            )
        )
        raise
    except asyncpg.UniqueViolationError:
        await _finish(
            pool,
            job_id,
            "failed",
            [
                RowError(
                    0, "id_number", "two members would share one ID number; nothing was written"
                )
            ],
        )
    except Exception as exc:
        # the type only: asyncpg messages can quote row values, which may be personal data
        log.error("import %s failed: %s", job_id, type(exc).__name__)
        await _finish(
            pool,
            job_id,
            "failed",
            [RowError(0, "file", f"the import failed ({type(exc).__name__}); nothing was written")],
        )


async def _check_rows(
    conn: Conn, rows: Sequence[ImportRow], errors: list[RowError]
) -> dict[str, str]:
    orgs = await party_orgs.resolve_party_orgs(conn, [r.party_org_id for r in rows])
    communities = await regions.existing_regions(
        conn, [r.address_community_id for r in rows if r.address_community_id], "community"
    )
    owners = await member_db.id_number_owners(conn, [r.id_number for r in rows if r.id_number])
    for r in rows:
        if r.party_org_id not in orgs:
            errors.append(
                RowError(
                    r.line,
                    "party_org_id",
                    "unknown Party organisation (give its id, or its exact and unique name)",
                )
            )
        if r.address_community_id and r.address_community_id not in communities:
            errors.append(RowError(r.line, "address_community_id", "unknown community"))
        owner = owners.get(r.id_number) if r.id_number else None
        if owner is not None and owner != r.member_id:
            errors.append(RowError(r.line, "id_number", "already registered to another member"))
    return orgs


async def _write_rows(
    pool: asyncpg.Pool,
    source: str,
    job_id: uuid.UUID,
    rows: Sequence[ImportRow],
    orgs: dict[str, str],
    now: Clock,
) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    ordered = sorted(rows, key=lambda r: r.member_id)  # one lock order for everyone
    processed = 0
    async with pool.acquire() as conn, conn.transaction():
        for start in range(0, len(ordered), IMPORT_CHUNK):
            chunk = ordered[start : start + IMPORT_CHUNK]
            locked = await member_db.lock_members(conn, [r.member_id for r in chunk])
            writes: list[dict[str, Any]] = []
            events: list[CloudEvent] = []
            for r in chunk:
                row = locked[r.member_id]
                current = dict(row)
                values = dict(current)
                values.update(
                    name=r.name, category=r.category.value, party_org_id=orgs[r.party_org_id]
                )
                if r.joined_on is not None:
                    values["joined_on"] = r.joined_on
                for key in ("phone", "id_number", "address_community_id"):
                    if getattr(r, key) is not None:
                        values[key] = getattr(r, key)
                if r.skills is not None:
                    values["skills"] = list(r.skills)
                if row["active"] and not event_fields_differ(current, values):
                    if values == current:
                        counts["unchanged"] += 1
                        continue
                    counts["updated"] += 1
                    writes.append(values)
                    continue
                counts["created" if row["name"] is None else "updated"] += 1
                when = event_time(row, now)
                event = registered_event(source, r.member_id, values, when)
                values.update(
                    registration(
                        current,
                        name=values["name"],
                        category=values["category"],
                        party_org_id=values["party_org_id"],
                        joined_on=values["joined_on"],
                        version=(when, source, event.id),
                    )
                )
                writes.append(values)
                events.append(event)
            await member_db.update_members(conn, writes)
            await publish_own(conn, events)
            processed += len(chunk)
            # on the pool, not in the transaction: the progress is seen while the rows are written
            await db.set_processed(pool, job_id, processed)
    return counts
