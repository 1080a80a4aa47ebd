"""Feedback to a member's own Party organisation, read with a token scoped to it."""

from __future__ import annotations

import httpx

from dev.testing import cloud_event

from .helpers import logged, registered, reported
from .once import ORG_TOKEN, Scoring
from .test_api import NOV, city, feed


def party_org(org: str, parent: str | None = None) -> dict:
    data = {"party_org_id": org, "name": org, "kind": "organ"}
    if parent:
        data["parent_id"] = parent
    return cloud_event("partygrid.party_org.defined", data, subject=org)


async def test_an_organisation_token_reads_the_feedback_of_its_subtree_only(
    scoring: Scoring,
) -> None:
    app = scoring.app
    await feed(
        app,
        city()
        + [party_org("ORGP"), party_org("ORGC", "ORGP"), party_org("ORGX")]
        + [registered("M1", "ORGP"), registered("M2", "ORGC"), registered("M3", "ORGX")]
        + [reported(m, "C1", NOV.format(1)) for m in ("M1", "M2", "M3")]
        + [logged("M2", "study", NOV.format(2))],
    )
    async with scoring.as_(ORG_TOKEN) as client:
        await _reads(client)


async def _reads(client: httpx.AsyncClient) -> None:
    own = await client.get("/v1/reports/feedback", params={"period": "2026-H2"})
    assert own.status_code == 200, own.text
    assert [(i["member_id"], i["party_org_id"], i["points"]) for i in own.json()["members"]] == [
        ("M1", "ORGP", 10.0),
        ("M2", "ORGC", 11.0),
    ]
    sub = await client.get(
        "/v1/reports/feedback", params={"period": "2026-H2", "party_org_id": "ORGC"}
    )
    assert [i["member_id"] for i in sub.json()["members"]] == ["M2"]
    other = await client.get(
        "/v1/reports/feedback", params={"period": "2026-H2", "party_org_id": "ORGX"}
    )
    assert other.status_code == 403
    assert (await client.get("/v1/rankings/streets")).status_code == 403
