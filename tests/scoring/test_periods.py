"""Period close through the HTTP API on the real database and broker: closed figures hold
whatever arrives later, live figures follow, what arrived is listed as adjustments, reopening
needs a reason, the close is announced as an event, and a member's record adds up."""

from __future__ import annotations

import json
from typing import Any

from dev.testing import read_topic, wait_until
from shared.events.scoring import FEEDBACK_ISSUED, PERIOD_CLOSED

from .helpers import logged, region, registered, reported, revoked
from .once import Scoring
from .test_api import NOV, feed

CITY = [
    region("D1", "district", None),
    region("S1", "street", "D1"),
    region("C1", "community", "S1"),
    region("C2", "community", "S1"),
]
STUDY = logged("M2", "study", NOV.format(5))
BEFORE = CITY + [
    registered("M1", "ORG1"),
    registered("M2", "ORG1"),
    registered("M3", "ORG2"),
    reported("M1", "C1", NOV.format(1)),
    reported("M2", "C1", NOV.format(1)),
    reported("M3", "C2", NOV.format(1)),
    logged("M1", "volunteer_service", NOV.format(3), hours=15),
    STUDY,
]
LATE = logged("M3", "organization_life", NOV.format(20))
STUDY_RULE = {
    "activity_type": "study",
    "points": 4,
    "effective_from": "2026-11-01T00:00:00+08:00",
    "note": "study counts more",
}


async def _published(client: Any) -> dict[str, Any]:
    """Everything a published November shows, as read with the default figures."""
    p = {"period": "2026-11"}
    return {
        "members": (await client.get("/v1/rankings/members", params=p)).json(),
        "communities": (await client.get("/v1/rankings/communities", params=p)).json(),
        "streets": (await client.get("/v1/rankings/streets", params=p)).json(),
        "zero": (await client.get("/v1/zero-points", params=p)).json(),
        "m2": (await client.get("/v1/members/M2/points", params=p)).json(),
        "m3_rank": (await client.get("/v1/members/M3/rank", params=p)).json(),
    }


async def _late_arrivals(app: Any, client: Any) -> None:
    """A late event, a revocation and a rule version reaching back into November."""
    await feed(app, [LATE, revoked(STUDY)])
    assert (await client.post("/v1/rules", json=STUDY_RULE)).status_code == 201
    await feed(app, [logged("M2", "study", NOV.format(6))])


