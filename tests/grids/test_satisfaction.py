"""Residents' satisfaction with incidents through the HTTP API, the real database and broker:
a closed incident is rated once (1-5), an open one not at all; figures per grid, community and
street add up; each rating is one satisfaction.rated (without the comment) and the street's
gauge follows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from dev.testing import read_topic, running_app
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


async def test_closed_incidents_are_rated_once_and_summed_per_region(settings_for, kafka) -> None:
    app = create_app(settings_for("grids"))
    async with running_app(app) as client:
        r = await client.post(
            "/v1/regions/import", content=TREE.encode(), headers={"Content-Type": "text/csv"}
        )
        assert r.status_code == 200, r.text

        # an incident still open cannot be rated; bad scores are refused with what is accepted
        r = await client.post(
            "/v1/grids/G1/incidents",
            json={"category": "sanitation", "title": "open one", "time_limit_hours": 24},
        )
        still_open = r.json()["incident_id"]
        r = await client.post(f"/v1/incidents/{still_open}/rating", json={"score": 5})
        assert (r.status_code, r.json()["error"]) == (409, "not_ratable")
        for bad in ({"score": 0}, {"score": 6}, {"score": "good"}, {}):
            r = await client.post(f"/v1/incidents/{still_open}/rating", json=bad)
            assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), bad
        r = await client.post("/v1/incidents/nope/rating", json={"score": 3})
        assert r.status_code == 404

        scores = {"G1": [5, 4], "G2": [2], "G3": [3], "G4": [1]}
        for grid, grid_scores in scores.items():
            for score in grid_scores:
                inc = await closed_incident(client, grid)
                r = await client.post(
                    f"/v1/incidents/{inc}/rating", json={"score": score, "comment": "及时"}
                )
                assert r.status_code == 201 and r.json()["region_id"] == grid, r.text
        r = await client.post(f"/v1/incidents/{inc}/rating", json={"score": 5})
        assert (r.status_code, r.json()["error"]) == (409, "already_rated")

        grids = (await client.get("/v1/satisfaction/incidents?level=grid")).json()
        assert by_region(grids) == {
            "G1": (2, Decimal("4.5")),
            "G2": (1, Decimal(2)),
            "G3": (1, Decimal(3)),
            "G4": (1, Decimal(1)),
        }
        assert grids["items"][0]["by_score"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
        assert Decimal(str(grids["items"][0]["satisfied_share"])) == 1
        communities = (await client.get("/v1/satisfaction/incidents?level=community")).json()
        assert by_region(communities) == {
            "C1": (3, Decimal("3.67")),
            "C2": (1, Decimal(3)),
            "C3": (1, Decimal(1)),
        }
        streets = await client.get("/v1/satisfaction/incidents?level=street&within=S1")
        assert by_region(streets.json()) == {"S1": (4, Decimal("3.5"))}

        metrics = (await client.get("/metrics")).text
        assert 'partygrid_grids_satisfaction_average{street="S1"} 3.5' in metrics
        assert 'partygrid_grids_satisfaction_ratings{street="S2"} 1.0' in metrics

        records = await read_topic(kafka.bootstrap, SATISFACTION_RATED, min_count=5)
        assert len(records) == 5
        assert all(b"comment" not in r.value and "及时".encode() not in r.value for r in records)
