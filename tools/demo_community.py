"""The community practices in the demo city: what no outside system sends through Kafka, done
through the services' HTTP APIs the way a community office or a grid worker would.

Volunteer hours reach the time bank by themselves (the demo's volunteer platform logs
volunteer_service with hours). This adds, once after the city is loaded:
- a catalogue of services for hours in the first communities (time bank);
- a worker in each of the first grids, with visits logged today (visit duty);
- in those grids, an incident reported, handled, closed and rated by the resident, and in the
  first communities a small wish posted, claimed, fulfilled and rated (residents' satisfaction);
and then, every `every` seconds, one more visit, one more rated incident, and a redemption of
hours by a member who holds enough. Resident units are registered in the members service by
its API only (the demo city's units come through Kafka), so their evaluation is not in the demo.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tools.demo import TZ, City, say

OFFERS = (("上门理发一次", 2), ("助餐送餐一周", 5), ("家电小修一次", 3))
FIRST = 6  # communities and grids set up once
MARKER = "demo-community.json"


def places(city: City) -> list[tuple[str, str, str]]:
    """(community, its first grid, a member reported there) for the first communities."""
    out = []
    for c in city.communities:
        helper = next((m for m in city.members if m.community_id == c.region_id), None)
        if helper is not None:
            out.append((c.region_id, city.grids_of[c.region_id][0], helper.member_id))
        if len(out) == FIRST:
            break
    return out


async def ready(city: City, grids: httpx.AsyncClient, activities: httpx.AsyncClient) -> bool:
    """Both services have taken in the city: the grids, and the members (a member's time bank
    account answers once the member is known)."""
    for _, grid, helper in places(city):
        if (await grids.get(f"/v1/regions/{grid}")).status_code != 200:
            return False
        if (await activities.get(f"/v1/timebank/accounts/{helper}")).status_code != 200:
            return False
    return True


async def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return dict(response.json())


async def incident_rated(grids: httpx.AsyncClient, grid: str, rng: random.Random) -> None:
    opened = await _ok(
        await grids.post(
            f"/v1/grids/{grid}/incidents",
            json={"category": "sanitation", "title": "楼道堆物", "time_limit_hours": 48},
        )
    )
    inc = opened["incident_id"]
    await _ok(await grids.post(f"/v1/incidents/{inc}/assign", json={"assignee_id": f"W-{grid}"}))
    await _ok(await grids.post(f"/v1/incidents/{inc}/resolve", json={"resolution": "已清理"}))
    await _ok(await grids.post(f"/v1/incidents/{inc}/close", json={}))
    score = rng.choices((5, 4, 3, 2), (5, 3, 1, 1))[0]
    await _ok(await grids.post(f"/v1/incidents/{inc}/rating", json={"score": score}))


async def visit(grids: httpx.AsyncClient, grid: str, rng: random.Random) -> None:
    minutes = rng.randint(30, 90)
    # earlier today on the city's calendar (the duty is counted per city day)
    now = datetime.now(TZ)
    earliest = max(now - timedelta(hours=4), now.replace(hour=0, minute=0, second=0, microsecond=0))
    when = earliest + (now - earliest) * rng.random()
    await _ok(
        await grids.post(
            f"/v1/grids/{grid}/visits",
            json={
                "staff_id": f"W-{grid}",
                "households": rng.randint(1, 6),
                "duration_minutes": minutes,
                "visited_at": when.isoformat(),
            },
        )
    )


async def setup(
    city: City, grids: httpx.AsyncClient, activities: httpx.AsyncClient, seed: int = 1
) -> dict[str, int]:
    """The once-only part; returns what it created."""
    rng = random.Random(seed)
    counts = {"offers": 0, "workers": 0, "visits": 0, "incidents": 0, "wishes": 0}
    for community, grid, helper in places(city):
        for title, hours in OFFERS:
            await _ok(
                await activities.post(
                    "/v1/timebank/offers",
                    json={"community_id": community, "title": title, "hours": hours},
                )
            )
            counts["offers"] += 1
        await _ok(
            await grids.put(
                f"/v1/grids/{grid}/staff/W-{grid}", json={"role": "worker", "name": "网格员"}
            )
        )
        counts["workers"] += 1
        for _ in range(rng.randint(1, 3)):
            await visit(grids, grid, rng)
            counts["visits"] += 1
        await incident_rated(grids, grid, rng)
        counts["incidents"] += 1
        wish = await _ok(
            await activities.post(
                "/v1/wishes",
                json={
                    "community_id": community,
                    "title": "独居老人的助行器",
                    "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                },
            )
        )
        wid = wish["wish_id"]
        await _ok(await activities.post(f"/v1/wishes/{wid}/claim", json={"member_id": helper}))
        await _ok(await activities.post(f"/v1/wishes/{wid}/fulfil"))
        await _ok(
            await activities.post(f"/v1/wishes/{wid}/rating", json={"score": rng.randint(4, 5)})
        )
        counts["wishes"] += 1
    return counts


async def tick(
    city: City, grids: httpx.AsyncClient, activities: httpx.AsyncClient, rng: random.Random
) -> None:
    """One step of the living city: a visit, a rated incident, and a redemption if affordable."""
    community, grid, _ = rng.choice(places(city))
    await visit(grids, grid, rng)
    await incident_rated(grids, grid, rng)
    offers = (await _ok(await activities.get(f"/v1/timebank/offers?community_id={community}")))[
        "items"
    ]
    candidates = [m for m in city.members if m.community_id == community][:200]
    for member in rng.sample(candidates, min(20, len(candidates))):
        r = await activities.get(f"/v1/timebank/accounts/{member.member_id}")
        if r.status_code == 200 and offers:
            offer = min(offers, key=lambda o: float(o["hours"]))
            if float(r.json()["balance"]) >= float(offer["hours"]):
                await activities.post(
                    f"/v1/timebank/offers/{offer['offer_id']}/redemptions",
                    json={"account_id": member.member_id},
                )
                return


async def run(
    city: City, base: dict[str, str], token: str, marker: Path, *, every: float = 30.0
) -> None:
    """`make run`: once the services have the city, set up once (then `marker` exists), and
    tick every `every` seconds until cancelled."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base["grids"], headers=headers, timeout=10) as grids,
        httpx.AsyncClient(base_url=base["activities"], headers=headers, timeout=10) as activities,
    ):
        while not await ready(city, grids, activities):
            await asyncio.sleep(5)
        if not marker.exists():
            counts = await setup(city, grids, activities)
            marker.write_text(json.dumps(counts))
            say("community practices: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        rng = random.Random()
        while True:
            await asyncio.sleep(every)
            try:
                await tick(city, grids, activities, rng)
            except (httpx.HTTPError, RuntimeError) as exc:
                say(f"community tick failed, going on: {exc}")
