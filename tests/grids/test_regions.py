"""Region tree through the HTTP API against a real PostgreSQL and a real broker: CSV import,
queries, the strict rules (cycle, level order, unknown parent, duplicate code, malformed CSV),
all-or-nothing import, region.defined published through the outbox, scopes.

One running service for the module: the tree below is imported once; a test that changes the
tree imports a subtree of its own, so the tests do not depend on each other's order."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import read_topic, running_app, settings_for_test, wait_until
from services.grids.main import create_app
from shared.events import REGION_DEFINED, RegionDefined, parse_envelope, validate_data
from shared.settings import Settings

TREE_CSV = """region_id,level,name,parent_id
350203,district,思明区,
350203001,street,中华街道,350203
350203001001,community,开元社区,350203001
350203001001-G01,grid,第一网格,350203001001
350203001001-G01-B1,building,1号楼,350203001001-G01
350203002,street,厦港街道,350203
"""
CSV = {"Content-Type": "text/csv"}
COMMUNITY_TOKEN = "community-admin-token-0001"
READONLY_TOKEN = "test-readonly-token-00001"


@dataclass
class Grids:
    client: httpx.AsyncClient
    settings: Settings
    bootstrap: str
    imported: dict[str, Any]


class Own(NamedTuple):
    """A test's own part of the tree: district, street, second street, community, grid."""

    district: str
    street: str
    street2: str
    community: str
    grid: str


@pytest.fixture(scope="module")
async def grids(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Grids]:
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = settings_for_test(
        pg_server.url,
        broker.bootstrap,
        "grids",
        api_tokens="test-city-admin-token-0001:city_admin:*,"
        f"{READONLY_TOKEN}:service:*,{COMMUNITY_TOKEN}:community_admin:350203001001",
    )
    try:
        async with running_app(create_app(settings)) as client:
            imported = await client.post(
                "/v1/regions/import", content=TREE_CSV.encode(), headers=CSV
            )
            assert imported.status_code == 200, imported.text
            yield Grids(client, settings, broker.bootstrap, imported.json())
    finally:
        broker.stop()


async def own_subtree(client: httpx.AsyncClient) -> Own:
    """Import a district of the test's own, with two streets, a community under the first and a
    grid under that."""
    d = f"D{uuid.uuid4().hex[:8]}"
    s, s2, c, g = f"{d}-S", f"{d}-S2", f"{d}-C", f"{d}-G"
    text = (
        "region_id,level,name,parent_id\n"
        f"{d},district,d,\n{s},street,s,{d}\n{s2},street,s2,{d}\n"
        f"{c},community,c,{s}\n{g},grid,g,{c}\n"
    )
    r = await client.post("/v1/regions/import", content=text.encode(), headers=CSV)
    assert r.status_code == 200, r.text
    return Own(d, s, s2, c, g)


async def defined(bootstrap: str, subjects: set[str], at_least: int) -> list[Any]:
    """The region.defined events about `subjects`, once at least `at_least` have arrived."""

    async def probe() -> list[Any]:
        records = await read_topic(bootstrap, REGION_DEFINED, min_count=1, timeout=5)
        events = [parse_envelope(r.value) for r in records]
        about = [e for e in events if e.subject in subjects]
        return about if len(about) >= at_least else []

    return await wait_until(probe)


async def test_an_import_creates_every_row(grids: Grids) -> None:
    assert grids.imported["created"] == 6


async def test_a_subtree_lists_the_region_and_its_descendants_level_by_level(
    grids: Grids,
) -> None:
    sub = (await grids.client.get("/v1/regions/350203/subtree")).json()["items"]
    assert [r["region_id"] for r in sub] == [
        "350203",
        "350203001",
        "350203002",
        "350203001001",
        "350203001001-G01",
        "350203001001-G01-B1",
    ]


async def test_a_path_goes_up_to_the_district(grids: Grids) -> None:
    path = (await grids.client.get("/v1/regions/350203001001-G01-B1/path")).json()["items"]
    assert [r["level"] for r in path] == ["building", "grid", "community", "street", "district"]


