"""Rules with a history and separation of duties on boards, through the HTTP API."""

from __future__ import annotations

import asyncpg
import pytest

from dev.testing import REVIEWER_TOKEN

from .helpers import logged, reported
from .once import Scoring
from .test_api import NOV, city, feed

CHECKER = {"Authorization": f"Bearer {REVIEWER_TOKEN}"}
RULE = {"activity_type": "study", "points": 2, "effective_from": "2026-11-01T00:00:00+08:00"}


async def _history(scoring: Scoring) -> list[dict]:
    return (await scoring.client.get("/v1/rules/history", params={"activity_type": "study"})).json()


async def test_a_rule_correction_must_say_why(scoring: Scoring) -> None:
    client = scoring.client
    assert (await client.post("/v1/rules", json=RULE | {"note": "more"})).status_code == 201
    silent = await client.post("/v1/rules", json=RULE | {"points": 3})
    assert silent.status_code == 422 and silent.json()["details"][0]["field"] == "note"
    assert [h["points"] for h in await _history(scoring)] == [1.0, 2.0]


async def test_a_correction_is_a_new_revision_naming_the_one_it_corrects(
    scoring: Scoring,
) -> None:
    client = scoring.client
    assert (await client.post("/v1/rules", json=RULE | {"note": "more"})).status_code == 201
    fixed = await client.post(
        "/v1/rules", json=RULE | {"points": 3, "note": "typo"}, headers=CHECKER
    )
    assert fixed.status_code == 201, fixed.text
    default, original, correction = await _history(scoring)
    assert [(h["points"], h["note"], h["correction"]) for h in (default, original, correction)] == [
        (1.0, "default", False),
        (2.0, "more", False),
        (3.0, "typo", True),
    ]
    assert correction["corrects"] == original["revision_id"]
    assert original["corrected_by"] == correction["revision_id"]
    assert [h["in_force"] for h in (default, original, correction)] == [True, False, True]


async def test_each_revision_shows_who_made_it(scoring: Scoring) -> None:
    client = scoring.client
    await client.post("/v1/rules", json=RULE | {"note": "more"})
    await client.post("/v1/rules", json=RULE | {"points": 3, "note": "typo"}, headers=CHECKER)
    default, original, correction = await _history(scoring)
    assert default["created_by"] is None
    assert original["created_by"] and original["created_by"] != "reviewer"
    assert correction["created_by"] == "reviewer"


async def test_a_corrected_version_no_longer_scores(scoring: Scoring) -> None:
    app, client = scoring.app, scoring.client
    await feed(
        app,
        city() + [reported("M1", "C1", NOV.format(1)), logged("M1", "study", NOV.format(2))],
    )
    await client.post("/v1/rules", json=RULE | {"note": "more"})
    await client.post("/v1/rules", json=RULE | {"points": 3, "note": "typo"}, headers=CHECKER)
    points = await client.get("/v1/members/M1/points", params={"period": "2026-11"})
    assert points.json()["by_type"]["study"] == 3.0
    versions = (await client.get("/v1/rules")).json()["versions"]
    assert [v["points"] for v in versions if v["activity_type"] == "study"] == [1.0, 3.0]


async def test_rule_revisions_can_be_neither_updated_nor_deleted(scoring: Scoring) -> None:
    await scoring.client.post("/v1/rules", json=RULE | {"note": "more"})
    pool = scoring.app.state.runtime.pool
    for statement in (
        "UPDATE rule_revisions SET points = 9 WHERE note = 'more'",
        "DELETE FROM rule_revisions WHERE note = 'more'",
        "TRUNCATE rule_revisions CASCADE",
    ):
        with pytest.raises(asyncpg.RestrictViolationError):
            await pool.execute(statement)
    assert [h["points"] for h in await _history(scoring)] == [1.0, 2.0]


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
