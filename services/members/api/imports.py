"""Routes of the bulk import of members: submit a CSV file (as text/csv or one part of a
multipart/form-data body) and follow the import job."""

from __future__ import annotations

import asyncio
from email import policy
from email.parser import BytesParser
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from shared.api import ERROR_RESPONSES, ApiError, Pool, as_body
from shared.auth import Caller
from shared.refusals import invalid

from ..models import ImportJob
from ..usecases import imports

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["import"])
MAX_IMPORT_BYTES = 50 * 1024 * 1024


def _too_large() -> ApiError:
    return ApiError(
        413,
        "too_large",
        "the file is larger than 50 MB",
        field="file",
        rule="at most 50 MB; split the file",
    )


def _csv_from_body(content_type: str, body: bytes) -> bytes:
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        if not message.is_multipart():
            raise invalid(
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
        raise invalid(
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
    # a transport matter with a status of its own, so not a refusal of a use case
    raise ApiError(
        415,
        "unsupported_media_type",
        f"content type {content_type} not accepted",
        field="content-type",
        rule="text/csv or multipart/form-data",
    )


@router.post(
    "/members/import",
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
        raise _too_large()
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise _too_large()
    raw = _csv_from_body(request.headers.get("content-type", ""), body)
    if not raw.strip():
        raise invalid(
            "invalid_request",
            "file: empty",
            field="file",
            rule="a CSV file with a header row is required",
        )
    runtime = request.app.state.runtime
    job_id = await imports.create_import_job(pool)
    running: set[asyncio.Task[None]] = runtime.extras.setdefault("import_tasks", set())
    task = imports.start_import(pool, runtime.settings.source, job_id, raw, running)
    response.headers["Location"] = f"/v1/members/import/{job_id}"
    if wait:
        await asyncio.shield(task)
    job = await imports.import_job(pool, job_id)
    if wait:
        if job.status == "failed":
            refusal = invalid(
                "import_failed",
                f"{len(job.errors)} problem(s) in the file; nothing was imported "
                f"(job {job.job_id})",
            )
            refusal.details = as_body(job.errors)
            raise refusal
        response.status_code = 200
    return ImportJob.model_validate(as_body(job))


@router.get("/members/import/{job_id}", summary="Progress of an import")
async def import_job(job_id: str, pool: Pool, caller: Caller) -> ImportJob:
    caller.require_city()
    return ImportJob.model_validate(as_body(await imports.import_job(pool, job_id)))
