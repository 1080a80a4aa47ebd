"""Grid staff, coverage, visits and incidents through the HTTP API with a real database and
broker: a visit by a member yields a valid activity.logged on the broker, every incident
transition is an event, invalid transitions are 409 with a JSON body, the incident gauges
follow, and overdue incidents are flagged.

One running service for the module (the periodic refresh every 0.2 s); each test that changes
something works on a community and grid of its own, so the tests do not depend on each other."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import read_topic, running_app, settings_for_test, wait_until
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
CSV = {"Content-Type": "text/csv"}


@dataclass
class Grids:
    client: httpx.AsyncClient
    bootstrap: str


class Own(NamedTuple):
    """A test's own community with two grids and a building of the first."""

    community: str
    grid: str
    grid2: str
    building: str


@pytest.fixture(scope="module")
async def grids(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Grids]:
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = settings_for_test(pg_server.url, broker.bootstrap, "grids")
    try:
        async with running_app(create_app(settings, refresh_seconds=0.2)) as client:
            r = await client.post("/v1/regions/import", content=TREE.encode(), headers=CSV)
            assert r.status_code == 200, r.text
            yield Grids(client, broker.bootstrap)
    finally:
        broker.stop()


async def own_grids(client: httpx.AsyncClient) -> Own:
    c = f"C{uuid.uuid4().hex[:8]}"
    own = Own(c, f"{c}-G1", f"{c}-G2", f"{c}-B1")
    text = (
        "region_id,level,name,parent_id\n"
        f"{own.community},community,c,S1\n{own.grid},grid,g1,{c}\n{own.grid2},grid,g2,{c}\n"
        f"{own.building},building,b,{own.grid}\n"
    )
    r = await client.post("/v1/regions/import", content=text.encode(), headers=CSV)
    assert r.status_code == 200, r.text
    return own


async def put_staff(client: httpx.AsyncClient, grid: str, staff: str, **body: Any) -> None:
    r = await client.put(f"/v1/grids/{grid}/staff/{staff}", json=body)
    assert r.status_code == 200, r.text


async def topic_about(bootstrap: str, topic: str, subject: str, at_least: int = 1) -> list[Any]:
    """The records of `topic` whose event is about `subject`, once `at_least` have arrived."""

    async def probe() -> list[Any]:
        records = await read_topic(bootstrap, topic, min_count=1, timeout=5)
        about = [r for r in records if parse_envelope(r.value).subject == subject]
        return about if len(about) >= at_least else []

    return await wait_until(probe)


