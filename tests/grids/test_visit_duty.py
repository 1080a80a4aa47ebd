"""The daily visiting duty of grid workers through the HTTP API with a real database: who met
the city's minutes per day and who did not, on the city's calendar days, per worker, grid,
community and street, for a day, a week and a month; the setting changes the verdicts; bad
periods are 4xx; the gauge per street shows yesterday.

One running service for the module; the fixture assigns the staff, backdates their assignment
forty days and logs yesterday's visits once. A test that changes the setting puts the default
back before it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import ADMIN_TOKEN, running_app, settings_for_test, wait_until
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
STREET_ADMIN = {"Authorization": "Bearer street-admin-token-0000001"}
DEFAULT_SETTING = {"minutes_per_day": 120, "weekdays": [1, 2, 3, 4, 5, 6, 7]}
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


@dataclass
class Duty:
    client: httpx.AsyncClient
    day: date  # yesterday, on the city's calendar

    async def figures(self, period: str | None = None, **params: Any) -> httpx.Response:
        params = {"period": period or self.day.isoformat(), **params}
        return await self.client.get("/v1/visit-duty", params=params)


@pytest.fixture(scope="module")
async def duty(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Duty]:
    """Staff assigned forty days ago, with yesterday's visits: W1 130 minutes in two visits, L1
    119, W2 120 on the city's calendar day (00:30 and 23:00 local), W4 120 the day before."""
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = settings_for_test(pg_server.url, broker.bootstrap, "grids", api_tokens=TOKENS)
    app = create_app(settings, refresh_seconds=0.2)
    try:
        async with running_app(app) as client:
            r = await client.post(
                "/v1/regions/import", content=TREE.encode(), headers={"Content-Type": "text/csv"}
            )
            assert r.status_code == 200, r.text
            for grid, staff, role in STAFF:
                r = await client.put(
                    f"/v1/grids/{grid}/staff/{staff}", json={"role": role, "name": staff}
                )
                assert r.status_code in (200, 201), r.text
            await app.state.runtime.pool.execute(
                "UPDATE grid_staff SET assigned_at = now() - interval '40 days'"
            )
            day = datetime.now(TZ).date() - timedelta(days=1)
            local = lambda h, m=0: datetime.combine(day, time(h, m), TZ)  # noqa: E731
            await visit(client, "G1", "W1", local(9), 90)
            await visit(client, "G1", "W1", local(15), 40)
            await visit(client, "G1", "L1", local(10), 119)
            await visit(client, "G2", "W2", local(0, 30), 60)
            await visit(client, "G2", "W2", local(23), 60)
            await visit(client, "G4", "W4", local(0, 30) - timedelta(hours=1), 120)
            yield Duty(client, day)
    finally:
        broker.stop()


async def test_staff_assigned_today_owe_nothing_for_yesterday(duty: Duty) -> None:
    tree = "region_id,level,name,parent_id\nC9,community,c,S2\nG9,grid,g,C9\n"
    await duty.client.post(
        "/v1/regions/import", content=tree.encode(), headers={"Content-Type": "text/csv"}
    )
    await duty.client.put("/v1/grids/G9/staff/W9", json={"role": "worker", "name": "W9"})
    r = await duty.figures(within="G9")
    assert (r.json()["workers"], r.json()["by_street"]) == ([], [])


async def test_a_day_is_met_by_the_citys_minutes_on_the_citys_calendar_day(duty: Duty) -> None:
    r = await duty.figures()
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["minutes_per_day"] == 120 and body["kind"] == "day"
    assert verdicts(body) == {"L1": False, "W1": True, "W2": True, "W4": False}


async def test_grids_communities_and_streets_count_who_met_and_who_did_not(duty: Duty) -> None:
    body = (await duty.figures()).json()
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


async def test_those_who_missed_are_listed_with_the_days_missed(duty: Duty) -> None:
    missed = await duty.figures(met=False)
    assert {w["staff_id"]: w["days_missed"] for w in missed.json()["workers"]} == {
        "L1": [duty.day.isoformat()],
        "W4": [duty.day.isoformat()],
    }


async def test_a_street_admin_sees_its_street_only(duty: Duty) -> None:
    street = await duty.client.get(
        "/v1/visit-duty", params={"period": duty.day.isoformat()}, headers=STREET_ADMIN
    )
    assert set(verdicts(street.json())) == {"L1", "W1", "W2"}


async def test_the_gauge_shows_yesterday_per_street(duty: Duty) -> None:
    async def gauge() -> bool:
        text = (await duty.client.get("/metrics")).text
        return (
            'partygrid_grids_visit_duty_workers{status="met",street="S1"} 2.0' in text
            or 'partygrid_grids_visit_duty_workers{street="S1",status="met"} 2.0' in text
        )

    await wait_until(gauge)


async def test_only_a_city_admin_changes_the_setting(duty: Duty) -> None:
    new = {"minutes_per_day": 119, "weekdays": [duty.day.isoweekday()]}
    r = await duty.client.put("/v1/visit-duty/setting", json=new, headers=STREET_ADMIN)
    assert r.status_code == 403


async def test_a_setting_out_of_range_is_invalid(duty: Duty) -> None:
    for bad in (
        {"minutes_per_day": 0},
        {"minutes_per_day": 60, "weekdays": [8]},
        {"minutes_per_day": 60, "weekdays": []},
    ):
        r = await duty.client.put("/v1/visit-duty/setting", json=bad)
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), bad


async def only_yesterdays_weekday_at_119_minutes(duty: Duty) -> None:
    new = {"minutes_per_day": 119, "weekdays": [duty.day.isoweekday()]}
    assert (await duty.client.put("/v1/visit-duty/setting", json=new)).status_code == 200


async def test_the_setting_changes_the_verdicts(duty: Duty) -> None:
    await only_yesterdays_weekday_at_119_minutes(duty)
    try:
        assert verdicts((await duty.figures()).json())["L1"] is True
    finally:
        await duty.client.put("/v1/visit-duty/setting", json=DEFAULT_SETTING)


async def test_a_week_owes_every_duty_day_of_it_so_far(duty: Duty) -> None:
    await only_yesterdays_weekday_at_119_minutes(duty)
    try:
        week = f"{duty.day.isocalendar()[0]}-W{duty.day.isocalendar()[1]:02d}"
        body = (await duty.figures(week)).json()
        assert body["kind"] == "week" and verdicts(body)["W1"] is True
    finally:
        await duty.client.put("/v1/visit-duty/setting", json=DEFAULT_SETTING)


async def test_a_month_counts_the_days_met_and_missed(duty: Duty) -> None:
    month = (await duty.figures(duty.day.strftime("%Y-%m"))).json()
    w1 = next(w for w in month["workers"] if w["staff_id"] == "W1")
    assert w1["days_met"] == 1 and len(w1["days_missed"]) == w1["duty_days"] - 1
    assert w1["met"] is (w1["duty_days"] == 1)


async def test_a_period_that_is_no_day_week_or_month_or_has_not_begun_is_refused(
    duty: Duty,
) -> None:
    for period, error in (
        ("2026-13", "invalid_period"),
        ("yesterday", "invalid_period"),
        ((duty.day + timedelta(days=3)).isoformat(), "future_period"),
    ):
        r = await duty.figures(period)
        assert (r.status_code, r.json()["error"]) == (422, error), period
