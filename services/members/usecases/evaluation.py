"""Use cases of the two-way evaluation of resident units (双向考核): each commitment of a
co-building agreement is marked planned, done (with a date and a note) or missed; a unit's
yearly report back (述职) to its community or street is recorded with its evaluation; the
part-time committee members (兼职委员) it provides are recorded; and a unit's yearly score
(`domain.evaluation`) is read alone or as a ranking of the units of a community or street.
Every change is an event through the outbox. The participation of a unit's in-service members
comes from scoring's points.changed, kept in a projection by `apply_points`."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.db import Conn
from shared.events import new_event
from shared.events.scoring import PointsChanged
from shared.events.units import (
    UNIT_COMMITMENT_UPDATED,
    UNIT_COMMITTEE_MEMBER_CHANGED,
    UNIT_REVIEWED,
    UnitCommitmentUpdated,
    UnitCommitteeMemberChanged,
    UnitReviewed,
)
from shared.inbox import Incoming
from shared.outbox import add_to_outbox
from shared.refusals import Kind, Refusal, conflict, invalid

from ..domain import evaluation as rules
from ..persistence import common as regions
from ..persistence import evaluation as sql
from ..persistence import members as member_db
from ..persistence import units as unit_db


async def apply_points(conn: Conn, events: list[Incoming]) -> None:
    """The inbox part: scoring's points.changed into the member-month projection."""
    rows = [
        (i.data.member_id, i.data.period, i.data.points, i.event.time, i.event.source, i.event.id)
        for i in events
        if isinstance(i.data, PointsChanged)
    ]
    if rows:
        await sql.record_points(conn, sorted(rows))


def _missing(message: str, **detail: str) -> Refusal:
    return Refusal(Kind.NOT_FOUND, "not_found", message, **detail)


def _bad(field: str, rule: str) -> Refusal:
    return invalid("invalid_request", f"{field}: {rule}", field=field, rule=rule)


async def _unit(conn: Conn, caller: Principal, unit_id: str) -> asyncpg.Record:
    unit = await unit_db.get_unit(conn, unit_id, lock=True)
    if unit is None:
        raise _missing(f"no unit {unit_id}", field="unit_id")
    if not unit["community_id"]:
        rule = "the unit must report to its community first"
        raise conflict("conflict", f"unit_id: {rule}", field="unit_id", rule=rule)
    caller.require_region(await regions.region_path(conn, unit["community_id"]))
    return unit


async def _community_or_street(conn: Conn, unit: asyncpg.Record, region_id: str) -> None:
    community = await regions.get_region(conn, unit["community_id"])
    street = community["parent_id"] if community else None
    if region_id not in (unit["community_id"], street):
        raise _bad(
            "region_id",
            f"must be the unit's community {unit['community_id']} or its street {street}",
        )


def _event(source: str, type_: str, data: Any, unit_id: str, id_: str) -> Any:
    return new_event(
        type=type_, source=source, data=data, subject=unit_id, time=datetime.now(UTC), id=id_
    )


async def set_commitment(
    pool: asyncpg.Pool,
    source: str,
    caller: Principal,
    unit_id: str,
    agreement_id: str,
    no: int,
    body: dict[str, Any],
) -> rules.CommitmentStatus:
    status, done_on = body["status"], body.get("done_on")
    if (status == "done") != (done_on is not None):
        raise _bad("done_on", "is given exactly when the status is done")
    async with pool.acquire() as conn, conn.transaction():
        await _unit(conn, caller, unit_id)
        agreement = await unit_db.get_agreement(conn, agreement_id)
        if agreement is None or agreement["unit_id"] != unit_id:
            raise _missing(f"unit {unit_id} has no agreement {agreement_id}")
        count = len(json.loads(agreement["commitments"]))
        if no > count:
            raise _bad("commitment_no", f"the agreement has {count} commitments (1-{count})")
        if done_on is not None and done_on < agreement["signed_on"]:
            raise _bad("done_on", "must not be before the agreement was signed")
        now = datetime.now(UTC)
        await sql.set_commitment(conn, agreement_id, no, status, done_on, body.get("note"), now)
        data = UnitCommitmentUpdated(
            unit_id=unit_id,
            agreement_id=agreement_id,
            commitment_no=no,
            status=status,
            done_on=done_on,
        )
        event_id = f"unit/{unit_id}/agreement/{agreement_id}/commitment/{no}/{now.isoformat()}"
        await add_to_outbox(
            conn, [_event(source, UNIT_COMMITMENT_UPDATED, data, unit_id, event_id)]
        )
    return rules.CommitmentStatus(agreement_id, no, status, done_on, body.get("note"))


