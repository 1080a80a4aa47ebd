"""Every request field of the four services that names a community, grid or street is checked
against that service's region projection (fed here by real region.defined events through the
real broker): an unknown id, a region of another level and — where something new is placed —
a retired region are refused with 422 saying what is accepted; filters accept a retired region
(its past stays readable). One test per rule, parametrized over every such field."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import (
    cloud_event,
    publish_raw,
    running_app,
    settings_of_every_service,
    wait_until,
)
from services.activities.main import create_app as activities_app
from services.grids.main import create_app as grids_app
from services.members.main import create_app as members_app
from services.scoring.main import create_app as scoring_app
from shared.events import REGION_DEFINED, UNIT_REPORTED

APPS = {
    "members": members_app,
    "grids": grids_app,
    "activities": activities_app,
    "scoring": scoring_app,
}
TREE = [  # (id, level, parent, retired)
    ("D1", "district", None, False),
    ("S1", "street", "D1", False),
    ("SR", "street", "D1", True),
    ("C1", "community", "S1", False),
    ("CR", "community", "S1", True),
    ("C2", "community", "S1", False),
    ("G1", "grid", "C1", False),
    ("G2", "grid", "C2", False),
    ("GR", "grid", "C1", True),
    ("B1", "building", "G1", False),
]
UNKNOWN = "NOWHERE"
SOON = (datetime.now(UTC) + timedelta(days=30)).isoformat()
# per kind of field: an id of another level, and a retired id of the right level
WRONG_LEVEL = {"community": "S1", "grid": "C1", "street": "C1", "within": "B1"}
RETIRED = {"community": "CR", "grid": "GR", "street": "SR", "within": "CR"}
# a resource's community is its unit's: one unit reported to each kind of bad community
UNIT_IN = {UNKNOWN: "U-NOWHERE", "S1": "U-STREET", "CR": "U-RETIRED", "C1": "U-C1"}


@dataclass(frozen=True)
class Case:
    service: str
    method: str
    path: str
    field: str
    kind: str  # community, grid, street or within
    writes: bool  # places something new (retired refused) or filters (retired accepted)
    request: Callable[[str], dict[str, Any]]  # region id -> httpx keyword arguments

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path} {self.field}"


def _activity(community: str, organiser: str = "C1") -> dict[str, Any]:
    return {
        "activity_type": "study",
        "title": "Study session",
        "organiser_kind": "community",
        "organiser_id": organiser,
        "community_id": community,
        "starts_at": "2030-01-01T09:00:00+08:00",
        "ends_at": "2030-01-01T11:00:00+08:00",
        "place": "Hall",
        "capacity": 10,
    }


def _member(community: str) -> dict[str, Any]:
    return {
        "member_id": f"M-{uuid.uuid4().hex[:8]}",
        "name": "党员",
        "category": "in_service",
        "party_org_id": "P1",
        "address_community_id": community,
    }


def body(f: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    return lambda region: {"json": f(region)}


def query(name: str, **more: str) -> Callable[[str], dict[str, Any]]:
    return lambda region: {"params": {name: region, **more}}


CASES = [
    # members: 双报到 and home communities
    Case("members", "POST", "/v1/members", "address_community_id", "community", True,
         body(_member)),
    Case("members", "PATCH", "/v1/members/M1", "address_community_id", "community", True,
         body(lambda r: {"address_community_id": r})),
    Case("members", "POST", "/v1/members/M1/reports", "community_id", "community", True,
         body(lambda r: {"community_id": r})),
    Case("members", "POST", "/v1/members/M1/reports", "grid_id", "grid", True,
         body(lambda r: {"community_id": "C1", "grid_id": r})),
    Case("members", "POST", "/v1/units/U1/report", "community_id", "community", True,
         body(lambda r: {"community_id": r})),
    # activities: everything placed in a community, and every community filter
    Case("activities", "POST", "/v1/activities", "community_id", "community", True,
         body(_activity)),
    Case("activities", "POST", "/v1/activities", "organiser_id", "community", True,
         body(lambda r: _activity("C1", organiser=r))),
    Case("activities", "POST", "/v1/wishes", "community_id", "community", True,
         body(lambda r: {"community_id": r, "title": "A ramp",
                         "expires_at": SOON})),
    Case("activities", "POST", "/v1/service-posts", "community_id", "community", True,
         body(lambda r: {"community_id": r, "title": "Post", "category": "other",
                         "duties": "Duties"})),
    Case("activities", "POST", "/v1/needs", "community_id", "community", True,
         body(lambda r: {"community_id": r, "title": "A need"})),
    Case("activities", "POST", "/v1/resources", "unit.community_id", "community", True,
         body(lambda r: {"unit_id": UNIT_IN[r], "title": "A hall"})),
    Case("activities", "POST", "/v1/resources/{resource}/claim", "community_id", "community",
         True, body(lambda r: {"community_id": r})),
    Case("activities", "POST", "/v1/meetings", "community_id", "community", True,
         body(lambda r: {"kind": "party_lecture", "branch_id": "P1", "community_id": r,
                         "title": "党课", "held_at": "2026-01-01T09:00:00+08:00"})),
    *(
        Case("activities", "GET", path, "community_id", "community", False, query("community_id"))
        for path in ("/v1/activities", "/v1/wishes", "/v1/service-posts", "/v1/needs",
                     "/v1/resources", "/v1/projects", "/v1/meetings")
    ),
    # grids: listings limited to a region or a grid
    Case("grids", "GET", "/v1/grids/coverage", "within", "within", False, query("within")),
    Case("grids", "GET", "/v1/grids/member-counts", "within", "within", False, query("within")),
    Case("grids", "GET", "/v1/incidents", "within", "within", False, query("within")),
    Case("grids", "GET", "/v1/incidents", "grid_id", "grid", False, query("grid_id")),
    # scoring: rankings and lists limited to a region, boards limited to a street
    *(
        Case("scoring", "GET", path, f"{kind}_id", kind, False, query(f"{kind}_id", **more))
        for path, more in (
            ("/v1/rankings/members", {}),
            ("/v1/zero-points", {}),
            ("/v1/organization-life/missing", {"period": "2026-Q4"}),
        )
        for kind in ("community", "grid", "street")
    ),
    Case("scoring", "GET", "/v1/rankings/communities", "street_id", "street", False,
         query("street_id")),
    Case("scoring", "GET", "/v1/rankings/grids", "community_id", "community", False,
         query("community_id")),
    Case("scoring", "POST", "/v1/boards", "street_id", "street", False,
         body(lambda r: {"period": "2026-11", "subject": "members", "street_id": r})),
]  # fmt: skip


@dataclass
class Env:
    clients: dict[str, httpx.AsyncClient]
    resource: str  # an open resource of community C1

    async def send(self, case: Case, region: str) -> httpx.Response:
        path = case.path.format(resource=self.resource)
        return await self.clients[case.service].request(case.method, path, **case.request(region))


@pytest.fixture(scope="module")
async def env(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Env]:
    kafka = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    db = uuid.uuid4().hex[:10]
    try:
        async with AsyncExitStack() as stack:
            apps, clients = {}, {}
            every = settings_of_every_service(pg_server.url, kafka.bootstrap, f"rc_{db}")
            for name, settings in every.items():
                apps[name] = APPS[name](settings)
                clients[name] = await stack.enter_async_context(running_app(apps[name]))
            await publish_raw(kafka.bootstrap, _setup_events())

            async def projected() -> bool:
                for app in apps.values():
                    n = await app.state.runtime.pool.fetchval("SELECT count(*) FROM regions")
                    if n != len(TREE):
                        return False
                units = "SELECT count(*) FROM unit_projection"
                return bool(
                    await apps["activities"].state.runtime.pool.fetchval(units) == len(UNIT_IN)
                )

            await wait_until(projected)
            await _members_setup(clients["members"])
            r = await clients["activities"].post(
                "/v1/resources", json={"unit_id": UNIT_IN["C1"], "title": "A hall"}
            )
            assert r.status_code == 201, r.text
            yield Env(clients, r.json()["item_id"])
    finally:
        kafka.stop()


def _setup_events() -> list[tuple[str, bytes, dict[str, Any]]]:
    events = []
    for region_id, level, parent, retired in TREE:
        data: dict[str, Any] = {"region_id": region_id, "level": level, "name": region_id}
        if parent:
            data["parent_id"] = parent
        if retired:
            data["retired"] = True
        events.append(
            (
                REGION_DEFINED,
                region_id.encode(),
                cloud_event(REGION_DEFINED, data, subject=region_id),
            )
        )
    for community, unit in UNIT_IN.items():
        data = {"unit_id": unit, "name": unit, "party_org_id": "P1", "community_id": community}
        events.append(
            (UNIT_REPORTED, unit.encode(), cloud_event(UNIT_REPORTED, data, subject=unit))
        )
    return events


async def _members_setup(client: httpx.AsyncClient) -> None:
    r = await client.put("/v1/party-orgs/P1", json={"name": "Branch", "kind": "organ"})
    assert r.status_code in (200, 201), r.text
    r = await client.post("/v1/members", json=_member("C1") | {"member_id": "M1"})
    assert r.status_code == 201, r.text
    r = await client.put("/v1/units/U1", json={"name": "Unit", "party_org_id": "P1"})
    assert r.status_code in (200, 201), r.text


def _refusal(r: httpx.Response, case: Case, region: str, code: str) -> None:
    assert r.status_code == 422, r.text
    error = r.json()
    assert error["error"] == code, error
    assert error["details"][0]["field"] == case.field, error
    assert error["details"][0]["region_id"] == region, error
    assert f"{case.field} {region!r}" in error["message"], error
    assert "accepted: the id of a" in error["message"], error


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_an_unknown_region_is_refused_saying_what_is_accepted(env: Env, case: Case) -> None:
    _refusal(await env.send(case, UNKNOWN), case, UNKNOWN, "unknown_region")


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_region_of_another_level_is_refused(env: Env, case: Case) -> None:
    region = WRONG_LEVEL[case.kind]
    _refusal(await env.send(case, region), case, region, "wrong_region_level")


@pytest.mark.parametrize("case", [c for c in CASES if c.writes], ids=str)
async def test_a_retired_region_takes_nothing_new(env: Env, case: Case) -> None:
    region = RETIRED[case.kind]
    _refusal(await env.send(case, region), case, region, "retired_region")


@pytest.mark.parametrize("case", [c for c in CASES if not c.writes], ids=str)
async def test_a_filter_accepts_a_retired_region(env: Env, case: Case) -> None:
    r = await env.send(case, RETIRED[case.kind])
    assert r.status_code in (200, 201), r.text


async def test_a_grid_of_another_community_is_refused_for_a_report(env: Env) -> None:
    r = await env.clients["members"].post(
        "/v1/members/M1/reports", json={"community_id": "C1", "grid_id": "G2"}
    )
    assert (r.status_code, r.json()["error"]) == (422, "wrong_region_parent"), r.text
    assert "accepted: the id of a grid of C1" in r.json()["message"]
