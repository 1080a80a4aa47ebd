"""Adjustments of a closed period through the HTTP API on the real database and broker: each
arrival after the close is listed with the member, the delta it made, the event and when it
arrived, and a member's deltas add up to their live - closed points."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from .helpers import logged, revoked
from .once import Scoring
from .test_api import NOV, feed
from .test_periods import BEFORE, LATE, STUDY, STUDY_RULE

CLOSE = "/v1/periods/2026-11/close"
ADJUSTMENTS = "/v1/periods/2026-11/adjustments"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def _adjustments(client: Any) -> dict[str, Any]:
    r = await client.get(ADJUSTMENTS)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_late_event_is_listed_with_its_member_delta_and_arrival(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    closed_at = (await client.post(CLOSE)).json()["closed_at"]
    await feed(app, [LATE])
    [event] = (await _adjustments(client))["events"]
    assert (event["change"], event["member_id"], event["delta"]) == ("event", "M3", 5.0)
    assert (event["source"], event["id"], event["activity_type"]) == (
        LATE["source"],
        LATE["id"],
        "organization_life",
    )
    assert _at(event["time"]) == _at(LATE["time"])
    assert _at(event["arrived_at"]) > _at(closed_at)


async def test_a_late_revocation_is_listed_with_the_points_it_took_away(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    await client.post(CLOSE)
    await feed(app, [revoked(STUDY)])
    events = (await _adjustments(client))["events"]
    assert [(e["change"], e["member_id"], e["id"], e["delta"]) for e in events] == [
        ("revocation", "M2", STUDY["id"], -1.0)
    ]


async def test_a_late_event_that_pushes_another_past_the_cap_changes_nothing(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    visits = [logged("M1", "grid_visit", NOV.format(day)) for day in range(10, 20)]
    await feed(app, BEFORE + visits)  # 10 visits: the cap of 10 is full
    await client.post(CLOSE)
    early = logged("M1", "grid_visit", NOV.format(2))  # earns 1, the last visit loses 1
    await feed(app, [early])
    adj = await _adjustments(client)
    assert [(e["id"], e["delta"]) for e in adj["events"]] == [(early["id"], 0.0)]
    assert adj["members"] == []


async def test_a_rule_revision_reaching_back_is_listed_with_what_it_changed_per_member(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    await client.post(CLOSE)
    assert (await client.post("/v1/rules", json=STUDY_RULE)).status_code == 201
    [rule] = (await _adjustments(client))["rules"]
    assert (rule["activity_type"], rule["note"]) == ("study", STUDY_RULE["note"])
    assert rule["members"] == [{"member_id": "M2", "delta": 3.0}]  # one study, 1 -> 4


async def test_the_deltas_of_a_member_add_up_to_live_minus_closed(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    await client.post(CLOSE)
    await feed(app, [LATE, revoked(STUDY)])
    await client.post("/v1/rules", json=STUDY_RULE)
    await feed(app, [logged("M2", "study", NOV.format(6)), logged("M1", "study", NOV.format(7))])
    adj = await _adjustments(client)
    summed: dict[str, float] = defaultdict(float)
    for e in adj["events"]:
        summed[e["member_id"]] += e["delta"]
    for rule in adj["rules"]:
        for m in rule["members"]:
            summed[m["member_id"]] += m["delta"]
    expected = {m["member_id"]: m["delta"] for m in adj["members"]}
    assert expected == {"M1": 4.0, "M2": 3.0, "M3": 5.0}
    assert {k: v for k, v in summed.items() if v} == expected