async def record_review(
    pool: asyncpg.Pool, source: str, caller: Principal, unit_id: str, year: int, body: dict
) -> rules.Review:
    if body["reported_on"].year not in (year, year + 1):
        raise _bad("reported_on", f"a report back on {year} is made in {year} or {year + 1}")
    async with pool.acquire() as conn, conn.transaction():
        unit = await _unit(conn, caller, unit_id)
        await _community_or_street(conn, unit, body["region_id"])
        now = datetime.now(UTC)
        await sql.upsert_review(conn, unit_id, year, {**body, "recorded_at": now})
        data = UnitReviewed(
            unit_id=unit_id,
            year=year,
            region_id=body["region_id"],
            reported_on=body["reported_on"],
            evaluation=body["evaluation"],
        )
        event_id = f"unit/{unit_id}/review/{year}/{now.isoformat()}"
        await add_to_outbox(conn, [_event(source, UNIT_REVIEWED, data, unit_id, event_id)])
    return rules.Review(
        unit_id=unit_id,
        region_id=body["region_id"],
        reported_on=body["reported_on"],
        evaluation=body["evaluation"],
        note=body.get("note"),
        year=year,
    )


async def set_committee_member(
    pool: asyncpg.Pool, source: str, caller: Principal, unit_id: str, body: dict
) -> rules.CommitteeMember:
    if body.get("until") is not None and body["until"] < body["since"]:
        raise _bad("until", "must not be before since")
    async with pool.acquire() as conn, conn.transaction():
        unit = await _unit(conn, caller, unit_id)
        await _community_or_street(conn, unit, body["region_id"])
        member = await member_db.get_member(conn, body["member_id"])
        if member is None or not member["active"]:
            raise _bad("member_id", "must be a registered member")
        if member["party_org_id"] != unit["party_org_id"]:
            raise _bad("member_id", f"must be a member of the unit's {unit['party_org_id']}")
        await sql.upsert_committee_member(conn, unit_id, body)
        data = UnitCommitteeMemberChanged(unit_id=unit_id, **body)
        event_id = (
            f"unit/{unit_id}/committee/{body['member_id']}/{body['region_id']}/"
            f"{datetime.now(UTC).isoformat()}"
        )
        await add_to_outbox(
            conn, [_event(source, UNIT_COMMITTEE_MEMBER_CHANGED, data, unit_id, event_id)]
        )
    return rules.CommitteeMember(
        unit_id=unit_id,
        member_id=body["member_id"],
        region_id=body["region_id"],
        post=body["post"],
        since=body["since"],
        until=body.get("until"),
    )


async def _scores(conn: Conn, units: list[asyncpg.Record], year: int) -> list[rules.UnitEvaluation]:
    ids = [u["unit_id"] for u in units]
    agreements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in await unit_db.unit_agreements(conn, ids):
        agreements[a["unit_id"]].append({**dict(a), "commitments": json.loads(a["commitments"])})
    statuses = {
        (s["agreement_id"], s["commitment_no"]): s["status"] for s in await sql.statuses(conn, ids)
    }
    reviews = {r.unit_id: r for r in await sql.reviews(conn, ids, year)}
    orgs = sorted({u["party_org_id"] for u in units})
    members = {p["party_org_id"]: p for p in await sql.participation(conn, orgs, year)}
    committee: dict[str, list[rules.CommitteeMember]] = defaultdict(list)
    for c in await sql.committee_members(conn, ids):
        committee[c.unit_id].append(c)
    out = []
    for u in units:
        due, done = rules.commitments_of_year(agreements[u["unit_id"]], statuses, year)
        review = reviews.get(u["unit_id"])
        org = members.get(u["party_org_id"])
        figures = rules.score(
            due,
            done,
            review.evaluation if review else None,
            org["in_service"] if org else 0,
            org["participating"] if org else 0,
        )
        out.append(
            rules.UnitEvaluation(
                **vars(figures),
                unit_id=u["unit_id"],
                name=u["name"],
                community_id=u["community_id"],
                street_id=u["street_id"],
                year=year,
                review=review,
                committee_members=tuple(committee[u["unit_id"]]),
            )
        )
    return out


async def unit_evaluation(
    pool: asyncpg.Pool, caller: Principal, unit_id: str, year: int
) -> rules.UnitEvaluation:
    async with pool.acquire() as conn:
        units = await sql.units_in(conn, unit_id, None)
        if not units:
            raise _missing(f"no unit {unit_id} reported to a community")
        caller.require_region(await regions.region_path(conn, units[0]["community_id"]))
        [result] = await _scores(conn, units, year)
        return result


async def ranking(
    pool: asyncpg.Pool, caller: Principal, region_id: str, year: int
) -> list[rules.UnitEvaluation]:
    async with pool.acquire() as conn:
        region = await regions.get_region(conn, region_id)
        if region is None or region["level"] not in ("community", "street"):
            raise _bad("within", "must be a known community or street")
        caller.require_region(await regions.region_path(conn, region_id))
        return rules.ranked(await _scores(conn, await sql.units_in(conn, None, region_id), year))


def this_year() -> int:
    return date.today().year
