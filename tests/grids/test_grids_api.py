"""Grid staff, coverage, visits and incidents through the HTTP API with a real database and
broker: a visit by a member yields a valid activity.logged on the broker, every incident
transition is an event, invalid transitions are 409 with a JSON body, the incident gauges
follow, and overdue incidents are flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dev.testing import read_topic, running_app
from services.grids.main import create_app
from shared.events import ACTIVITY_LOGGED, ActivityLogged, parse_envelope, validate_data
from shared.events.grids import (
    GRID_STAFF_ASSIGNED,
    GRID_STAFF_REMOVED,
    INCIDENT_ASSIGNED,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    INCIDENT_OVERDUE,
    INCIDENT_RESOLVED,
    INCIDENT_SUPERVISED,
    VISIT_LOGGED,
    GridStaffAssigned,
)

TREE = """region_id,level,name,parent_id
D1,district,思明区,
S1,street,中华街道,D1
C1,community,开元社区,S1
G1,grid,第一网格,C1
G2,grid,第二网格,C1
B1,building,1号楼,G1
"""


def _gauge(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


async def test_staff_coverage_and_member_visit(settings_for, kafka) -> None:
    app = create_app(settings_for("grids"))
    async with running_app(app) as client:
        r = await client.post(
            "/v1/regions/import", content=TREE.encode(), headers={"Content-Type": "text/csv"}
        )
        assert r.status_code == 200, r.text

        cov = (await client.get("/v1/grids/coverage")).json()
        assert cov["grids"] == 2 and cov["complete"] == 0
        assert {g["grid_id"]: g["missing"] for g in cov["gaps"]} == {
            "G1": ["leader", "worker", "branch"],
            "G2": ["leader", "worker", "branch"],
        }

        put = client.put
        assert (
            await put("/v1/grids/G1/staff/P1", json={"role": "leader", "name": "张三"})
        ).status_code == 200
        assert (
            await put(
                "/v1/grids/G1/staff/P2",
                json={"role": "worker", "name": "李四", "member_id": "M100"},
            )
        ).status_code == 200
        assert (
            await put("/v1/grids/G1/staff/P3", json={"role": "worker", "name": "王五"})
        ).status_code == 200
        hc = await put(
            "/v1/grids/G1/staff/P4",
            json={
                "role": "household_contact",
                "name": "赵六",
                "member_id": "M101",
                "building_id": "B1",
            },
        )
        assert hc.status_code == 200, hc.text
        # household contact must be a member, and its building must be of this grid
        no_member = await put(
            "/v1/grids/G1/staff/P5", json={"role": "household_contact", "name": "x"}
        )
        assert no_member.status_code == 422 and no_member.json()["error"] == "member_required"
        wrong_b = await put(
            "/v1/grids/G2/staff/P5",
            json={"role": "household_contact", "name": "x", "member_id": "M9", "building_id": "B1"},
        )
        assert wrong_b.status_code == 422
        not_grid = await put("/v1/grids/C1/staff/P5", json={"role": "worker", "name": "x"})
        assert not_grid.status_code == 422 and not_grid.json()["error"] == "not_a_grid"
        assert (
            await put(
                "/v1/grids/G1/branch", json={"party_org_id": "PO-G1", "name": "第一网格党支部"}
            )
        ).status_code == 200
        # a second leader replaces the first (one leader per grid)
        assert (
            await put("/v1/grids/G1/staff/P6", json={"role": "leader", "name": "钱七"})
        ).status_code == 200
        grid = (await client.get("/v1/grids/G1")).json()
        assert grid["leader"]["staff_id"] == "P6"
        assert [w["staff_id"] for w in grid["workers"]] == ["P2", "P3"]
        assert grid["household_contacts"][0]["building_id"] == "B1"
        assert grid["branch"]["party_org_id"] == "PO-G1"
        cov = (await client.get("/v1/grids/coverage", params={"within": "S1"})).json()
        assert [(g["grid_id"], g["missing"]) for g in cov["gaps"]] == [
            ("G2", ["leader", "worker", "branch"])
        ]
        assert cov["complete"] == 1

        # visits: by a member worker (counts for scoring) and by a non-member worker
        v1 = await client.post(
            "/v1/grids/G1/visits",
            json={
                "staff_id": "P2",
                "households": 3,
                "duration_minutes": 45,
                "notes": "独居老人需要助餐",
                "visit_id": "visit-1",
            },
        )
        assert v1.status_code == 201, v1.text
        assert v1.json()["counts_for_scoring"] is True
        v2 = await client.post(
            "/v1/grids/G1/visits", json={"staff_id": "P3", "households": 1, "duration_minutes": 10}
        )
        assert v2.status_code == 201 and v2.json()["counts_for_scoring"] is False
        again = await client.post(
            "/v1/grids/G1/visits",
            json={"staff_id": "P2", "households": 3, "duration_minutes": 45, "visit_id": "visit-1"},
        )
        assert again.status_code == 409
        stranger = await client.post(
            "/v1/grids/G1/visits", json={"staff_id": "P9", "households": 1, "duration_minutes": 10}
        )
        assert stranger.status_code == 422 and stranger.json()["error"] == "not_grid_staff"
        zero = await client.post(
            "/v1/grids/G1/visits", json={"staff_id": "P2", "households": 0, "duration_minutes": 10}
        )
        assert zero.status_code == 422
        listed = (await client.get("/v1/grids/G1/visits")).json()["items"]
        assert len(listed) == 2

        activities = await read_topic(kafka.bootstrap, ACTIVITY_LOGGED, min_count=1, timeout=10)
        assert len(activities) == 1
        event = parse_envelope(activities[0].value)
        data = validate_data(event, ACTIVITY_LOGGED)
        assert isinstance(data, ActivityLogged)
        assert data.member_id == "M100" and data.activity_type.value == "grid_visit"
        assert data.activity_id == "visit-1" and data.community_id == "C1"
        assert activities[0].key == b"M100" and event.subject == "M100"
        visits = await read_topic(kafka.bootstrap, VISIT_LOGGED, min_count=2, timeout=10)
        assert len(visits) == 2
        assert all("notes" not in parse_envelope(v.value).data for v in visits)
        staff_events = await read_topic(kafka.bootstrap, GRID_STAFF_ASSIGNED, min_count=5)
        assert len(staff_events) == 5
        first = validate_data(parse_envelope(staff_events[0].value), GRID_STAFF_ASSIGNED)
        assert isinstance(first, GridStaffAssigned)
        removed = await read_topic(kafka.bootstrap, GRID_STAFF_REMOVED, min_count=1)
        assert parse_envelope(removed[0].value).data["staff_id"] == "P1"


async def test_incident_lifecycle_events_metrics_and_overdue(settings_for, kafka) -> None:
    app = create_app(settings_for("grids"), refresh_seconds=0.2)
    async with running_app(app) as client:
        await client.post(
            "/v1/regions/import", content=TREE.encode(), headers={"Content-Type": "text/csv"}
        )
        await client.put("/v1/grids/G1/staff/W1", json={"role": "worker", "name": "李四"})

        opened = await client.post(
            "/v1/grids/G1/incidents",
            json={"category": "sanitation", "title": "垃圾堆放", "time_limit_hours": 24},
        )
        assert opened.status_code == 201, opened.text
        inc = opened.json()["incident_id"]
        assert opened.json()["status"] == "open"
        metrics = (await client.get("/metrics")).text
        assert _gauge(metrics, "partygrid_grids_incidents_open") == 1
        assert _gauge(metrics, "partygrid_grids_incidents_overdue") == 0

        # invalid transitions: 409 with a JSON body saying why
        early = await client.post(f"/v1/incidents/{inc}/resolve", json={"resolution": "x"})
        assert early.status_code == 409
        body = early.json()
        assert body["error"] == "invalid_transition" and "open" in body["message"]
        assert body["details"][0]["current_status"] == "open"
        outsider = await client.post(f"/v1/incidents/{inc}/assign", json={"assignee_id": "X"})
        assert outsider.status_code == 422

        assert (
            await client.post(f"/v1/incidents/{inc}/assign", json={"assignee_id": "W1"})
        ).json()["status"] == "assigned"
        sup = await client.post(f"/v1/incidents/{inc}/supervise", json={"note": "限期办结"})
        assert sup.status_code == 200 and sup.json()["supervised"] is True
        twice = await client.post(f"/v1/incidents/{inc}/supervise", json={"note": "again"})
        assert twice.status_code == 409
        res = await client.post(f"/v1/incidents/{inc}/resolve", json={"resolution": "已清理"})
        assert res.json()["status"] == "resolved"
        closed = await client.post(f"/v1/incidents/{inc}/close", json={})
        assert closed.json()["status"] == "closed"
        reopen = await client.post(f"/v1/incidents/{inc}/assign", json={"assignee_id": "W1"})
        assert reopen.status_code == 409
        missing = await client.post("/v1/incidents/nope/close", json={})
        assert missing.status_code == 404

        # one reported two hours ago with a one-hour limit: overdue, flagged with an event
        past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        late = await client.post(
            "/v1/grids/G1/incidents",
            json={
                "category": "facilities",
                "title": "路灯不亮",
                "time_limit_hours": 1,
                "reported_at": past,
            },
        )
        late_id = late.json()["incident_id"]
        assert late.json()["overdue"] is True
        listed = (await client.get("/v1/incidents", params={"overdue": "true"})).json()["items"]
        assert [i["incident_id"] for i in listed] == [late_id]
        metrics = (await client.get("/metrics")).text
        assert _gauge(metrics, "partygrid_grids_incidents_open") == 1
        assert _gauge(metrics, "partygrid_grids_incidents_overdue") == 1
        flagged = await read_topic(kafka.bootstrap, INCIDENT_OVERDUE, min_count=1)
        assert [parse_envelope(f.value).subject for f in flagged] == [late_id]

        for topic in (
            INCIDENT_OPENED,
            INCIDENT_ASSIGNED,
            INCIDENT_SUPERVISED,
            INCIDENT_RESOLVED,
            INCIDENT_CLOSED,
        ):
            records = await read_topic(kafka.bootstrap, topic, min_count=1)
            events = [parse_envelope(r.value) for r in records]
            assert inc in {e.subject for e in events}, topic
            for e in events:
                validate_data(e, topic)
