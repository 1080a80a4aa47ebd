"""Members service HTTP API (port 8001): Party organisations, the member registry, 双报到 of
members and units, co-building agreements, bulk import and the queries built on them.

Every endpoint needs `Authorization: Bearer <token>`; writes need a non-read-only token, and
community/street admins act only inside their region. Errors are JSON:
`{"error": code, "message": ..., "details": [{"field": ..., "rule": ...}]}`, always 4xx for bad
input, and nothing is half-written (one transaction per request).

Party organisations (所属党组织)
    PUT  /v1/party-orgs/{id}            create/change {name, kind, parent_id}; kind is organ,
                                        state_firm, school, hospital, non_public_firm,
                                        social_organisation or community. Publishes
                                        partygrid.party_org.defined.
    GET  /v1/party-orgs[/{id}]
    GET  /v1/party-orgs/{id}/members?category=in_service&include_sub_orgs=false
                                        members of the organisation with their current
                                        community: the basis of the half-yearly feedback.

Members
    POST  /v1/members                   register (member.registered)
    GET   /v1/members/{id}
    PATCH /v1/members/{id}              change; member.registered again only if name, category,
                                        Party organisation or joined date changed
    POST  /v1/members/{id}/deregister   {reason} (member.deregistered)
    POST  /v1/members/{id}/reports      双报到 {community_id, grid_id?, skills?}: the community
                                        (and grid) must be known from partygrid.region.defined;
                                        reporting elsewhere again is a move. 201 when a
                                        member.reported was published, 200 when unchanged.
    GET   /v1/members/{id}/reports      current report and full history (moved_from marks moves)

Personal data: `phone` and `id_number` (GB 11643 check digit validated) are stored only in
this service, never in events or logs, and shown unmasked only to city_admin tokens; others
see `138****0000` and `110105********123X`.

Bulk import
    POST /v1/members/import[?wait=true]  body: text/csv, or multipart/form-data with one file
        part. UTF-8 (with or without BOM) or GBK, as Excel saves it. Header row in Chinese
        (党员编号,姓名,类别,所属党组织,入党日期,手机号,身份证号[,特长,居住社区]) or English
        (member_id,name,category,party_org_id,joined_on,phone,id_number[,skills,
        address_community_id]); 所属党组织 may be an id or an exact name; 类别 accepts
        in_service/resident/mobile/retired or 在职党员/居民党员/流动党员/离退休党员.
        Without wait: 202 and an import job; poll GET /v1/members/import/{job_id} for
        status (queued, running, succeeded, failed) and progress processed/total.
        With wait=true: the finished job, 200 on success, 422 on failure.
        All-or-nothing: any bad row (reported as {line, field, rule}) means nothing is written.
        Empty optional cells keep stored values. Importing the same file again changes nothing
        and publishes nothing. Only city_admin tokens may import.

Units (驻区单位)
    PUT  /v1/units/{id}                 register/change {name, party_org_id, address, member_count}
    POST /v1/units/{id}/report          {community_id}: publishes partygrid.unit.reported
    POST /v1/units/{id}/agreements      契约化共建 {agreement_id, signed_on, valid_until,
                                        commitments: [{content, due_on}]}: publishes
                                        partygrid.unit.agreement_signed
    GET  /v1/units/{id}

Communities
    GET /v1/communities/{id}/members?category=   members currently reported there
    GET /v1/communities/{id}/units               units reported there
    GET /v1/communities/{id}/reporting-rate      in-service members living there (by their
        address_community_id) vs. those of them reported there; also everyone reported there.

Consumed events: partygrid.region.defined, and member.registered / member.reported /
member.deregistered from outside registries (latest by time, source, id wins; reports to
communities not yet known are kept).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from email import policy
from email.parser import BytesParser
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request, Response

from shared.api import ERROR_RESPONSES, ApiError, Pool
from shared.auth import Caller, Principal
from shared.events.types import ID_PATTERN, MemberCategory, RegionLevel
from shared.regions import require_region

from . import persistence as db
from . import usecases
from .domain.identity import mask_id_number, mask_phone
from .models import (
    AgreementIn,
    AgreementOut,
    Commitment,
    DeregisterIn,
    ImportJob,
    MemberIn,
    MemberList,
    MemberOut,
    MemberPatch,
    PartyOrgIn,
    PartyOrgOut,
    ReportHistory,
    ReportIn,
    ReportingRate,
    ReportOut,
    UnitIn,
    UnitOut,
    UnitReportIn,
)

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
MAX_IMPORT_BYTES = 50 * 1024 * 1024


def _source(request: Request) -> str:
    return request.app.state.runtime.settings.source


def _id(value: str, field: str) -> str:
    import re

    if not re.match(ID_PATTERN, value):
        raise ApiError(
            422,
            "invalid_request",
            f"{field}: must be 1-64 characters of [A-Za-z0-9_.-]",
            field=field,
            rule="must match " + ID_PATTERN,
        )
    return value


# --- output --------------------------------------------------------------------------------


def member_out(row: asyncpg.Record, caller: Principal) -> MemberOut:
    reveal = caller.role == "city_admin"
    current = None
    if row["cur_community_id"] is not None:
        current = ReportOut(
            community_id=row["cur_community_id"],
            grid_id=row["cur_grid_id"],
            skills=list(row["cur_skills"]),
            reported_at=row["cur_time"],
            source=row["cur_source"],
        )
    return MemberOut(
        member_id=row["member_id"],
        name=row["name"],
        category=row["category"],
        party_org_id=row["party_org_id"],
        joined_on=row["joined_on"],
        skills=list(row["skills"]),
        phone=row["phone"] if reveal else mask_phone(row["phone"]),
        id_number=row["id_number"] if reveal else mask_id_number(row["id_number"]),
        address_community_id=row["address_community_id"],
        status="active" if row["active"] else "deregistered",
        deregistered_reason=row["deregistered_reason"],
        current_report=current,
    )


def _org_out(row: asyncpg.Record) -> PartyOrgOut:
    return PartyOrgOut(
        party_org_id=row["party_org_id"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row["parent_id"],
    )


async def _member(pool: asyncpg.Pool, member_id: str, caller: Principal) -> MemberOut:
    async with pool.acquire() as conn:
        row = await db.get_member(conn, member_id)
        if row is None:
            raise ApiError(
                404,
                "not_found",
                f"no member {member_id}",
                field="member_id",
                rule="must be a registered member",
            )
        await usecases.require_member_scope(conn, caller, row)
        return member_out(row, caller)


# --- Party organisations -------------------------------------------------------------------


@router.put(
    "/party-orgs/{party_org_id}",
    tags=["party organisations"],
    response_model=PartyOrgOut,
    responses={201: {"model": PartyOrgOut, "description": "Created (200: changed)."}},
    summary="Create or change a Party organisation",
)
async def put_party_org(
    party_org_id: str,
    body: PartyOrgIn,
    pool: Pool,
    caller: Caller,
    request: Request,
    response: Response,
) -> PartyOrgOut:
    caller.require_write()
    _id(party_org_id, "party_org_id")
    row, created = await usecases.define_party_org(pool, _source(request), party_org_id, body)
    response.status_code = 201 if created else 200
    return _org_out(row)


@router.get("/party-orgs", tags=["party organisations"], summary="List Party organisations")
async def list_party_orgs(
    pool: Pool,
    caller: Caller,
    parent_id: Annotated[str | None, Query(description="Only children of this one.")] = None,
) -> list[PartyOrgOut]:
    async with pool.acquire() as conn:
        return [_org_out(r) for r in await db.list_party_orgs(conn, parent_id)]


@router.get(
    "/party-orgs/{party_org_id}", tags=["party organisations"], summary="One Party organisation"
)
async def get_party_org(party_org_id: str, pool: Pool, caller: Caller) -> PartyOrgOut:
    async with pool.acquire() as conn:
        row = await db.get_party_org(conn, party_org_id)
    if row is None:
        raise ApiError(
            404,
            "not_found",
            f"no Party organisation {party_org_id}",
            field="party_org_id",
            rule="must be an existing Party organisation",
        )
    return _org_out(row)


@router.get(
    "/party-orgs/{party_org_id}/members",
    tags=["party organisations"],
    summary="Members of a Party organisation (basis of the half-yearly feedback)",
)
async def party_org_members(
    party_org_id: str,
    pool: Pool,
    caller: Caller,
    category: Annotated[
        MemberCategory | None, Query(description="Only this category, e.g. in_service.")
    ] = None,
    include_sub_orgs: Annotated[
        bool, Query(description="Also members of the organisations below it.")
    ] = False,
) -> MemberList:
    async with pool.acquire() as conn:
        if await db.get_party_org(conn, party_org_id) is None:
            raise ApiError(
                404,
                "not_found",
                f"no Party organisation {party_org_id}",
                field="party_org_id",
                rule="must be an existing Party organisation",
            )
        ids = (
            (await db.party_org_subtree(conn, party_org_id)) if include_sub_orgs else [party_org_id]
        )
        rows = await db.members_of_party_org(conn, ids, category.value if category else None)
    items = [member_out(r, caller) for r in rows]
    return MemberList(items=items, total=len(items))


# --- members -------------------------------------------------------------------------------


@router.post("/members", tags=["members"], status_code=201, summary="Register a member")
async def register_member(
    body: MemberIn, pool: Pool, caller: Caller, request: Request
) -> MemberOut:
    caller.require_write()
    if body.address_community_id and not caller.may_access([]):
        async with pool.acquire() as conn:
            # a made-up community is bad input (422), not someone else's region (403)
            await require_region(
                conn,
                body.address_community_id,
                level=RegionLevel.COMMUNITY,
                field="address_community_id",
            )
            caller.require_region(await db.region_path(conn, body.address_community_id))
    await usecases.register_member(pool, _source(request), body)
    async with pool.acquire() as conn:
        row = await db.get_member(conn, body.member_id)
    assert row is not None
    return member_out(row, caller)


@router.get("/members/{member_id}", tags=["members"], summary="One member")
async def get_member(member_id: str, pool: Pool, caller: Caller) -> MemberOut:
    return await _member(pool, member_id, caller)


@router.patch("/members/{member_id}", tags=["members"], summary="Change a member")
async def patch_member(
    member_id: str, body: MemberPatch, pool: Pool, caller: Caller, request: Request
) -> MemberOut:
    caller.require_write()
    await usecases.update_member(pool, _source(request), caller, member_id, body)
    return await _member(pool, member_id, caller)


@router.post("/members/{member_id}/deregister", tags=["members"], summary="Deregister a member")
async def deregister_member(
    member_id: str, body: DeregisterIn, pool: Pool, caller: Caller, request: Request
) -> MemberOut:
    caller.require_write()
    await usecases.deregister_member(pool, _source(request), caller, member_id, body)
    return await _member(pool, member_id, caller)


@router.post(
    "/members/{member_id}/reports",
    tags=["双报到"],
    status_code=201,
    responses={200: {"model": MemberOut, "description": "Already reported there: unchanged."}},
    summary="Report (or move) a member to the community where they live",
)
async def report_member(
    member_id: str, body: ReportIn, pool: Pool, caller: Caller, request: Request, response: Response
) -> MemberOut:
    caller.require_write()
    changed = await usecases.report_member(pool, _source(request), caller, member_id, body)
    if not changed:
        response.status_code = 200
    return await _member(pool, member_id, caller)


@router.get("/members/{member_id}/reports", tags=["双报到"], summary="Reporting history")
async def report_history(member_id: str, pool: Pool, caller: Caller) -> ReportHistory:
    member = await _member(pool, member_id, caller)
    async with pool.acquire() as conn:
        rows = await db.report_history(conn, member_id)
    history: list[ReportOut] = []
    previous: str | None = None
    for r in rows:
        history.append(
            ReportOut(
                community_id=r["community_id"],
                grid_id=r["grid_id"],
                skills=list(r["skills"]),
                reported_at=r["ev_time"],
                source=r["ev_source"],
                moved_from=previous if previous not in (None, r["community_id"]) else None,
            )
        )
        previous = r["community_id"]
    return ReportHistory(member_id=member_id, current=member.current_report, history=history)


# --- import --------------------------------------------------------------------------------


def _csv_from_body(content_type: str, body: bytes) -> bytes:
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        if not message.is_multipart():
            raise ApiError(
                422,
                "invalid_request",
                "file: malformed multipart body",
                field="file",
                rule="multipart/form-data with one file part",
            )
        for part in message.iter_parts():
            if part.get_filename() or part.get_param("name", header="content-disposition") in (
                "file",
                "csv",
            ):
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    return payload
        raise ApiError(
            422,
            "invalid_request",
            "file: no file part in the multipart body",
            field="file",
            rule="send the CSV as a part named file",
        )
    if content_type.split(";")[0].strip() in (
        "text/csv",
        "application/csv",
        "text/plain",
        "application/octet-stream",
        "",
    ):
        return body
    raise ApiError(
        415,
        "unsupported_media_type",
        f"content type {content_type} not accepted",
        field="content-type",
        rule="text/csv or multipart/form-data",
    )


def _job_out(row: asyncpg.Record) -> ImportJob:
    return ImportJob(
        job_id=str(row["job_id"]),
        status=row["status"],
        encoding=row["encoding"],
        total=row["total"],
        processed=row["processed"],
        created=row["created"],
        updated=row["updated"],
        unchanged=row["unchanged"],
        errors=json.loads(row["errors"]),
    )


@router.post(
    "/members/import",
    tags=["import"],
    status_code=202,
    response_model=ImportJob,
    responses={200: {"model": ImportJob, "description": "Finished within the request."}},
    summary="Import members from a CSV file (all-or-nothing)",
)
async def import_members(
    request: Request,
    pool: Pool,
    caller: Caller,
    response: Response,
    wait: Annotated[bool, Query(description="Answer when the import has finished.")] = False,
) -> Any:
    caller.require_city()
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_IMPORT_BYTES:
        raise ApiError(
            413,
            "too_large",
            "the file is larger than 50 MB",
            field="file",
            rule="at most 50 MB; split the file",
        )
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise ApiError(
            413,
            "too_large",
            "the file is larger than 50 MB",
            field="file",
            rule="at most 50 MB; split the file",
        )
    raw = _csv_from_body(request.headers.get("content-type", ""), body)
    if not raw.strip():
        raise ApiError(
            422,
            "invalid_request",
            "file: empty",
            field="file",
            rule="a CSV file with a header row is required",
        )
    job_id = await usecases.create_import_job(pool)
    runtime = request.app.state.runtime
    tasks: set[asyncio.Task[None]] = runtime.extras.setdefault("import_tasks", set())
    task = asyncio.create_task(usecases.run_import(pool, runtime.settings.source, job_id, raw))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    response.headers["Location"] = f"/v1/members/import/{job_id}"
    if wait:
        await asyncio.shield(task)
    row = await db.get_job(pool, job_id)
    assert row is not None
    job = _job_out(row)
    if wait:
        if job.status == "failed":
            error = ApiError(
                422,
                "import_failed",
                f"{len(job.errors)} problem(s) in the file; nothing was imported "
                f"(job {job.job_id})",
            )
            error.details = job.errors
            raise error
        response.status_code = 200
    return job


@router.get("/members/import/{job_id}", tags=["import"], summary="Progress of an import")
async def import_job(job_id: str, pool: Pool, caller: Caller) -> ImportJob:
    caller.require_city()
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        raise ApiError(
            404,
            "not_found",
            f"no import job {job_id}",
            field="job_id",
            rule="must be a job id returned by POST /v1/members/import",
        ) from None
    row = await db.get_job(pool, key)
    if row is None:
        raise ApiError(
            404,
            "not_found",
            f"no import job {job_id}",
            field="job_id",
            rule="must be a job id returned by POST /v1/members/import",
        )
    return _job_out(row)


# --- communities ---------------------------------------------------------------------------


async def _community_scope(pool: asyncpg.Pool, caller: Principal, community_id: str) -> None:
    async with pool.acquire() as conn:
        caller.require_region(await db.region_path(conn, community_id))


@router.get(
    "/communities/{community_id}/members",
    tags=["communities"],
    summary="Members currently reported to a community",
)
async def community_members(
    community_id: str,
    pool: Pool,
    caller: Caller,
    category: Annotated[MemberCategory | None, Query(description="Only this category.")] = None,
) -> MemberList:
    await _community_scope(pool, caller, community_id)
    async with pool.acquire() as conn:
        rows = await db.members_of_community(
            conn, community_id, category.value if category else None
        )
    items = [member_out(r, caller) for r in rows]
    return MemberList(items=items, total=len(items))


@router.get(
    "/communities/{community_id}/reporting-rate",
    tags=["communities"],
    summary="双报到 rate of in-service members living in a community",
)
async def community_reporting_rate(community_id: str, pool: Pool, caller: Caller) -> ReportingRate:
    await _community_scope(pool, caller, community_id)
    async with pool.acquire() as conn:
        row = await db.reporting_rate(conn, community_id)
    residents = int(row["residents"])
    reported = int(row["reported_residents"])
    return ReportingRate(
        community_id=community_id,
        in_service_residents=residents,
        reported_residents=reported,
        reported_here=int(row["reported_here"]),
        rate=round(reported / residents, 4) if residents else None,
    )


@router.get(
    "/communities/{community_id}/units",
    tags=["communities"],
    summary="Units reported to a community",
)
async def community_units(community_id: str, pool: Pool, caller: Caller) -> list[UnitOut]:
    await _community_scope(pool, caller, community_id)
    async with pool.acquire() as conn:
        units = await db.units_of_community(conn, community_id)
        return await _units_out(conn, units)


# --- units ---------------------------------------------------------------------------------


async def _units_out(conn: db.Conn, units: list[asyncpg.Record]) -> list[UnitOut]:
    agreements = await db.unit_agreements(conn, [u["unit_id"] for u in units])
    out = []
    for u in units:
        mine = [
            AgreementOut(
                agreement_id=a["agreement_id"],
                unit_id=a["unit_id"],
                community_id=a["community_id"],
                signed_on=a["signed_on"],
                valid_until=a["valid_until"],
                commitments=[Commitment(**c) for c in json.loads(a["commitments"])],
            )
            for a in agreements
            if a["unit_id"] == u["unit_id"]
        ]
        out.append(
            UnitOut(
                unit_id=u["unit_id"],
                name=u["name"],
                party_org_id=u["party_org_id"],
                address=u["address"],
                member_count=u["member_count"],
                community_id=u["community_id"],
                reported_at=u["reported_at"],
                agreements=mine,
            )
        )
    return out


async def _unit(pool: asyncpg.Pool, unit_id: str) -> UnitOut:
    async with pool.acquire() as conn:
        unit = await db.get_unit(conn, unit_id)
        if unit is None:
            raise ApiError(
                404,
                "not_found",
                f"no unit {unit_id}",
                field="unit_id",
                rule="must be a registered unit",
            )
        return (await _units_out(conn, [unit]))[0]


@router.put("/units/{unit_id}", tags=["units"], summary="Register or change a unit (驻区单位)")
async def put_unit(
    unit_id: str, body: UnitIn, pool: Pool, caller: Caller, request: Request
) -> UnitOut:
    caller.require_write()
    _id(unit_id, "unit_id")
    await usecases.register_unit(pool, _source(request), caller, unit_id, body)
    return await _unit(pool, unit_id)


@router.get("/units/{unit_id}", tags=["units"], summary="One unit with its agreements")
async def get_unit(unit_id: str, pool: Pool, caller: Caller) -> UnitOut:
    unit = await _unit(pool, unit_id)
    if unit.community_id:
        await _community_scope(pool, caller, unit.community_id)
    return unit


@router.post(
    "/units/{unit_id}/report", tags=["units"], summary="Report a unit to its community (双报到)"
)
async def report_unit(
    unit_id: str, body: UnitReportIn, pool: Pool, caller: Caller, request: Request
) -> UnitOut:
    caller.require_write()
    await usecases.report_unit(pool, _source(request), caller, unit_id, body)
    return await _unit(pool, unit_id)


@router.post(
    "/units/{unit_id}/agreements",
    tags=["units"],
    status_code=201,
    responses={200: {"model": AgreementOut, "description": "Recorded before: unchanged."}},
    summary="Record a co-building agreement (契约化共建)",
)
async def sign_agreement(
    unit_id: str,
    body: AgreementIn,
    pool: Pool,
    caller: Caller,
    request: Request,
    response: Response,
) -> AgreementOut:
    caller.require_write()
    created = await usecases.sign_agreement(pool, _source(request), caller, unit_id, body)
    if not created:
        response.status_code = 200
    unit = await _unit(pool, unit_id)
    return next(a for a in unit.agreements if a.agreement_id == body.agreement_id)
