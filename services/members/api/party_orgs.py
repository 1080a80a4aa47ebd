"""Routes of Party organisations (所属党组织): define one, read the tree, list its members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from shared.api import ERROR_RESPONSES, Pool, as_body
from shared.auth import Caller
from shared.events.types import MemberCategory

from ..models import MemberList, PartyOrgIn, PartyOrgOut
from ..usecases import party_orgs
from .common import Source, checked_id

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["party organisations"])


@router.put(
    "/party-orgs/{party_org_id}",
    response_model=PartyOrgOut,
    responses={201: {"model": PartyOrgOut, "description": "Created (200: changed)."}},
    summary="Create or change a Party organisation",
)
async def put_party_org(
    party_org_id: str,
    body: PartyOrgIn,
    pool: Pool,
    caller: Caller,
    source: Source,
    response: Response,
) -> PartyOrgOut:
    caller.require_write()
    checked_id(party_org_id, "party_org_id")
    org, created = await party_orgs.define_party_org(pool, source, party_org_id, body)
    response.status_code = 201 if created else 200
    return PartyOrgOut.model_validate(as_body(org))


@router.get("/party-orgs", summary="List Party organisations")
async def list_party_orgs(
    pool: Pool,
    caller: Caller,
    parent_id: Annotated[str | None, Query(description="Only children of this one.")] = None,
) -> list[PartyOrgOut]:
    orgs = as_body(await party_orgs.list_party_orgs(pool, parent_id))
    return [PartyOrgOut.model_validate(o) for o in orgs]


@router.get("/party-orgs/{party_org_id}", summary="One Party organisation")
async def get_party_org(party_org_id: str, pool: Pool, caller: Caller) -> PartyOrgOut:
    return PartyOrgOut.model_validate(as_body(await party_orgs.get_party_org(pool, party_org_id)))


@router.get(
    "/party-orgs/{party_org_id}/members",
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
    items = as_body(
        await party_orgs.party_org_members(pool, caller, party_org_id, category, include_sub_orgs)
    )
    return MemberList.model_validate({"items": items, "total": len(items)})
