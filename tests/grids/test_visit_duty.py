"""The daily visiting duty of grid workers through the HTTP API with a real database: who met
the city's minutes per day and who did not, on the city's calendar days, per worker, grid,
community and street, for a day, a week and a month; the setting changes the verdicts; bad
periods are 4xx; the gauge per street shows yesterday."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from dev.testing import ADMIN_TOKEN, running_app, wait_until
from services.grids.main import create_app

TZ = ZoneInfo("Asia/Shanghai")
TREE = """region_id,level,name,parent_id
D1,district,思明区,
S1,street,中华街道,D1
S2,street,鹭江街道,D1
C1,community,开元社区,S1
C3,community,海岸社区,S2
G1,grid,第一网格,C1
G2,grid,第二网格,C1
G4,grid,第四网格,C3
"""
STAFF = (
    ("G1", "L1", "leader"),
    ("G1", "W1", "worker"),
    ("G2", "W2", "worker"),
    ("G4", "W4", "worker"),
)
TOKENS = f"{ADMIN_TOKEN}:city_admin:*,street-admin-token-0000001:street_admin:S1"


async def visit(client: httpx.AsyncClient, grid: str, staff: str, at: datetime, minutes: int):
    r = await client.post(
        f"/v1/grids/{grid}/visits",
        json={
            "staff_id": staff,
            "households": 1,
            "duration_minutes": minutes,
            "visited_at": at.isoformat(),
        },
    )
    assert r.status_code == 201, r.text


def verdicts(body: dict) -> dict[str, bool]:
    return {w["staff_id"]: w["met"] for w in body["workers"]}


async def test_who_met_the_daily_visiting_duty(settings_for, kafka) -> None:
    app = create_app(settings_for("grids", api_tokens=TOKENS), refresh_seconds=0.2)
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await client.post(
            "/v1/regions/import", content=TREE.encode(), headers={"Content-Type": "text/csv"}
        )
        for grid, staff, role in STAFF:
            r = await client.put(
                f"/v1/grids/{grid}/staff/{staff}", json={"role": role, "name": staff}
            )
            assert r.status_code in (200, 201), r.text
        # assigned today, they owe nothing for yesterday and are left out of its figures
        day = datetime.now(TZ).date() - timedelta(days=1)
        r = await client.get("/v1/visit-duty", params={"period": day.isoformat()})
        assert (r.json()["workers"], r.json()["by_street"]) == ([], [])
        # they were assigned long ago: let forty days pass
        await pool.execute("UPDATE grid_staff SET assigned_at = now() - interval '40 days'")

        local = lambda h, m=0: datetime.combine(day, time(h, m), TZ)  # noqa: E731
        await visit(client, "G1", "W1", local(9), 90)
        await visit(client, "G1", "W1", local(15), 40)
        await visit(client, "G1", "L1", local(10), 119)
        # the city's calendar day: 00:30 and 23:00 local are the same day (not in UTC)
        await visit(client, "G2", "W2", local(0, 30), 60)
        await visit(client, "G2", "W2", local(23), 60)
        await visit(client, "G4", "W4", local(0, 30) - timedelta(hours=1), 120)  # the day before

        r = await client.get("/v1/visit-duty", params={"period": day.isoformat()})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["minutes_per_day"] == 120 and body["kind"] == "day"
        assert verdicts(body) == {"L1": False, "W1": True, "W2": True, "W4": False}
        assert {g["region_id"]: (g["workers"], g["met"]) for g in body["by_grid"]} == {
            "G1": (2, 1),
            "G2": (1, 1),
            "G4": (1, 0),
        }
        assert [(c["region_id"], c["met"], c["not_met"]) for c in body["by_community"]] == [
            ("C1", 2, 1),
            ("C3", 0, 1),
        ]
        assert [(s["region_id"], s["met"], s["not_met"]) for s in body["by_street"]] == [
            ("S1", 2, 1),
            ("S2", 0, 1),
        ]
        missed = await client.get(
            "/v1/visit-duty", params={"period": day.isoformat(), "met": False}
        )
        assert {w["staff_id"]: w["days_missed"] for w in missed.json()["workers"]} == {
            "L1": [day.isoformat()],
            "W4": [day.isoformat()],
        }

        # a street admin sees its street only
        street = await client.get(
            "/v1/visit-duty",
            params={"period": day.isoformat()},
            headers={"Authorization": "Bearer street-admin-token-0000001"},
        )
        assert set(verdicts(street.json())) == {"L1", "W1", "W2"}

        # the gauge shows yesterday per street
        async def gauge() -> bool:
            text = (await client.get("/metrics")).text
            return (
                'partygrid_grids_visit_duty_workers{status="met",street="S1"} 2.0' in text
                or 'partygrid_grids_visit_duty_workers{street="S1",status="met"} 2.0' in text
            )

        await wait_until(gauge)

        # the setting: only a city admin changes it; 119 minutes and only that weekday
        new = {"minutes_per_day": 119, "weekdays": [day.isoweekday()]}
        r = await client.put(
            "/v1/visit-duty/setting",
            json=new,
            headers={"Authorization": "Bearer street-admin-token-0000001"},
        )
        assert r.status_code == 403
        for bad in (
            {"minutes_per_day": 0},
            {"minutes_per_day": 60, "weekdays": [8]},
            {"minutes_per_day": 60, "weekdays": []},
        ):
            r = await client.put("/v1/visit-duty/setting", json=bad)
            assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), bad
        assert (await client.put("/v1/visit-duty/setting", json=new)).status_code == 200
        body = (await client.get("/v1/visit-duty", params={"period": day.isoformat()})).json()
        assert verdicts(body)["L1"] is True

        # a week owes every duty day of it so far; here just that weekday, so it is met
        week = f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}"
        body = (await client.get("/v1/visit-duty", params={"period": week})).json()
        assert body["kind"] == "week" and verdicts(body)["W1"] is True
        month = (
            await client.get("/v1/visit-duty", params={"period": day.strftime("%Y-%m")})
        ).json()
        w1 = next(w for w in month["workers"] if w["staff_id"] == "W1")
        assert w1["days_met"] == 1 and len(w1["days_missed"]) == w1["duty_days"] - 1
        assert w1["met"] is (w1["duty_days"] == 1)

        for period, error in (
            ("2026-13", "invalid_period"),
            ("yesterday", "invalid_period"),
            ((day + timedelta(days=3)).isoformat(), "future_period"),
        ):
            r = await client.get("/v1/visit-duty", params={"period": period})
            assert (r.status_code, r.json()["error"]) == (422, error), period