async def test_children_are_the_direct_children_only(grids: Grids) -> None:
    kids = (await grids.client.get("/v1/regions/350203/children")).json()["items"]
    assert [r["name"] for r in kids] == ["中华街道", "厦港街道"]


async def test_a_region_names_its_parent(grids: Grids) -> None:
    region = (await grids.client.get("/v1/regions/350203001001")).json()
    assert region["parent_id"] == "350203001"


async def test_a_move_under_its_own_descendant_is_a_cycle_and_changes_nothing(
    grids: Grids,
) -> None:
    own = await own_subtree(grids.client)
    cyc = await grids.client.patch(f"/v1/regions/{own.street}", json={"parent_id": own.grid})
    assert cyc.status_code == 409, cyc.text
    assert cyc.json()["error"] == "cycle"
    assert (await grids.client.get(f"/v1/regions/{own.street}")).json()["parent_id"] == own.district


async def test_a_parent_must_be_one_level_up(grids: Grids) -> None:
    own = await own_subtree(grids.client)
    bad = await grids.client.patch(f"/v1/regions/{own.community}", json={"parent_id": own.district})
    assert bad.status_code == 422 and bad.json()["error"] == "level_order"
    assert (await grids.client.get(f"/v1/regions/{own.community}")).json()[
        "parent_id"
    ] == own.street


