"""Feedback to a member's own Party organisation, read with a token scoped to it."""

from __future__ import annotations

import json

import httpx

from dev.testing import cloud_event, read_topic, wait_until
from shared.events.scoring import FEEDBACK_ISSUED

from .helpers import logged, registered, reported
from .once import ORG_TOKEN, Scoring
from .test_api import NOV, city, feed


def party_org(org: str, parent: str | None = None) -> dict:
    data = {"party_org_id": org, "name": org, "kind": "organ"}
    if parent:
        data["parent_id"] = parent
    return cloud_event("partygrid.party_org.defined", data, subject=org)


# ORGC is a sub-organisation of ORGP; ORGX stands apart. M1 10 points, M2 11, M3 10.
TREE = (
    city()
    + [party_org("ORGP"), party_org("ORGC", "ORGP"), party_org("ORGX")]
    + [registered("M1", "ORGP"), registered("M2", "ORGC"), registered("M3", "ORGX")]
    + [reported(m, "C1", NOV.format(1)) for m in ("M1", "M2", "M3")]
    + [logged("M2", "study", NOV.format(2))]
)


async def test_an_organisation_token_reads_the_feedback_of_its_subtree_only(
    scoring: Scoring,
) -> None:
    await feed(scoring.app, TREE)
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


async def test_the_closed_feedback_of_an_organisation_includes_its_sub_organisations(
    scoring: Scoring,
) -> None:
    await feed(scoring.app, TREE)
    assert (await scoring.client.post("/v1/periods/2026-H2/close")).status_code == 200
    await feed(scoring.app, [logged("M2", "study", NOV.format(3))])  # after the close
    async with scoring.as_(ORG_TOKEN) as client:
        own = (await client.get("/v1/reports/feedback", params={"period": "2026-H2"})).json()
    assert own["figures"] == "closed"
    assert [(i["member_id"], i["points"]) for i in own["members"]] == [("M1", 10.0), ("M2", 11.0)]


async def test_closing_a_half_issues_each_organisation_the_feedback_of_its_subtree(
    scoring: Scoring,
) -> None:
    await feed(scoring.app, TREE)
    assert (await scoring.client.post("/v1/periods/2026-H2/close")).status_code == 200

    async def issued() -> dict[str, tuple[int, str]] | None:
        records = await read_topic(scoring.bootstrap, FEEDBACK_ISSUED, timeout=2)
        found = {
            d["party_org_id"]: (d["members"], d["total_points"])
            for d in (json.loads(r.value)["data"] for r in records)
            if d["period"] == "2026-H2"
        }
        return found if len(found) >= 3 else None

    assert await wait_until(issued) == {
        "ORGP": (2, "21.00"),  # M1 and, from ORGC, M2
        "ORGC": (1, "11.00"),
        "ORGX": (1, "10.00"),
    }
