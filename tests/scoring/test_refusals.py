"""What the scoring API refuses, and how it answers: each refusal a use case raises reaches the
client as one JSON error with its status and code (docs/design.md §4.10)."""

from __future__ import annotations

from typing import Any

from dev.testing import REVIEWER_TOKEN

from .helpers import logged, reported
from .once import Scoring
from .test_api import NOV, city, feed

CHECKER = {"Authorization": f"Bearer {REVIEWER_TOKEN}"}


def _refused(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    return str(body["message"])


async def test_a_period_never_closed_has_no_adjustments(scoring: Scoring) -> None:
    r = await scoring.client.get("/v1/periods/2026-11/adjustments")
    assert "never been closed" in _refused(r, 409, "not_closed")


async def test_only_a_closed_period_can_be_reopened(scoring: Scoring) -> None:
    r = await scoring.client.post("/v1/periods/2026-11/reopen", json={"reason": "a mistake"})
    assert "2026-11" in _refused(r, 409, "not_closed")


async def test_a_board_is_published_only_after_its_review(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, city() + [reported("M1", "C1", NOV.format(1))])
    bid = (
        await client.post("/v1/boards", json={"period": "2026-11", "subject": "members"})
    ).json()["board_id"]
    r = await client.post(f"/v1/boards/{bid}/publish", headers=CHECKER)
    assert "needs a reviewed board" in _refused(r, 409, "invalid_state")


async def test_a_published_board_is_never_reviewed_again(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(app, city() + [logged("M1", "study", NOV.format(2))])
    bid = (
        await client.post("/v1/boards", json={"period": "2026-11", "subject": "members"})
    ).json()["board_id"]
    await client.post(f"/v1/boards/{bid}/review", json={"reviewer": "王主任"}, headers=CHECKER)
    assert (await client.post(f"/v1/boards/{bid}/publish", headers=CHECKER)).status_code == 200
    again = await client.post(
        f"/v1/boards/{bid}/review", json={"reviewer": "王主任"}, headers=CHECKER
    )
    assert "immutable" in _refused(again, 409, "invalid_state")


async def test_an_unknown_board_is_not_found(scoring: Scoring) -> None:
    client = scoring.client
    _refused(await client.get("/v1/boards/999"), 404, "not_found")
    r = await client.post("/v1/boards/999/review", json={"reviewer": "王主任"}, headers=CHECKER)
    assert "999" in _refused(r, 404, "not_found")


async def test_the_record_of_a_member_never_heard_of_is_not_found(scoring: Scoring) -> None:
    r = await scoring.client.get("/v1/members/NOBODY/record", params={"period": "2026-11"})
    assert "NOBODY" in _refused(r, 404, "not_found")


async def test_a_talk_with_a_member_never_heard_of_is_not_found(scoring: Scoring) -> None:
    talk = {
        "member_id": "NOBODY",
        "period": "2026-11",
        "kind": "heart_to_heart",
        "held_on": "2026-11-20",
    }
    r = await scoring.client.post("/v1/followups", json=talk)
    assert "NOBODY" in _refused(r, 404, "not_found")


async def test_closed_figures_of_a_period_never_closed_are_refused(scoring: Scoring) -> None:
    r = await scoring.client.get(
        "/v1/rankings/members", params={"period": "2026-11", "figures": "closed"}
    )
    assert "only live figures" in _refused(r, 409, "not_closed")
    assert r.json()["details"] == [
        {"field": "figures", "rule": "figures=live, or close the period first"}
    ]
