"""Overdue incidents are counted per community on /metrics, so an alert names the community
that must act; a community whose overdue incidents are handled drops out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from dev.testing import running_app
from services.grids.main import create_app

TREE = """region_id,level,name,parent_id
D1,district,思明区,
S1,street,中华街道,D1
C1,community,开元社区,S1
C2,community,鹭江社区,S1
G1,grid,第一网格,C1
G2,grid,第二网格,C1
G3,grid,第三网格,C2
"""


def overdue_by_community(text: str) -> dict[str, float]:
    return {
        s.labels["community"]: s.value
        for family in text_string_to_metric_families(text)
        if family.name == "partygrid_grids_incidents_overdue_by_community"
        for s in family.samples
    }


async def test_overdue_incidents_are_counted_per_community(settings_for) -> None:
    app = create_app(settings_for("grids"), refresh_seconds=0.2)
    past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    async with running_app(app) as client:
        imported = await client.post(
            "/v1/regions/import", content=TREE.encode(), headers={"Content-Type": "text/csv"}
        )
        assert imported.status_code < 300, imported.text
        await client.put("/v1/grids/G3/staff/W3", json={"role": "worker", "name": "王五"})
        ids = {}
        for grid, hours in (("G1", 1), ("G2", 1), ("G3", 1), ("G1", 48)):
            r = await client.post(
                f"/v1/grids/{grid}/incidents",
                json={"category": "sanitation", "title": "垃圾堆放", "time_limit_hours": hours,
                      "reported_at": past},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            ids.setdefault(grid, r.json()["incident_id"])
        # G1 and G2 belong to C1 (the 48-hour one is not overdue), G3 to C2
        text = (await client.get("/metrics")).text
        assert overdue_by_community(text) == {"C1": 2.0, "C2": 1.0}

        inc = ids["G3"]
        assert (
            await client.post(f"/v1/incidents/{inc}/assign", json={"assignee_id": "W3"})
        ).status_code == 200
        resolved = await client.post(f"/v1/incidents/{inc}/resolve", json={"resolution": "已清理"})
        assert resolved.status_code == 200, resolved.text
        text = (await client.get("/metrics")).text
        assert overdue_by_community(text) == {"C1": 2.0}
