"""What every route module of the members service shares: the event source of a request, the
check of an id given in a path, and the member as the API shows it (personal data masked for
everyone but city admins)."""

from __future__ import annotations

import re
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from shared.auth import Principal
from shared.events.types import ID_PATTERN
from shared.refusals import invalid

from ..domain.identity import mask_id_number, mask_phone
from ..models import MemberOut, PartyOrgOut, ReportOut


def _source(request: Request) -> str:
    return str(request.app.state.runtime.settings.source)


# the CloudEvents source of the events a request publishes
Source = Annotated[str, Depends(_source)]


def checked_id(value: str, field: str) -> str:
    """An id given in a path that creates something: the pattern every id follows."""
    if not re.match(ID_PATTERN, value):
        raise invalid(
            "invalid_request",
            f"{field}: must be 1-64 characters of [A-Za-z0-9_.-]",
            field=field,
            rule="must match " + ID_PATTERN,
        )
    return value


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


def org_out(row: asyncpg.Record) -> PartyOrgOut:
    return PartyOrgOut(
        party_org_id=row["party_org_id"],
        name=row["name"],
        kind=row["kind"],
        parent_id=row["parent_id"],
    )
