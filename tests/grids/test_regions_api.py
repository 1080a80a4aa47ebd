"""Region tree through the HTTP API against a real PostgreSQL and a real broker: CSV import of
a small tree, queries, strict rules (cycle, level order, unknown parent, duplicate code,
malformed CSV), all-or-nothing import, region.defined published through the outbox, scopes."""

from __future__ import annotations

import json

from dev.testing import read_topic, running_app
from services.grids.main import create_app
from shared.events import REGION_DEFINED, RegionDefined, parse_envelope, validate_data

TREE_CSV = """region_id,level,name,parent_id
350203,district,思明区,
350203001,street,中华街道,350203
350203001001,community,开元社区,350203001
350203001001-G01,grid,第一网格,350203001001
350203001001-G01-B1,building,1号楼,350203001001-G01
350203002,street,厦港街道,350203
"""

COMMUNITY_TOKEN = "community-admin-token-0001"


async def test_regions_csv_tree_queries_and_rules(settings_for, kafka) -> None:
    settings = settings_for(
        "grids",
        api_tokens=f"test-city-admin-token-0001:city_admin:*,"
        f"test-readonly-token-00001:service:*,{COMMUNITY_TOKEN}:community_admin:350203001001",
    )
    app = create_app(settings)
    async with running_app(app) as client:
        csv_headers = {"Content-Type": "text/csv"}
        imported = await client.post(
            "/v1/regions/import", content=TREE_CSV.encode(), headers=csv_headers
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"] == 6

        sub = (await client.get("/v1/regions/350203/subtree")).json()["items"]
        assert [r["region_id"] for r in sub] == [
            "350203",
            "350203001",
            "350203002",
            "350203001001",
            "350203001001-G01",
            "350203001001-G01-B1",
        ]
        path = (await client.get("/v1/regions/350203001001-G01-B1/path")).json()["items"]
        assert [r["level"] for r in path] == ["building", "grid", "community", "street", "district"]
        kids = (await client.get("/v1/regions/350203/children")).json()["items"]
        assert [r["name"] for r in kids] == ["中华街道", "厦港街道"]

        # a move under its own descendant is a cycle: 409, nothing changed
        cyc = await client.patch("/v1/regions/350203001", json={"parent_id": "350203001001-G01"})
        assert cyc.status_code == 409, cyc.text
        assert cyc.json()["error"] == "cycle"
        # wrong level order, unknown parent, duplicate code
        bad = await client.patch("/v1/regions/350203001001", json={"parent_id": "350203"})
        assert bad.status_code == 422 and bad.json()["error"] == "level_order"
        unknown = await client.post(
            "/v1/regions",
            json={"region_id": "G9", "level": "grid", "name": "x", "parent_id": "nope"},
        )
        assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_parent"
        dup = await client.post(
            "/v1/regions",
            json={"region_id": "350203002", "level": "street", "name": "x", "parent_id": "350203"},
        )
        assert dup.status_code == 409 and dup.json()["error"] == "duplicate_code"
        invalid = await client.post("/v1/regions", json={"region_id": "a b", "level": "grid"})
        assert invalid.status_code == 422 and invalid.json()["error"] == "invalid_request"
        parent = (await client.get("/v1/regions/350203001001")).json()["parent_id"]
        assert parent == "350203001"

        # a valid move, a rename, retiring with live children refused, then a leaf retired
        moved = await client.patch("/v1/regions/350203001001", json={"parent_id": "350203002"})
        assert moved.status_code == 200 and moved.json()["parent_id"] == "350203002"
        renamed = await client.patch("/v1/regions/350203002", json={"name": "厦港"})
        assert renamed.json()["name"] == "厦港"
        busy = await client.patch("/v1/regions/350203002", json={"retired": True})
        assert busy.status_code == 409 and busy.json()["error"] == "has_children"
        gone = await client.patch("/v1/regions/350203001", json={"retired": True})
        assert gone.status_code == 200 and gone.json()["retired"] is True
        kids = (await client.get("/v1/regions/350203/children")).json()["items"]
        assert [r["region_id"] for r in kids] == ["350203002"]

        # a malformed CSV: 422 with line numbers and nothing of it written
        broken = (
            "region_id,level,name,parent_id\n"
            "350203003,street,鹭江街道,350203\n"
            "350203003001,community,x,350203003,extra\n"
            "350203003002,grid,,350203003\n"
        )
        resp = await client.post("/v1/regions/import", content=broken.encode(), headers=csv_headers)
        assert resp.status_code == 422, resp.text
        lines = sorted(d["line"] for d in resp.json()["details"])
        assert lines == [3, 4]
        assert (await client.get("/v1/regions/350203003")).status_code == 404
        # well-formed rows that break the tree rules: the same, with the row's line
        misplaced = (
            "region_id,level,name,parent_id\n"
            "350203003,street,鹭江街道,350203\n"
            "350203003002,grid,y,350203003\n"
        )
        resp = await client.post(
            "/v1/regions/import", content=misplaced.encode(), headers=csv_headers
        )
        assert resp.status_code == 422, resp.text
        assert [(d["line"], d["rule"]) for d in resp.json()["details"]] == [(3, "level_order")]
        assert (await client.get("/v1/regions/350203003")).status_code == 404

        # dry run validates, writes nothing
        ok = "region_id,level,name,parent_id\n350203003,street,鹭江街道,350203\n"
        dry = await client.post(
            "/v1/regions/import?dry_run=true", content=ok.encode(), headers=csv_headers
        )
        assert dry.status_code == 200 and dry.json()["created"] == 1
        assert (await client.get("/v1/regions/350203003")).status_code == 404

        # scopes: a community admin reads its own path but not the district; read-only can't write
        scoped_headers = {"Authorization": f"Bearer {COMMUNITY_TOKEN}"}
        own = await client.get("/v1/regions/350203001001/path", headers=scoped_headers)
        assert own.status_code == 200
        other = await client.get("/v1/regions/350203/subtree", headers=scoped_headers)
        assert other.status_code == 403 and other.json()["error"] == "forbidden"
        ro = await client.post(
            "/v1/regions",
            json={"region_id": "X1", "level": "district", "name": "x"},
            headers={"Authorization": "Bearer test-readonly-token-00001"},
        )
        assert ro.status_code == 403
        anon = await client.get("/v1/regions/350203", headers={"Authorization": ""})
        assert anon.status_code == 401

        # every change was published as a valid region.defined (6 imported + move, rename, retire)
        records = await read_topic(kafka.bootstrap, REGION_DEFINED, min_count=9)
        assert len(records) == 9
        events = [parse_envelope(r.value) for r in records]
        datas = [validate_data(e, REGION_DEFINED) for e in events]
        assert all(isinstance(d, RegionDefined) for d in datas)
        assert {e.subject for e in events} >= {"350203", "350203001001-G01-B1"}
        last_for = {}
        for e in sorted(events, key=lambda e: e.time):
            last_for[e.subject] = e.data
        assert last_for["350203001001"]["parent_id"] == "350203002"
        assert last_for["350203001"]["retired"] is True
        assert json.loads(records[0].value)["source"] == settings.source
