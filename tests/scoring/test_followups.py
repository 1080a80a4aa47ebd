"""Organisation life as a hard criterion and the follow-up of members, through the HTTP API."""

from __future__ import annotations

from .helpers import logged, registered, reported
from .once import Scoring
from .test_api import NOV, city, feed

# M1 has the most points but no organisation life this quarter; M2 attended; M3 has nothing.
EVENTS = city() + [
    registered("M1", "ORG1"),
    registered("M2", "ORG1"),
    registered("M3", "ORG1"),
    reported("M1", "C1", NOV.format(1)),
    reported("M2", "C1", NOV.format(1)),
    reported("M3", "C1", NOV.format(1)),
    logged("M1", "volunteer_service", NOV.format(3), hours=10),
    logged("M2", "organization_life", NOV.format(4)),
]
NOV_C1 = {"period": "2026-11", "community_id": "C1"}


async def test_a_member_who_missed_organisation_life_is_flagged_and_kept_off_the_red_board(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, EVENTS)
    ranking = (await client.get("/v1/rankings/members", params=NOV_C1)).json()
    assert [(i["member_id"], i["org_life_missed"]) for i in ranking["items"]] == [
        ("M1", True),
        ("M2", False),
        ("M3", True),
    ]
    board = await client.post(
        "/v1/boards", json={"period": "2026-11", "subject": "members", "size": 2}
    )
    assert [i["member_id"] for i in board.json()["red"]] == ["M2"]


async def test_follow_up_talks_are_recorded_for_due_members_and_shown_in_the_list(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, EVENTS)
    talk = {"period": "2026-11", "kind": "criticism_education", "held_on": "2026-11-20"}
    not_due = await client.post("/v1/followups", json=talk | {"member_id": "M2"})
    assert not_due.status_code == 422, not_due.text
    held = await client.post("/v1/followups", json=talk | {"member_id": "M3", "note": "谈话"})
    assert held.status_code == 201, held.text
    due = (await client.get("/v1/followups/due", params=NOV_C1)).json()
    assert [
        (i["member_id"], i["org_life_missed"], i["zero_points"], i["followed_up"])
        for i in due["items"]
    ] == [("M1", True, False, False), ("M3", True, False, True)]
    assert due["items"][1]["talks"][0]["kind"] == "criticism_education"