async def test_an_unknown_parent_is_refused(grids: Grids) -> None:
    unknown = await grids.client.post(
        "/v1/regions", json={"region_id": "G9", "level": "grid", "name": "x", "parent_id": "nope"}
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_parent"


async def test_a_code_taken_already_is_a_conflict(grids: Grids) -> None:
    dup = await grids.client.post(
        "/v1/regions",
        json={"region_id": "350203002", "level": "street", "name": "x", "parent_id": "350203"},
    )
    assert dup.status_code == 409 and dup.json()["error"] == "duplicate_code"


async def test_a_malformed_body_is_an_invalid_request(grids: Grids) -> None:
    invalid = await grids.client.post("/v1/regions", json={"region_id": "a b", "level": "grid"})
    assert invalid.status_code == 422 and invalid.json()["error"] == "invalid_request"


async def test_a_region_moves_under_a_parent_of_the_right_level(grids: Grids) -> None:
    own = await own_subtree(grids.client)
    moved = await grids.client.patch(
        f"/v1/regions/{own.community}", json={"parent_id": own.street2}
    )
    assert moved.status_code == 200 and moved.json()["parent_id"] == own.street2


async def test_a_region_is_renamed(grids: Grids) -> None:
    own = await own_subtree(grids.client)
    renamed = await grids.client.patch(f"/v1/regions/{own.street}", json={"name": "厦港"})
    assert renamed.json()["name"] == "厦港"


async def test_a_region_with_live_children_is_not_retired(grids: Grids) -> None:
    own = await own_subtree(grids.client)
    busy = await grids.client.patch(f"/v1/regions/{own.street}", json={"retired": True})
    assert busy.status_code == 409 and busy.json()["error"] == "has_children"


async def test_a_retired_region_is_no_longer_a_child(grids: Grids) -> None:
    own = await own_subtree(grids.client)
    gone = await grids.client.patch(f"/v1/regions/{own.grid}", json={"retired": True})
    assert gone.status_code == 200 and gone.json()["retired"] is True
    kids = (await grids.client.get(f"/v1/regions/{own.community}/children")).json()["items"]
    assert kids == []


async def test_a_malformed_csv_names_its_lines_and_writes_nothing(grids: Grids) -> None:
    broken = (
        "region_id,level,name,parent_id\n"
        "350203003,street,鹭江街道,350203\n"
        "350203003001,community,x,350203003,extra\n"
        "350203003002,grid,,350203003\n"
    )
    resp = await grids.client.post("/v1/regions/import", content=broken.encode(), headers=CSV)
    assert resp.status_code == 422, resp.text
    assert sorted(d["line"] for d in resp.json()["details"]) == [3, 4]
    assert (await grids.client.get("/v1/regions/350203003")).status_code == 404


async def test_rows_breaking_the_tree_rules_name_their_line_and_write_nothing(
    grids: Grids,
) -> None:
    misplaced = (
        "region_id,level,name,parent_id\n"
        "350203004,street,鹭江街道,350203\n"
        "350203004002,grid,y,350203004\n"
    )
    resp = await grids.client.post("/v1/regions/import", content=misplaced.encode(), headers=CSV)
    assert resp.status_code == 422, resp.text
    assert [(d["line"], d["rule"]) for d in resp.json()["details"]] == [(3, "level_order")]
    assert (await grids.client.get("/v1/regions/350203004")).status_code == 404


async def test_a_dry_run_validates_and_writes_nothing(grids: Grids) -> None:
    ok = "region_id,level,name,parent_id\n350203005,street,鹭江街道,350203\n"
    dry = await grids.client.post(
        "/v1/regions/import?dry_run=true", content=ok.encode(), headers=CSV
    )
    assert dry.status_code == 200 and dry.json()["created"] == 1
    assert (await grids.client.get("/v1/regions/350203005")).status_code == 404


async def test_a_community_admin_reads_the_path_of_its_own_community(grids: Grids) -> None:
    scoped = {"Authorization": f"Bearer {COMMUNITY_TOKEN}"}
    own = await grids.client.get("/v1/regions/350203001001/path", headers=scoped)
    assert own.status_code == 200


async def test_a_community_admin_does_not_read_the_district(grids: Grids) -> None:
    scoped = {"Authorization": f"Bearer {COMMUNITY_TOKEN}"}
    other = await grids.client.get("/v1/regions/350203/subtree", headers=scoped)
    assert other.status_code == 403 and other.json()["error"] == "forbidden"


async def test_a_read_only_token_does_not_write(grids: Grids) -> None:
    ro = await grids.client.post(
        "/v1/regions",
        json={"region_id": "X1", "level": "district", "name": "x"},
        headers={"Authorization": f"Bearer {READONLY_TOKEN}"},
    )
    assert ro.status_code == 403


async def test_a_request_without_a_token_is_unauthorized(grids: Grids) -> None:
    anon = await grids.client.get("/v1/regions/350203", headers={"Authorization": ""})
    assert anon.status_code == 401


async def test_every_imported_region_is_published_once_as_a_valid_region_defined(
    grids: Grids,
) -> None:
    ids = {line.split(",")[0] for line in TREE_CSV.splitlines()[1:]}
    events = await defined(grids.bootstrap, ids, len(ids))
    assert sorted(e.subject for e in events) == sorted(ids)
    assert all(isinstance(validate_data(e, REGION_DEFINED), RegionDefined) for e in events)
    assert {e.source for e in events} == {grids.settings.source}


async def test_each_change_is_published_and_the_latest_event_holds_the_change(
    grids: Grids,
) -> None:
    own = await own_subtree(grids.client)
    await grids.client.patch(f"/v1/regions/{own.community}", json={"parent_id": own.street2})
    await grids.client.patch(f"/v1/regions/{own.street}", json={"name": "renamed"})
    await grids.client.patch(f"/v1/regions/{own.street}", json={"retired": True})
    # the four regions below the district were imported (4 events), then changed three times
    events = await defined(grids.bootstrap, set(own[1:]), 4 + 3)
    assert len(events) == 7
    last_for = {}
    for e in sorted(events, key=lambda e: e.time):
        last_for[e.subject] = e.data
    assert last_for[own.community]["parent_id"] == own.street2
    assert last_for[own.street]["retired"] is True and last_for[own.street]["name"] == "renamed"
    records = await read_topic(grids.bootstrap, REGION_DEFINED, min_count=1)
    assert json.loads(records[0].value)["source"] == grids.settings.source