async def test_closed_figures_never_change_after_close(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    r = await client.post("/v1/periods/2026-11/close")
    assert r.status_code == 200, r.text
    closed = await _published(client)
    assert closed["m2"]["figures"] == "closed" and closed["m2"]["points"] == 11.0
    await _late_arrivals(app, client)
    assert await _published(client) == closed


async def test_live_figures_follow_late_arrivals_and_are_listed_as_adjustments(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    assert (await client.post("/v1/periods/2026-11/close")).status_code == 200
    await _late_arrivals(app, client)
    live = {"period": "2026-11", "figures": "live"}
    # M2: report 10 + the revoked study 0 + the late study by the new rule 4
    m2 = (await client.get("/v1/members/M2/points", params=live)).json()
    assert (m2["figures"], m2["points"]) == ("live", 14.0)
    adj = (await client.get("/v1/periods/2026-11/adjustments")).json()
    assert {m["member_id"]: m["delta"] for m in adj["members"]} == {"M2": 3.0, "M3": 5.0}
    assert [(e["change"], e["member_id"], e["id"]) for e in adj["events"]] == [
        ("event", "M3", LATE["id"]),
        ("revocation", "M2", STUDY["id"]),
        ("event", "M2", adj["events"][2]["id"]),
    ]
    assert [(r["activity_type"], r["note"]) for r in adj["rules"]] == [
        ("study", "study counts more")
    ]


async def test_reopening_needs_a_reason_and_is_kept_in_history(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    assert (await client.post("/v1/periods/2026-11/close")).status_code == 200
    assert (await client.post("/v1/periods/2026-11/close")).status_code == 409
    no_reason = await client.post("/v1/periods/2026-11/reopen", json={})
    assert no_reason.status_code == 422, no_reason.text
    blank = await client.post("/v1/periods/2026-11/reopen", json={"reason": "  "})
    assert blank.status_code == 422, blank.text
    r = await client.post("/v1/periods/2026-11/reopen", json={"reason": "late roll call"})
    assert r.status_code == 200, r.text
    # reopened: reads are live again, and it can be closed again
    pts = (await client.get("/v1/members/M2/points", params={"period": "2026-11"})).json()
    assert pts["figures"] == "live"
    assert (await client.post("/v1/periods/2026-11/close")).status_code == 200
    hist = (await client.get("/v1/periods/2026-11")).json()["history"]
    assert [(h["action"], h["reason"]) for h in hist] == [
        ("closed", None),
        ("reopened", "late roll call"),
        ("closed", None),
    ]
    assert all(h["by"] for h in hist)


async def test_closing_a_half_announces_the_close_and_the_feedback_per_organisation(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    r = await client.post("/v1/periods/2026-H2/close")
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["members"] == 3
    # the module's broker also holds earlier tests' closes: wait for this half's events
    [data] = await wait_until(lambda: _sent(scoring.bootstrap, PERIOD_CLOSED, 1))
    assert data["members"] == 3
    assert data["total_points"] == "61.00"  # 10 + 30, 10 + 1, 10
    # the period's summary is the figures announced, the total as the same text
    assert r.json()["summary"] == {k: v for k, v in data.items() if k in r.json()["summary"]}
    assert r.json()["summary"]["total_points"] == "61.00"
    feedback = await wait_until(lambda: _sent(scoring.bootstrap, FEEDBACK_ISSUED, 2))
    by_org = {d["party_org_id"]: d["total_points"] for d in feedback}
    assert by_org == {"ORG1": "51.00", "ORG2": "10.00"}


async def _sent(bootstrap: str, topic: str, count: int) -> list[dict] | None:
    """The data of the events about 2026-H2 on `topic`, once there are `count` of them."""
    records = await read_topic(bootstrap, topic, timeout=2)
    found = [json.loads(r.value)["data"] for r in records]
    found = [d for d in found if d["period"] == "2026-H2"]
    return found if len(found) >= count else None


async def test_a_members_record_adds_up_to_their_points(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    vol = [
        logged("M1", "volunteer_service", NOV.format(d), hours=h)
        for d, h in ((3, 15), (4, 10), (5, 1))
    ]
    await feed(app, CITY + [reported("M1", "C1", NOV.format(1)), *vol, revoked(vol[2])])
    rec = (await client.get("/v1/members/M1/record", params={"period": "2026-11"})).json()
    pts = (await client.get("/v1/members/M1/points", params={"period": "2026-11"})).json()
    assert rec["points"] == pts["points"] == 50.0
    assert sum(line["points"] for line in rec["lines"]) == 50.0
    assert [
        (ln["activity_type"], ln["raw_points"], ln["trimmed"], ln["points"], ln["revoked"])
        for ln in rec["lines"]
    ] == [
        ("member_reported", 10.0, 0.0, 10.0, False),
        ("volunteer_service", 30.0, 0.0, 30.0, False),
        ("volunteer_service", 20.0, 10.0, 10.0, False),  # the monthly cap of 40
        ("volunteer_service", 2.0, 0.0, 0.0, True),
    ]
    assert rec["lines"][1]["rule"]["monthly_cap"] == 40.0


async def test_a_members_record_says_by_what_and_why_an_entry_was_revoked(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    entry = logged("M1", "volunteer_service", NOV.format(3), hours=2)
    revocation = revoked(entry, reason="duplicate sign-in")
    await feed(app, CITY + [reported("M1", "C1", NOV.format(1)), entry, revocation])
    rec = (await client.get("/v1/members/M1/record", params={"period": "2026-11"})).json()
    [line] = [ln for ln in rec["lines"] if ln["activity_type"] == "volunteer_service"]
    assert (line["revoked"], line["points"]) == (True, 0.0)
    assert line["revoked_by"] == f"{revocation['source']} {revocation['id']}"
    assert line["revoked_reason"] == "duplicate sign-in"


async def test_boards_and_feedback_of_a_closed_period_read_its_closed_figures(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    assert (await client.post("/v1/periods/2026-11/close")).status_code == 200
    # M3 overtakes everyone after the close: 30 theme Party days
    await feed(app, [logged("M3", "theme_party_day", NOV.format(9)) for _ in range(30)])
    board = await client.post(
        "/v1/boards", json={"period": "2026-11", "subject": "communities", "size": 1}
    )
    assert [i["region_id"] for i in board.json()["red"]] == ["C1"]  # C2 leads live
    fb = await client.get(
        "/v1/reports/feedback", params={"party_org_id": "ORG2", "period": "2026-11"}
    )
    assert [(i["member_id"], i["points"]) for i in fb.json()["members"]] == [("M3", 10.0)]


async def test_the_periods_list_puts_the_closed_period_ending_latest_first(
    scoring: Scoring,
) -> None:
    """The ranking board opens on the first closed period of this list: the latest results
    published, whatever order the periods were closed in."""
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    for period in ("2026-11", "2026-09", "2026-10", "2026-08"):
        assert (await client.post(f"/v1/periods/{period}/close")).status_code == 200
    r = await client.post("/v1/periods/2026-10/reopen", json={"reason": "late roll call"})
    assert r.status_code == 200
    closed = (await client.get("/v1/periods", params={"status": "closed"})).json()
    assert [p["period"] for p in closed] == ["2026-11", "2026-09", "2026-08"]
    every = (await client.get("/v1/periods")).json()
    assert [p["period"] for p in every] == ["2026-11", "2026-10", "2026-09", "2026-08"]
    assert every[0]["ends_at"] == "2026-12-01T00:00:00+08:00"  # when December begins


async def test_of_a_year_and_its_last_month_the_periods_list_puts_the_year_first(
    scoring: Scoring,
) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, BEFORE)
    for period in ("2026", "2026-12"):
        assert (await client.post(f"/v1/periods/{period}/close")).status_code == 200
    closed = (await client.get("/v1/periods", params={"status": "closed"})).json()
    assert [p["period"] for p in closed] == ["2026", "2026-12"]
