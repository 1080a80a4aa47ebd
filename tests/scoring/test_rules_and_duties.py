"""Rules with a history and separation of duties on boards, through the HTTP API."""

from __future__ import annotations

from dev.testing import REVIEWER_TOKEN

from .helpers import logged, reported
from .once import Scoring
from .test_api import NOV, city, feed

CHECKER = {"Authorization": f"Bearer {REVIEWER_TOKEN}"}
RULE = {"activity_type": "study", "points": 2, "effective_from": "2026-11-01T00:00:00+08:00"}


async def test_a_rule_correction_is_kept_beside_the_version_it_corrects(scoring: Scoring) -> None:
    client = scoring.client
    assert (await client.post("/v1/rules", json=RULE | {"note": "more"})).status_code == 201
    # re-posting the same effective_from is a correction: it must say why
    silent = await client.post("/v1/rules", json=RULE | {"points": 3})
    assert silent.status_code == 422 and silent.json()["details"][0]["field"] == "note"
    fixed = await client.post(
        "/v1/rules", json=RULE | {"points": 3, "note": "typo"}, headers=CHECKER
    )
    assert fixed.status_code == 201, fixed.text
    history = (await client.get("/v1/rules/history", params={"activity_type": "study"})).json()
    assert [(h["points"], h["note"], h["created_by"], h["correction"]) for h in history] == [
        (1.0, "default", None, False),
        (2.0, "more", history[1]["created_by"], False),
        (3.0, "typo", "reviewer", True),
    ]
    assert history[1]["created_by"] and history[1]["created_by"] != "reviewer"


async def test_the_drafter_of_a_board_cannot_review_or_publish_it(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(
        app,
        city() + [reported("M1", "C1", NOV.format(1)), logged("M1", "study", NOV.format(2))],
    )
    bid = (
        await client.post("/v1/boards", json={"period": "2026-11", "subject": "members"})
    ).json()["board_id"]
    own_review = await client.post(f"/v1/boards/{bid}/review", json={"reviewer": "me"})
    assert own_review.status_code == 403 and own_review.json()["error"] == "same_author"
    review = await client.post(
        f"/v1/boards/{bid}/review", json={"reviewer": "王主任"}, headers=CHECKER
    )
    assert review.status_code == 200, review.text
    own_publish = await client.post(f"/v1/boards/{bid}/publish")
    assert own_publish.status_code == 403
    published = await client.post(f"/v1/boards/{bid}/publish", headers=CHECKER)
    assert published.json()["status"] == "published"
