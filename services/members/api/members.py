"""Routes of the member registry and 双报到 of members: register, read, change, deregister,
report (or move) to a community, and the report history."""

from __future__ import annotations

from fastapi import APIRouter, Response

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..models import DeregisterIn, MemberIn, MemberOut, MemberPatch, ReportHistory, ReportIn
from ..usecases import members, reports
from .common import Source

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.post("/members", tags=["members"], status_code=201, summary="Register a member")
async def register_member(body: MemberIn, pool: Pool, caller: Caller, source: Source) -> MemberOut:
    caller.require_write()
    return MemberOut.model_validate(
        as_body(await members.register_member(pool, source, caller, body))
    )


@router.get("/members/{member_id}", tags=["members"], summary="One member")
async def get_member(member_id: str, pool: Pool, caller: Caller) -> MemberOut:
    return MemberOut.model_validate(as_body(await members.get_member(pool, caller, member_id)))


@router.patch("/members/{member_id}", tags=["members"], summary="Change a member")
async def patch_member(
    member_id: str, body: MemberPatch, pool: Pool, caller: Caller, source: Source
) -> MemberOut:
    caller.require_write()
    await members.update_member(pool, source, caller, member_id, body)
    return MemberOut.model_validate(as_body(await members.get_member(pool, caller, member_id)))


@router.post("/members/{member_id}/deregister", tags=["members"], summary="Deregister a member")
async def deregister_member(
    member_id: str, body: DeregisterIn, pool: Pool, caller: Caller, source: Source
) -> MemberOut:
    caller.require_write()
    await members.deregister_member(pool, source, caller, member_id, body)
    return MemberOut.model_validate(as_body(await members.get_member(pool, caller, member_id)))


@router.post(
    "/members/{member_id}/reports",
    tags=["双报到"],
    status_code=201,
    responses={200: {"model": MemberOut, "description": "Already reported there: unchanged."}},
    summary="Report (or move) a member to the community where they live",
)
async def report_member(
    member_id: str, body: ReportIn, pool: Pool, caller: Caller, source: Source, response: Response
) -> MemberOut:
    caller.require_write()
    if not await reports.report_member(pool, source, caller, member_id, body):
        response.status_code = 200
    return MemberOut.model_validate(as_body(await members.get_member(pool, caller, member_id)))


@router.get("/members/{member_id}/reports", tags=["双报到"], summary="Reporting history")
async def report_history(member_id: str, pool: Pool, caller: Caller) -> ReportHistory:
    return ReportHistory.model_validate(
        as_body(await reports.report_history(pool, caller, member_id))
    )
