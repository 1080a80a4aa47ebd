"""Residents' satisfaction with incidents through the HTTP API, the real database and broker:
a closed incident is rated once (1-5), an open one not at all; figures per grid, community and
street add up; each rating is one satisfaction.rated (without the comment) and the street's
gauge follows.

One running service for the module, with its ratings given once by the fixture; the tests read
them and refuse further ones, so they do not depend on each other's order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import read_topic, running_app, settings_for_test
from services.grids.main import create_app
from shared.events.satisfaction import SATISFACTION_RATED

TREE = """region_id,level,name,parent_id
D1,district,思明区,
S1,street,中华街道,D1
S2,street,鹭江街道,D1
C1,community,开元社区,S1
C2,community,溪岸社区,S1
C3,community,海岸社区,S2
G1,grid,第一网格,C1
G2,grid,第二网格,C1
G3,grid,第三网格,C2
G4,grid,第四网格,C3
"""


async def closed_incident(client: httpx.AsyncClient, grid: str) -> str:
    r = await client.post(
        f"/v1/grids/{grid}/incidents",
        json={"category": "sanitation", "title": "垃圾堆放", "time_limit_hours": 24},
    )
    inc = r.json()["incident_id"]
    await client.put(f"/v1/grids/{grid}/staff/W-{grid}", json={"role": "worker", "name": "李四"})
    await client.post(f"/v1/incidents/{inc}/assign", json={"assignee_id": f"W-{grid}"})
    await client.post(f"/v1/incidents/{inc}/resolve", json={"resolution": "已清理"})
    assert (await client.post(f"/v1/incidents/{inc}/close", json={})).status_code == 200
    return str(inc)


def by_region(body: dict[str, Any]) -> dict[str, tuple[int, Decimal]]:
    return {i["region_id"]: (i["ratings"], Decimal(str(i["average"]))) for i in body["items"]}


SCORES = {"G1": [5, 4], "G2": [2], "G3": [3], "G4": [1]}


@dataclass
class Rated:
    client: httpx.AsyncClient
    bootstrap: str
    answers: list[tuple[str, httpx.Response]]  # (grid, answer) of each rating given
    last: str  # the last incident rated


@pytest.fixture(scope="module")
async def rated(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Rated]:
    """A service whose closed incidents were rated: SCORES per grid, each with a comment."""
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = settings_for_test(pg_server.url, broker.bootstrap, "grids")
    try:
        async with running_app(create_app(settings)) as client:
            r = await client.post(
                "/v1/regions/import", content=TREE.encode(), headers={"Content-Type": "text/csv"}
            )
            assert r.status_code == 200, r.text
            answers = []
            for grid, grid_scores in SCORES.items():
                for score in grid_scores:
                    inc = await closed_incident(client, grid)
                    answer = await client.post(
                        f"/v1/incidents/{inc}/rating", json={"score": score, "comment": "及时"}
                    )
                    answers.append((grid, answer))
            yield Rated(client, broker.bootstrap, answers, inc)
    finally:
        broker.stop()


async def open_incident(client: httpx.AsyncClient) -> str:
    r = await client.post(
        "/v1/grids/G1/incidents",
        json={"category": "sanitation", "title": "open one", "time_limit_hours": 24},
    )
    return str(r.json()["incident_id"])


async def test_a_closed_incident_is_rated_for_its_grid(rated: Rated) -> None:
    for grid, r in rated.answers:
        assert r.status_code == 201 and r.json()["region_id"] == grid, r.text


async def test_an_incident_still_open_is_not_ratable(rated: Rated) -> None:
    still_open = await open_incident(rated.client)
    r = await rated.client.post(f"/v1/incidents/{still_open}/rating", json={"score": 5})
    assert (r.status_code, r.json()["error"]) == (409, "not_ratable")


async def test_a_score_other_than_1_to_5_is_invalid(rated: Rated) -> None:
    still_open = await open_incident(rated.client)
    for bad in ({"score": 0}, {"score": 6}, {"score": "good"}, {}):
        r = await rated.client.post(f"/v1/incidents/{still_open}/rating", json=bad)
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), bad


async def test_a_read_only_token_may_not_rate(rated: Rated) -> None:
    still_open = await open_incident(rated.client)
    r = await rated.client.post(
        f"/v1/incidents/{still_open}/rating",
        json={"score": 5},
        headers={"Authorization": "Bearer test-readonly-token-00001"},
    )
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")


async def test_an_unknown_incident_is_not_found(rated: Rated) -> None:
    r = await rated.client.post("/v1/incidents/nope/rating", json={"score": 3})
    assert r.status_code == 404


async def test_an_incident_is_rated_once(rated: Rated) -> None:
    r = await rated.client.post(f"/v1/incidents/{rated.last}/rating", json={"score": 5})
    assert (r.status_code, r.json()["error"]) == (409, "already_rated")


async def test_each_grid_has_its_count_average_and_scores(rated: Rated) -> None:
    grids = (await rated.client.get("/v1/satisfaction/incidents?level=grid")).json()
    assert by_region(grids) == {
        "G1": (2, Decimal("4.5")),
        "G2": (1, Decimal(2)),
        "G3": (1, Decimal(3)),
        "G4": (1, Decimal(1)),
    }
    assert grids["items"][0]["by_score"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert Decimal(str(grids["items"][0]["satisfied_share"])) == 1


async def test_a_community_sums_its_grids(rated: Rated) -> None:
    communities = (await rated.client.get("/v1/satisfaction/incidents?level=community")).json()
    assert by_region(communities) == {
        "C1": (3, Decimal("3.67")),
        "C2": (1, Decimal(3)),
        "C3": (1, Decimal(1)),
    }


async def test_a_street_sums_its_communities_within_the_region_asked(rated: Rated) -> None:
    streets = await rated.client.get("/v1/satisfaction/incidents?level=street&within=S1")
    assert by_region(streets.json()) == {"S1": (4, Decimal("3.5"))}


async def test_the_street_gauges_follow_the_ratings(rated: Rated) -> None:
    metrics = (await rated.client.get("/metrics")).text
    assert 'partygrid_grids_satisfaction_average{street="S1"} 3.5' in metrics
    assert 'partygrid_grids_satisfaction_ratings{street="S2"} 1.0' in metrics


async def test_each_rating_is_one_satisfaction_rated_without_the_comment(rated: Rated) -> None:
    records = await read_topic(rated.bootstrap, SATISFACTION_RATED, min_count=5)
    assert len(records) == 5
    assert all(b"comment" not in r.value and "及时".encode() not in r.value for r in records)
