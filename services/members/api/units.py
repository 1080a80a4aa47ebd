"""Routes of resident units (驻区单位): register or change, report to a community (双报到),
record a co-building agreement (契约化共建), read one with its agreements."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller

from ..models import AgreementIn, AgreementOut, UnitIn, UnitOut, UnitReportIn
from ..usecases import agreements, units
from .common import Source, checked_id

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["units"])


@router.put(
    "/units/{unit_id}", response_model=UnitOut, summary="Register or change a unit (驻区单位)"
)
async def put_unit(
    unit_id: str, body: UnitIn, pool: Pool, caller: Caller, source: Source
) -> dict[str, Any]:
    caller.require_write()
    checked_id(unit_id, "unit_id")
    await units.register_unit(pool, source, caller, unit_id, body)
    return as_body(await units.unit_view(pool, unit_id))


@router.get("/units/{unit_id}", response_model=UnitOut, summary="One unit with its agreements")
async def get_unit(unit_id: str, pool: Pool, caller: Caller) -> dict[str, Any]:
    return as_body(await units.get_unit(pool, caller, unit_id))


@router.post(
    "/units/{unit_id}/report",
    response_model=UnitOut,
    summary="Report a unit to its community (双报到)",
)
async def report_unit(
    unit_id: str, body: UnitReportIn, pool: Pool, caller: Caller, source: Source
) -> dict[str, Any]:
    caller.require_write()
    await units.report_unit(pool, source, caller, unit_id, body)
    return as_body(await units.unit_view(pool, unit_id))


@router.post(
    "/units/{unit_id}/agreements",
    status_code=201,
    response_model=AgreementOut,
    responses={200: {"model": AgreementOut, "description": "Recorded before: unchanged."}},
    summary="Record a co-building agreement (契约化共建)",
)
async def sign_agreement(
    unit_id: str,
    body: AgreementIn,
    pool: Pool,
    caller: Caller,
    source: Source,
    response: Response,
) -> dict[str, Any]:
    caller.require_write()
    if not await agreements.sign_agreement(pool, source, caller, unit_id, body):
        response.status_code = 200
    unit = await units.unit_view(pool, unit_id)
    return as_body(next(a for a in unit.agreements if a.agreement_id == body.agreement_id))
