"""Use cases of the members service: one database transaction each, state change and events
together (outbox via shared.outbox.publish_own).

Personal data (phone, ID number) is read and written here but never put into an event, an
error message or a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.api import ApiError
from shared.auth import Principal
from shared.events import (
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    UNIT_REPORTED,
    CloudEvent,
    MemberDeregistered,
    MemberRegistered,
    MemberReported,
    RegionLevel,
    UnitReported,
    new_event,
)
from shared.events.members import (
    PARTY_ORG_DEFINED,
    UNIT_AGREEMENT_SIGNED,
    PartyOrgDefined,
    UnitAgreementSigned,
)
from shared.outbox import publish_own
from shared.regions import require_region

from . import persistence as db
from .domain.csvimport import ImportRow, RowError, parse_csv
from .domain.registry import RowLike, deregistration, event_fields_differ, registration
from .domain.rules import next_time
from .models import (
    AgreementIn,
    DeregisterIn,
    MemberIn,
    MemberPatch,
    PartyOrgIn,
    ReportIn,
    UnitIn,
    UnitReportIn,
)

log = logging.getLogger(__name__)

IMPORT_CHUNK = 500
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str, rule: str, status: int = 422, code: str = "invalid_request") -> ApiError:
    return ApiError(status, code, f"{field}: {rule}", field=field, rule=rule)


# --- scope ---------------------------------------------------------------------------------


async def require_member_scope(conn: db.Conn, caller: Principal, member: asyncpg.Record) -> None:
    """Scoped admins may act on members whose current or home community is in their region."""
    if caller.may_access([]):
        return
    for community in (member["cur_community_id"], member["address_community_id"]):
        if community and caller.may_access(await db.region_path(conn, community)):
            return
    raise ApiError(
        403,
        "forbidden",
        f"a {caller.role} token for {caller.scope} may only access members reported to or "
        "living in its region",
    )


async def _community(conn: db.Conn, community_id: str, field: str) -> asyncpg.Record:
    return await require_region(conn, community_id, level=RegionLevel.COMMUNITY, field=field)


# --- Party organisations -------------------------------------------------------------------


async def define_party_org(
    pool: asyncpg.Pool, source: str, party_org_id: str, body: PartyOrgIn, now: Clock = utcnow
) -> tuple[asyncpg.Record, bool]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('party_orgs'))")
        if body.parent_id is not None:
            if body.parent_id == party_org_id:
                raise _invalid("parent_id", "an organisation cannot be its own parent")
            if await db.get_party_org(conn, body.parent_id) is None:
                raise _invalid("parent_id", "must be an existing Party organisation")
            if party_org_id in await db.party_org_ancestors(conn, body.parent_id):
                raise _invalid("parent_id", "would make a cycle (the parent is below this one)")
        current = await db.get_party_org(conn, party_org_id)
        wanted = (body.name, body.kind.value, body.parent_id)
        stored = (current["name"], current["kind"], current["parent_id"]) if current else None
        if current is not None and stored == wanted:
            return current, False
        await db.upsert_party_org(conn, party_org_id, *wanted)
        event = new_event(
            type=PARTY_ORG_DEFINED,
            source=source,
            subject=party_org_id,
            time=now(),
            data=PartyOrgDefined(
                party_org_id=party_org_id, name=body.name, kind=body.kind, parent_id=body.parent_id
            ),
        )
        await publish_own(conn, [event])
        row = await db.get_party_org(conn, party_org_id)
        assert row is not None
        return row, current is None


# --- members -------------------------------------------------------------------------------


def _registered_event(
    source: str, member_id: str, values: dict[str, Any], when: datetime
) -> CloudEvent:
    return new_event(
        type=MEMBER_REGISTERED,
        source=source,
        subject=member_id,
        time=when,
        data=MemberRegistered(
            member_id=member_id,
            name=values["name"],
            category=values["category"],
            party_org_id=values["party_org_id"],
            joined_on=values["joined_on"],
        ),
    )


def _event_time(row: asyncpg.Record | None, now: Clock) -> datetime:
    if row is None:
        return now()
    return next_time(now(), row["reg_time"], row["state_time"])


async def _check_member_refs(
    conn: db.Conn, member_id: str, values: dict[str, Any], changed: set[str]
) -> None:
    if "party_org_id" in changed and await db.get_party_org(conn, values["party_org_id"]) is None:
        raise _invalid("party_org_id", "must be an existing Party organisation")
    if "address_community_id" in changed and values.get("address_community_id"):
        await _community(conn, values["address_community_id"], "address_community_id")
    if "id_number" in changed and values.get("id_number"):
        owner = (await db.id_number_owners(conn, [values["id_number"]])).get(values["id_number"])
        if owner is not None and owner != member_id:
            raise _invalid("id_number", "is already registered to another member", 409, "conflict")


async def register_member(
    pool: asyncpg.Pool, source: str, body: MemberIn, now: Clock = utcnow
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        row = await db.lock_member(conn, body.member_id, create=True)
        assert row is not None
        if row["active"]:
            raise _invalid(
                "member_id", "is already registered (use PATCH to change it)", 409, "conflict"
            )
        values = body.model_dump(exclude={"member_id"})
        values["category"] = body.category.value
        await _check_member_refs(conn, body.member_id, values, set(values))
        when = _event_time(row, now)
        event = _registered_event(source, body.member_id, values, when)
        updates = registration(
            row,
            name=body.name,
            category=values["category"],
            party_org_id=body.party_org_id,
            joined_on=body.joined_on,
            version=(when, source, event.id),
        )
        updates.update(
            skills=body.skills,
            phone=body.phone,
            id_number=body.id_number,
            address_community_id=body.address_community_id,
        )
        await db.update_member(conn, body.member_id, updates)
        await publish_own(conn, [event])


async def _locked_registered(conn: db.Conn, member_id: str) -> asyncpg.Record:
    row = await db.lock_member(conn, member_id, create=False)
    if row is None or row["name"] is None:
        raise ApiError(
            404,
            "not_found",
            f"no member {member_id}",
            field="member_id",
            rule="must be a registered member",
        )
    return row


async def update_member(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    member_id: str,
    patch: MemberPatch,
    now: Clock = utcnow,
) -> bool:
    """Apply the given fields; publish member.registered only if name, category, Party
    organisation or joined date changed. Returns whether anything changed."""
    async with pool.acquire() as conn, conn.transaction():
        await _locked_registered(conn, member_id)
        full = await db.get_member(conn, member_id)
        assert full is not None
        await require_member_scope(conn, caller, full)
        if not full["active"]:
            raise _invalid(
                "member_id", "is deregistered; register it again instead", 409, "conflict"
            )
        given = patch.model_dump(exclude_unset=True)
        for key in ("name", "category", "party_org_id"):
            if key in given and given[key] is None:
                raise _invalid(key, "cannot be removed")
        if "skills" in given and given["skills"] is None:
            given["skills"] = []
        if "category" in given:
            given["category"] = patch.category.value if patch.category else None
        changed = {k for k, v in given.items() if full[k] != v}
        if not changed:
            return False
        values = {**dict(full), **given}
        await _check_member_refs(conn, member_id, values, changed)
        updates = {k: values[k] for k in changed}
        events = []
        if event_fields_differ(full, values):
            when = _event_time(full, now)
            event = _registered_event(source, member_id, values, when)
            reg = registration(
                full,
                name=values["name"],
                category=values["category"],
                party_org_id=values["party_org_id"],
                joined_on=values["joined_on"],
                version=(when, source, event.id),
            )
            updates.update(reg)
            events.append(event)
        await db.update_member(conn, member_id, updates)
        await publish_own(conn, events)
        return True


async def deregister_member(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    member_id: str,
    body: DeregisterIn,
    now: Clock = utcnow,
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await _locked_registered(conn, member_id)
        full = await db.get_member(conn, member_id)
        assert full is not None
        await require_member_scope(conn, caller, full)
        if not full["active"]:
            raise _invalid("member_id", "is already deregistered", 409, "conflict")
        when = _event_time(full, now)
        event = new_event(
            type=MEMBER_DEREGISTERED,
            source=source,
            subject=member_id,
            time=when,
            data=MemberDeregistered(member_id=member_id, reason=body.reason),
        )
        updates = deregistration(full, reason=body.reason.value, version=(when, source, event.id))
        await db.update_member(conn, member_id, updates)
        await publish_own(conn, [event])


async def report_member(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    member_id: str,
    body: ReportIn,
    now: Clock = utcnow,
) -> bool:
    """双报到: report (or move) the member to a community. Returns False when the member is
    already reported there with the same grid and skills (nothing is published)."""
    async with pool.acquire() as conn, conn.transaction():
        await _community(conn, body.community_id, "community_id")
        caller.require_region(await db.region_path(conn, body.community_id))
        if body.grid_id is not None:
            await require_region(
                conn,
                body.grid_id,
                level=RegionLevel.GRID,
                field="grid_id",
                parent_id=body.community_id,
            )
        await _locked_registered(conn, member_id)
        member = await db.get_member(conn, member_id)
        assert member is not None
        if not member["active"]:
            raise _invalid("member_id", "is deregistered and cannot report", 409, "conflict")
        skills = list(body.skills) if body.skills is not None else list(member["skills"])
        if (
            member["cur_community_id"] == body.community_id
            and member["cur_grid_id"] == body.grid_id
            and list(member["cur_skills"]) == skills
        ):
            return False
        when = next_time(now(), member["cur_time"])
        event = new_event(
            type=MEMBER_REPORTED,
            source=source,
            subject=member_id,
            time=when,
            data=MemberReported(
                member_id=member_id,
                community_id=body.community_id,
                grid_id=body.grid_id,
                skills=skills,
            ),
        )
        await db.record_report(
            conn, member_id, body.community_id, body.grid_id, skills, (when, source, event.id)
        )
        await publish_own(conn, [event])
        return True


# --- units ---------------------------------------------------------------------------------


async def _unit_event(conn: db.Conn, source: str, unit: RowLike, when: datetime) -> CloudEvent:
    return new_event(
        type=UNIT_REPORTED,
        source=source,
        subject=unit["unit_id"],
        time=when,
        data=UnitReported(
            unit_id=unit["unit_id"],
            name=unit["name"],
            party_org_id=unit["party_org_id"],
            community_id=unit["community_id"],
            member_count=unit["member_count"],
        ),
    )


async def register_unit(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    unit_id: str,
    body: UnitIn,
    now: Clock = utcnow,
) -> bool:
    """Create or change a unit. A reported unit whose data changed is re-published
    (unit.reported carries name, Party organisation and member count)."""
    async with pool.acquire() as conn, conn.transaction():
        if await db.get_party_org(conn, body.party_org_id) is None:
            raise _invalid("party_org_id", "must be an existing Party organisation")
        current = await db.get_unit(conn, unit_id, lock=True)
        if current is not None and current["community_id"]:
            caller.require_region(await db.region_path(conn, current["community_id"]))
        wanted = (body.name, body.party_org_id, body.address, body.member_count)
        if current is not None and wanted == (
            current["name"],
            current["party_org_id"],
            current["address"],
            current["member_count"],
        ):
            return False
        await db.upsert_unit(conn, unit_id, *wanted)
        unit = await db.get_unit(conn, unit_id)
        assert unit is not None
        if unit["community_id"]:
            await publish_own(conn, [await _unit_event(conn, source, unit, now())])
        return True


async def report_unit(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    unit_id: str,
    body: UnitReportIn,
    now: Clock = utcnow,
) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        await _community(conn, body.community_id, "community_id")
        caller.require_region(await db.region_path(conn, body.community_id))
        unit = await db.get_unit(conn, unit_id, lock=True)
        if unit is None:
            raise ApiError(
                404,
                "not_found",
                f"no unit {unit_id}",
                field="unit_id",
                rule="must be a registered unit (PUT /v1/units/{unit_id})",
            )
        if unit["community_id"] == body.community_id:
            return False
        when = next_time(now(), unit["reported_at"])
        event = await _unit_event(
            conn,
            source,
            {**dict(unit), "community_id": body.community_id},
            when,
        )
        await db.set_unit_report(conn, unit_id, body.community_id, when, event.id)
        await publish_own(conn, [event])
        return True


async def sign_agreement(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    unit_id: str,
    body: AgreementIn,
    now: Clock = utcnow,
) -> bool:
    """契约化共建: record the unit's agreement with the community it reported to."""
    async with pool.acquire() as conn, conn.transaction():
        unit = await db.get_unit(conn, unit_id, lock=True)
        if unit is None:
            raise ApiError(
                404,
                "not_found",
                f"no unit {unit_id}",
                field="unit_id",
                rule="must be a registered unit",
            )
        if not unit["community_id"]:
            raise _invalid(
                "unit_id", "the unit must report to its community first", 409, "conflict"
            )
        caller.require_region(await db.region_path(conn, unit["community_id"]))
        if body.valid_until is not None and body.valid_until < body.signed_on:
            raise _invalid("valid_until", "must not be before signed_on")
        commitments = [c.model_dump(mode="json") for c in body.commitments]
        existing = await db.get_agreement(conn, body.agreement_id)
        if existing is not None:
            same = (
                existing["unit_id"] == unit_id
                and existing["signed_on"] == body.signed_on
                and existing["valid_until"] == body.valid_until
                and json.loads(existing["commitments"]) == commitments
            )
            if same:
                return False
            raise _invalid("agreement_id", "already exists with other content", 409, "conflict")
        await db.insert_agreement(
            conn,
            body.agreement_id,
            unit_id,
            unit["community_id"],
            body.signed_on,
            body.valid_until,
            commitments,
        )
        event = new_event(
            type=UNIT_AGREEMENT_SIGNED,
            source=source,
            subject=unit_id,
            time=now(),
            data=UnitAgreementSigned(
                unit_id=unit_id,
                agreement_id=body.agreement_id,
                community_id=unit["community_id"],
                signed_on=body.signed_on,
                valid_until=body.valid_until,
                commitments=[c.content for c in body.commitments],
            ),
        )
        await publish_own(conn, [event])
        return True


