"""Use case of co-building agreements (契约化共建): record a unit's agreement with the community
it reported to (unit.agreement_signed). Recording the same agreement again changes nothing;
the same id with other content is refused."""

from __future__ import annotations

import json

import asyncpg

from shared.auth import Principal
from shared.events import new_event
from shared.events.members import UNIT_AGREEMENT_SIGNED, UnitAgreementSigned
from shared.outbox import publish_own

from ..models import AgreementIn
from ..persistence import units as db
from .common import Clock, broken, clash, missing, require_community_scope, utcnow


async def sign_agreement(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    unit_id: str,
    body: AgreementIn,
    now: Clock = utcnow,
) -> bool:
    """契约化共建: record the unit's agreement with the community it reported to. Returns
    whether it is new."""
    async with pool.acquire() as conn, conn.transaction():
        unit = await db.get_unit(conn, unit_id, lock=True)
        if unit is None:
            raise missing("unit_id", f"no unit {unit_id}", "must be a registered unit")
        if not unit["community_id"]:
            raise clash("unit_id", "the unit must report to its community first")
        await require_community_scope(conn, caller, unit["community_id"])
        if body.valid_until is not None and body.valid_until < body.signed_on:
            raise broken("valid_until", "must not be before signed_on")
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
            raise clash("agreement_id", "already exists with other content")
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