def _gauge(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


async def gauges(client: httpx.AsyncClient) -> tuple[float, float]:
    text = (await client.get("/metrics")).text
    return (
        _gauge(text, "partygrid_grids_incidents_open"),
        _gauge(text, "partygrid_grids_incidents_overdue"),
    )


# --- coverage and staff ------------------------------------------------------------------


async def test_coverage_lists_what_each_grid_lacks(grids: Grids) -> None:
    own = await own_grids(grids.client)
    cov = (await grids.client.get("/v1/grids/coverage", params={"within": own.community})).json()
    assert cov["grids"] == 2 and cov["complete"] == 0
    assert {g["grid_id"]: g["missing"] for g in cov["gaps"]} == {
        own.grid: ["leader", "worker", "branch"],
        own.grid2: ["leader", "worker", "branch"],
    }


async def test_a_grid_with_a_leader_a_worker_and_a_branch_is_complete(grids: Grids) -> None:
    own = await own_grids(grids.client)
    await put_staff(grids.client, own.grid, "P1", role="leader", name="张三")
    await put_staff(grids.client, own.grid, "P2", role="worker", name="李四")
    branch = await grids.client.put(
        f"/v1/grids/{own.grid}/branch", json={"party_org_id": "PO-G1", "name": "第一网格党支部"}
    )
    assert branch.status_code == 200
    cov = (await grids.client.get("/v1/grids/coverage", params={"within": own.community})).json()
    assert [(g["grid_id"], g["missing"]) for g in cov["gaps"]] == [
        (own.grid2, ["leader", "worker", "branch"])
    ]
    assert cov["complete"] == 1


async def test_a_household_contact_must_be_a_member(grids: Grids) -> None:
    no_member = await grids.client.put(
        "/v1/grids/G1/staff/P5", json={"role": "household_contact", "name": "x"}
    )
    assert no_member.status_code == 422 and no_member.json()["error"] == "member_required"


async def test_a_household_contacts_building_must_be_of_the_grid(grids: Grids) -> None:
    wrong_b = await grids.client.put(
        "/v1/grids/G2/staff/P5",
        json={"role": "household_contact", "name": "x", "member_id": "M9", "building_id": "B1"},
    )
    assert wrong_b.status_code == 422


async def test_staff_serve_grids_only(grids: Grids) -> None:
    not_grid = await grids.client.put("/v1/grids/C1/staff/P5", json={"role": "worker", "name": "x"})
    assert not_grid.status_code == 422 and not_grid.json()["error"] == "not_a_grid"


async def test_a_grid_shows_its_workers_household_contacts_and_branch(grids: Grids) -> None:
    own = await own_grids(grids.client)
    await put_staff(grids.client, own.grid, "P2", role="worker", name="李四", member_id="M100")
    await put_staff(grids.client, own.grid, "P3", role="worker", name="王五")
    await put_staff(
        grids.client,
        own.grid,
        "P4",
        role="household_contact",
        name="赵六",
        member_id="M101",
        building_id=own.building,
    )
    await grids.client.put(
        f"/v1/grids/{own.grid}/branch", json={"party_org_id": "PO-G1", "name": "第一网格党支部"}
    )
    grid = (await grids.client.get(f"/v1/grids/{own.grid}")).json()
    assert [w["staff_id"] for w in grid["workers"]] == ["P2", "P3"]
    assert grid["household_contacts"][0]["building_id"] == own.building
    assert grid["branch"]["party_org_id"] == "PO-G1"


async def test_a_new_leader_replaces_the_old_one(grids: Grids) -> None:
    own = await own_grids(grids.client)
    await put_staff(grids.client, own.grid, "P1", role="leader", name="张三")
    await put_staff(grids.client, own.grid, "P6", role="leader", name="钱七")
    grid = (await grids.client.get(f"/v1/grids/{own.grid}")).json()
    assert grid["leader"]["staff_id"] == "P6"
    removed = await topic_about(grids.bootstrap, GRID_STAFF_REMOVED, own.grid)
    assert [parse_envelope(r.value).data["staff_id"] for r in removed] == ["P1"]


async def test_each_assignment_is_published_as_a_valid_grid_staff_assigned(grids: Grids) -> None:
    own = await own_grids(grids.client)
    await put_staff(grids.client, own.grid, "P1", role="leader", name="张三")
    await put_staff(grids.client, own.grid, "P2", role="worker", name="李四", member_id="M1")
    records = await topic_about(grids.bootstrap, GRID_STAFF_ASSIGNED, own.grid, at_least=2)
    assert len(records) == 2
    datas = [validate_data(parse_envelope(r.value), GRID_STAFF_ASSIGNED) for r in records]
    assert all(isinstance(d, GridStaffAssigned) for d in datas)
    assert [d.staff_id for d in datas] == ["P1", "P2"]


# --- visits ------------------------------------------------------------------------------


async def grid_with_workers(client: httpx.AsyncClient) -> Own:
    """A grid of its own with a member worker (P2, member M-<community>) and a non-member
    worker (P3)."""
    own = await own_grids(client)
    await put_staff(
        client, own.grid, "P2", role="worker", name="李四", member_id=f"M-{own.community}"
    )
    await put_staff(client, own.grid, "P3", role="worker", name="王五")
    return own


async def visit(client: httpx.AsyncClient, grid: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/grids/{grid}/visits", json=body)


async def test_a_visit_by_a_member_counts_for_scoring(grids: Grids) -> None:
    own = await grid_with_workers(grids.client)
    v = await visit(grids.client, own.grid, staff_id="P2", households=3, duration_minutes=45)
    assert v.status_code == 201, v.text
    assert v.json()["counts_for_scoring"] is True


async def test_a_visit_by_a_non_member_does_not_count(grids: Grids) -> None:
    own = await grid_with_workers(grids.client)
    v = await visit(grids.client, own.grid, staff_id="P3", households=1, duration_minutes=10)
    assert v.status_code == 201 and v.json()["counts_for_scoring"] is False


async def test_a_visit_by_a_member_is_published_as_activity_logged_grid_visit(
    grids: Grids,
) -> None:
    own = await grid_with_workers(grids.client)
    member = f"M-{own.community}"
    # the non-member's visit first: it must not be announced for scoring
    not_counted = f"visit-{own.community}-p3"
    await visit(
        grids.client,
        own.grid,
        staff_id="P3",
        households=1,
        duration_minutes=10,
        visit_id=not_counted,
    )
    visit_id = f"visit-{own.community}"
    await visit(
        grids.client,
        own.grid,
        staff_id="P2",
        households=3,
        duration_minutes=45,
        notes="独居老人需要助餐",
        visit_id=visit_id,
    )
    activities = await topic_about(grids.bootstrap, ACTIVITY_LOGGED, member)
    assert len(activities) == 1
    event = parse_envelope(activities[0].value)
    data = validate_data(event, ACTIVITY_LOGGED)
    assert isinstance(data, ActivityLogged)
    assert data.member_id == member and data.activity_type.value == "grid_visit"
    assert data.activity_id == visit_id and data.community_id == own.community
    assert activities[0].key == member.encode()
    everything = await read_topic(grids.bootstrap, ACTIVITY_LOGGED, min_count=1)
    assert [r for r in everything if not_counted in r.value.decode()] == []


async def test_a_visit_logged_event_carries_no_notes(grids: Grids) -> None:
    own = await grid_with_workers(grids.client)
    await visit(
        grids.client, own.grid, staff_id="P2", households=1, duration_minutes=10, notes="私事"
    )
    await visit(grids.client, own.grid, staff_id="P3", households=1, duration_minutes=10)
    visits = await topic_about(grids.bootstrap, VISIT_LOGGED, own.grid, at_least=2)
    assert len(visits) == 2
    assert all("notes" not in parse_envelope(v.value).data for v in visits)


async def test_a_repeated_visit_id_is_a_conflict(grids: Grids) -> None:
    own = await grid_with_workers(grids.client)
    body = {"staff_id": "P2", "households": 3, "duration_minutes": 45, "visit_id": "visit-1"}
    assert (await visit(grids.client, own.grid, **body)).status_code == 201
    assert (await visit(grids.client, own.grid, **body)).status_code == 409


async def test_only_the_grids_leaders_and_workers_log_visits(grids: Grids) -> None:
    own = await grid_with_workers(grids.client)
    stranger = await visit(grids.client, own.grid, staff_id="P9", households=1, duration_minutes=1)
    assert stranger.status_code == 422 and stranger.json()["error"] == "not_grid_staff"


async def test_a_visit_of_no_households_is_invalid(grids: Grids) -> None:
    own = await grid_with_workers(grids.client)
    zero = await visit(grids.client, own.grid, staff_id="P2", households=0, duration_minutes=10)
    assert zero.status_code == 422


async def test_a_grids_visits_are_listed(grids: Grids) -> None:
    own = await grid_with_workers(grids.client)
    await visit(grids.client, own.grid, staff_id="P2", households=3, duration_minutes=45)
    await visit(grids.client, own.grid, staff_id="P3", households=1, duration_minutes=10)
    listed = (await grids.client.get(f"/v1/grids/{own.grid}/visits")).json()["items"]
    assert len(listed) == 2


# --- incidents ---------------------------------------------------------------------------


async def report(client: httpx.AsyncClient, grid: str, **body: Any) -> dict[str, Any]:
    body = {"category": "sanitation", "title": "垃圾堆放", "time_limit_hours": 24, **body}
    r = await client.post(f"/v1/grids/{grid}/incidents", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def grid_with_incident(client: httpx.AsyncClient) -> tuple[Own, str]:
    """A grid of its own with a worker W1 and an open incident; return the incident's id."""
    own = await own_grids(client)
    await put_staff(client, own.grid, "W1", role="worker", name="李四")
    return own, (await report(client, own.grid))["incident_id"]


async def act(client: httpx.AsyncClient, incident: str, action: str, **body: Any) -> Any:
    return await client.post(f"/v1/incidents/{incident}/{action}", json=body)


async def test_a_reported_incident_is_open(grids: Grids) -> None:
    own = await own_grids(grids.client)
    assert (await report(grids.client, own.grid))["status"] == "open"


async def test_an_open_incident_counts_as_open_not_overdue(grids: Grids) -> None:
    own = await own_grids(grids.client)
    open_before, overdue_before = await gauges(grids.client)
    await report(grids.client, own.grid)
    assert await gauges(grids.client) == (open_before + 1, overdue_before)


async def test_an_action_not_allowed_now_is_a_conflict_saying_why(grids: Grids) -> None:
    _, inc = await grid_with_incident(grids.client)
    early = await act(grids.client, inc, "resolve", resolution="x")
    assert early.status_code == 409
    body = early.json()
    assert body["error"] == "invalid_transition" and "open" in body["message"]
    assert body["details"][0]["current_status"] == "open"


async def test_only_staff_of_the_grid_are_assigned_an_incident(grids: Grids) -> None:
    _, inc = await grid_with_incident(grids.client)
    outsider = await act(grids.client, inc, "assign", assignee_id="X")
    assert outsider.status_code == 422


async def test_an_incident_is_assigned_resolved_then_closed(grids: Grids) -> None:
    _, inc = await grid_with_incident(grids.client)
    assert (await act(grids.client, inc, "assign", assignee_id="W1")).json()["status"] == "assigned"
    assert (await act(grids.client, inc, "resolve", resolution="已清理")).json()[
        "status"
    ] == "resolved"
    assert (await act(grids.client, inc, "close")).json()["status"] == "closed"


async def test_supervision_is_raised_once(grids: Grids) -> None:
    _, inc = await grid_with_incident(grids.client)
    sup = await act(grids.client, inc, "supervise", note="限期办结")
    assert sup.status_code == 200 and sup.json()["supervised"] is True
    twice = await act(grids.client, inc, "supervise", note="again")
    assert twice.status_code == 409


async def test_a_closed_incident_is_not_reassigned(grids: Grids) -> None:
    _, inc = await grid_with_incident(grids.client)
    await act(grids.client, inc, "assign", assignee_id="W1")
    await act(grids.client, inc, "resolve", resolution="已清理")
    await act(grids.client, inc, "close")
    reopen = await act(grids.client, inc, "assign", assignee_id="W1")
    assert reopen.status_code == 409


async def test_an_unknown_incident_is_not_found(grids: Grids) -> None:
    missing = await act(grids.client, "nope", "close")
    assert missing.status_code == 404


async def test_every_transition_is_published_as_a_valid_event(grids: Grids) -> None:
    _, inc = await grid_with_incident(grids.client)
    await act(grids.client, inc, "assign", assignee_id="W1")
    await act(grids.client, inc, "supervise", note="限期办结")
    await act(grids.client, inc, "resolve", resolution="已清理")
    await act(grids.client, inc, "close")
    for topic in (
        INCIDENT_OPENED,
        INCIDENT_ASSIGNED,
        INCIDENT_SUPERVISED,
        INCIDENT_RESOLVED,
        INCIDENT_CLOSED,
    ):
        records = await topic_about(grids.bootstrap, topic, inc)
        for r in records:
            validate_data(parse_envelope(r.value), topic)


async def late_incident(client: httpx.AsyncClient, grid: str) -> dict[str, Any]:
    """An incident reported two hours ago with a one-hour limit."""
    past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    return await report(
        client, grid, category="facilities", title="路灯不亮", time_limit_hours=1, reported_at=past
    )


async def test_an_incident_past_its_limit_is_overdue(grids: Grids) -> None:
    own = await own_grids(grids.client)
    await report(grids.client, own.grid)
    late = await late_incident(grids.client, own.grid)
    assert late["overdue"] is True
    listed = (
        await grids.client.get("/v1/incidents", params={"overdue": "true", "grid_id": own.grid})
    ).json()["items"]
    assert [i["incident_id"] for i in listed] == [late["incident_id"]]


async def test_an_overdue_incident_counts_as_open_and_overdue(grids: Grids) -> None:
    own = await own_grids(grids.client)
    open_before, overdue_before = await gauges(grids.client)
    await late_incident(grids.client, own.grid)
    assert await gauges(grids.client) == (open_before + 1, overdue_before + 1)


async def test_an_overdue_incident_is_flagged_once_with_incident_overdue(grids: Grids) -> None:
    own = await own_grids(grids.client)
    late = await late_incident(grids.client, own.grid)
    flagged = await topic_about(grids.bootstrap, INCIDENT_OVERDUE, late["incident_id"])
    assert len(flagged) == 1