# --- bulk import ---------------------------------------------------------------------------


async def create_import_job(pool: asyncpg.Pool) -> uuid.UUID:
    job_id = uuid.uuid4()
    await pool.execute("INSERT INTO import_jobs (job_id, status) VALUES ($1, 'queued')", job_id)
    return job_id


async def fail_interrupted_jobs(pool: asyncpg.Pool) -> None:
    """A job running when the process stopped was rolled back: say so."""
    error = RowError(0, "file", "interrupted by a restart; nothing was written, submit again")
    await pool.execute(
        """UPDATE import_jobs SET status = 'failed', finished_at = now(), processed = 0,
               errors = $1::jsonb WHERE status IN ('queued', 'running')""",
        json.dumps([error.as_dict()]),
    )


async def _finish(
    pool: asyncpg.Pool, job_id: uuid.UUID, status: str, errors: list[RowError], **counts: int
) -> None:
    await pool.execute(
        """UPDATE import_jobs SET status = $2, errors = $3::jsonb, finished_at = now(),
               created = $4, updated = $5, unchanged = $6,
               processed = CASE WHEN $2 = 'failed' THEN 0 ELSE processed END
           WHERE job_id = $1""",
        job_id,
        status,
        json.dumps([e.as_dict() for e in sorted(errors, key=lambda e: e.line)], ensure_ascii=False),
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
        await pool.execute(
            "UPDATE import_jobs SET status = 'running', encoding = $2, total = $3 "
            "WHERE job_id = $1",
            job_id,
            parsed.encoding,
            len(parsed.rows) + len(bad_lines),
        )
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
    conn: db.Conn, rows: Sequence[ImportRow], errors: list[RowError]
) -> dict[str, str]:
    orgs = await db.resolve_party_orgs(conn, [r.party_org_id for r in rows])
    communities = await db.existing_regions(
        conn, [r.address_community_id for r in rows if r.address_community_id], "community"
    )
    owners = await db.id_number_owners(conn, [r.id_number for r in rows if r.id_number])
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
            locked = await db.lock_members(conn, [r.member_id for r in chunk])
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
                when = _event_time(row, now)
                event = _registered_event(source, r.member_id, values, when)
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
            await db.update_members(conn, writes)
            await publish_own(conn, events)
            processed += len(chunk)
            await pool.execute(
                "UPDATE import_jobs SET processed = $2 WHERE job_id = $1", job_id, processed
            )
    return counts
