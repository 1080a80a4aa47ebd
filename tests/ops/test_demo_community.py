"""The demo city exercises the community practices: loaded through Kafka into the real grids
and activities services, its volunteer hours fill time bank accounts, and the once-only set-up
and a tick of the living city (tools/demo_community.py) give a catalogue, visits that count for
the visit duty, and rated incidents and wishes; in the members service, the resident units of
one street are evaluated and ranked."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from dev.testing import running_app, wait_until
from services.activities.main import create_app as activities_app
from services.grids.main import create_app as grids_app
from services.members.main import create_app as members_app
from tools import demo, demo_community


async def test_the_demo_city_exercises_the_community_practices(settings_for, kafka) -> None:
    city = demo.build_city(600)
    grids_service = grids_app(settings_for("grids"))
    activities_service = activities_app(settings_for("activities"))
    async with (
        running_app(grids_service) as grids,
        running_app(activities_service) as activities,
    ):
        await demo.load(kafka.bootstrap, None, 600)
        await wait_until(lambda: demo_community.ready(city, grids, activities), timeout=60)
        counts = await demo_community.setup(city, grids, activities)
        places = demo_community.places(city)
        assert counts["offers"] == 3 * len(places) and counts["wishes"] == len(places) > 0

        # volunteer hours from the demo's volunteer platform are in the time bank
        pool = activities_service.state.runtime.pool

        async def banked() -> bool:
            return bool(await pool.fetchval("SELECT count(*) > 0 FROM timebank_entries"))

        await wait_until(banked, timeout=60)
        community = places[0][0]
        offers = (await activities.get(f"/v1/timebank/offers?community_id={community}")).json()
        assert len(offers["items"]) == 3

        today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        duty = (await grids.get("/v1/visit-duty", params={"period": today})).json()
        assert {w["grid_id"] for w in duty["workers"]} == {g for _, g, _ in places}
        assert all(w["minutes"] > 0 for w in duty["workers"])

        rated = (await grids.get("/v1/satisfaction/incidents?level=grid")).json()["items"]
        assert sum(i["ratings"] for i in rated) == len(places)
        wishes = (await activities.get("/v1/satisfaction/wishes")).json()["items"]
        assert sum(i["ratings"] for i in wishes) == len(places)

        await demo_community.tick(city, grids, activities, random.Random(7))
        rated = (await grids.get("/v1/satisfaction/incidents?level=grid")).json()["items"]
        assert sum(i["ratings"] for i in rated) == len(places) + 1


async def test_the_demo_city_s_resident_units_are_ranked_in_their_street(
    settings_for, kafka
) -> None:
    city = demo.build_city(600)
    async with running_app(members_app(settings_for("members"))) as members:
        await demo.load(kafka.bootstrap, None, 600)
        await wait_until(lambda: demo_community.units_ready(city, members), timeout=60)
        counts = await demo_community.set_up_units(city, members)
        units = demo_community.street_units(city)
        assert counts["units"] == len(units) > 1 and counts["reviews"] > 0

        street = next(r.parent_id for r in city.communities if r.region_id == units[0].community_id)
        ranking = (await members.get("/v1/unit-evaluations", params={"within": street})).json()
        items = ranking["items"]
        assert {i["unit_id"] for i in items} == {u.unit_id for u in units}
        assert items[0]["rank"] == 1 and items[0]["score"] > items[-1]["score"]
        assert sum(i["commitments_done"] for i in items) > 0
        assert any(i["evaluation"] for i in items) and any(i["committee_members"] for i in items)

        # the living city keeps commitments: a unit that had not kept them all now has
        behind = next(i for i in items if i["commitments_done"] < i["commitments_due"])
        for no in range(1, behind["commitments_due"] + 1):
            await demo_community.keep_commitment(members, behind["unit_id"], no)
        after = (await members.get(f"/v1/units/{behind['unit_id']}/evaluation")).json()
        assert after["commitments_done"] == after["commitments_due"]
        assert after["score"] > behind["score"]
