"""The demo city exercises the community practices: loaded through Kafka into the real grids
and activities services, its volunteer hours fill time bank accounts, and the once-only set-up
and a tick of the living city (tools/demo_community.py) give a catalogue, visits that count for
the visit duty, and rated incidents and wishes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dev.testing import running_app, wait_until
from services.activities.main import create_app as activities_app
from services.grids.main import create_app as grids_app
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

        await demo_community.tick(city, grids, activities, demo.random.Random(7))
        rated = (await grids.get("/v1/satisfaction/incidents?level=grid")).json()["items"]
        assert sum(i["ratings"] for i in rated) == len(places) + 1
