"""The community practices in the demo city: what no outside system sends through Kafka, done
through the services' HTTP APIs the way a community office or a grid worker would.

Volunteer hours reach the time bank by themselves (the demo's volunteer platform logs
volunteer_service with hours). This adds, once after the city is loaded:
- a catalogue of services for hours in the first communities (time bank);
- a worker in each of the first grids, with visits logged today (visit duty);
- in those grids, an incident reported, handled, closed and rated by the resident, and in the
  first communities a small wish posted, claimed, fulfilled and rated (residents' satisfaction);
- the resident units of one street, registered with the members service (its API is where
  units are kept and evaluated: the demo's organisation registry only announces them to the
  other services), each with a co-building agreement whose commitments are done, missed or
  still planned, a report-back (述职) for the year with its evaluation, and a part-time
  committee member (兼职委员) from the unit where it has an in-service member; the unit ranking
  of the street and of its communities then has figures (participation comes from scoring's
  points as the simulated activities go on);
and then, every `every` seconds, one more visit, one more rated incident, a redemption of
hours by a member who holds enough, and a planned commitment of a unit marked done.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tools.demo import TZ, City, Unit, say

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


COMMITMENTS = (
    "共建党员志愿服务队",
    "开放单位场地供社区活动",
    "结对帮扶困难党员",
    "参与社区环境整治",
)
EVALUATIONS, EVALUATION_WEIGHTS = ("excellent", "good", "fair", "poor"), (3, 4, 2, 1)


def street_units(city: City) -> list[Unit]:
    """The units of the street of the first community: a street ranking and its communities'."""
    street = {r.region_id: r.parent_id for r in city.communities}
    first = city.communities[0].region_id
    return [u for u in city.units if street[u.community_id] == street[first]]


def committee_member(city: City, unit: Unit) -> str | None:
    """An in-service member of the unit's Party organisation, if it has one."""
    return next((m.member_id for m in city.members if m.party_org_id == unit.party_org_id), None)


async def units_ready(city: City, members: httpx.AsyncClient) -> bool:
    """The members service has taken in the regions and members the units need."""
    street = {r.region_id: r.parent_id for r in city.communities}
    for unit in street_units(city):
        for region in (unit.community_id, street[unit.community_id]):
            # 422 until the region is known (a ranking is only within known regions)
            known = await members.get("/v1/unit-evaluations", params={"within": region})
            if known.status_code != 200:
                return False
        member = committee_member(city, unit)
        if member and (await members.get(f"/v1/members/{member}")).status_code != 200:
            return False
    return True


async def set_up_units(city: City, members: httpx.AsyncClient, seed: int = 1) -> dict[str, int]:
    """Register, report and evaluate the street's units; returns what it recorded."""
    rng = random.Random(seed)
    year = date.today().year  # the members service's default year of evaluation
    today = date.today()
    counts = {"units": 0, "commitments": 0, "reviews": 0, "committee_members": 0}
    orgs = {o.party_org_id: o for o in city.orgs}
    units = street_units(city)
    street = {r.region_id: r.parent_id for r in city.communities}
    needed: list[str] = []  # the units' organisations, each after its parents
    for unit in units:
        chain: list[str] = []
        org_id: str | None = unit.party_org_id
        while org_id is not None:
            chain.append(org_id)
            org_id = orgs[org_id].parent_id
        needed += [o for o in reversed(chain) if o not in needed]
    for org_id in needed:
        org = orgs[org_id]
        defined = {"name": org.name, "kind": org.kind}
        if org.parent_id:
            defined["parent_id"] = org.parent_id
        await _ok(await members.put(f"/v1/party-orgs/{org_id}", json=defined))
    for unit in units:
        uid = unit.unit_id
        await _ok(
            await members.put(
                f"/v1/units/{uid}",
                json={
                    "name": unit.name,
                    "party_org_id": unit.party_org_id,
                    "member_count": unit.member_count,
                },
            )
        )
        await _ok(
            await members.post(f"/v1/units/{uid}/report", json={"community_id": unit.community_id})
        )
        promised = rng.sample(COMMITMENTS, rng.randint(2, 4))
        due = [date(year, rng.randint(1, 12), rng.randint(1, 28)) for _ in promised]
        agreement = f"GJ-{year}-{uid}"
        await _ok(
            await members.post(
                f"/v1/units/{uid}/agreements",
                json={
                    "agreement_id": agreement,
                    "signed_on": date(year, 1, 1).isoformat(),
                    "valid_until": date(year, 12, 31).isoformat(),
                    "commitments": [
                        {"content": c, "due_on": d.isoformat()}
                        for c, d in zip(promised, due, strict=True)
                    ],
                },
            )
        )
        for no, due_on in enumerate(due, start=1):
            # past due: mostly done, some missed; still to come: some done early
            if due_on <= today:
                status = rng.choices(("done", "missed"), (5, 1))[0]
            else:
                status = rng.choices(("done", "planned"), (1, 2))[0]
            body: dict[str, Any] = {"status": status}
            if status == "done":
                body |= {"done_on": min(due_on, today).isoformat(), "note": "已完成"}
            await _ok(
                await members.put(
                    f"/v1/units/{uid}/agreements/{agreement}/commitments/{no}", json=body
                )
            )
            counts["commitments"] += 1
        if rng.random() < 0.8:  # a few units have not reported back yet
            await _ok(
                await members.put(
                    f"/v1/units/{uid}/reviews/{year}",
                    json={
                        "region_id": rng.choice((unit.community_id, street[unit.community_id])),
                        "reported_on": today.isoformat(),
                        "evaluation": rng.choices(EVALUATIONS, EVALUATION_WEIGHTS)[0],
                    },
                )
            )
            counts["reviews"] += 1
        member = committee_member(city, unit)
        if member is not None:
            await _ok(
                await members.put(
                    f"/v1/units/{uid}/committee-members/{member}",
                    json={"region_id": unit.community_id, "since": date(year, 1, 1).isoformat()},
                )
            )
            counts["committee_members"] += 1
        counts["units"] += 1
    return counts


async def keep_commitment(members: httpx.AsyncClient, unit_id: str, no: int) -> None:
    """The unit's commitment `no` of this year's agreement is done today."""
    agreement = f"GJ-{date.today().year}-{unit_id}"
    await _ok(
        await members.put(
            f"/v1/units/{unit_id}/agreements/{agreement}/commitments/{no}",
            json={"status": "done", "done_on": date.today().isoformat(), "note": "已完成"},
        )
    )


async def commitment_kept(city: City, members: httpx.AsyncClient, rng: random.Random) -> None:
    """A unit of the street marks one of its commitments done today."""
    unit = rng.choice(street_units(city))
    agreement = f"GJ-{date.today().year}-{unit.unit_id}"
    agreements = (await _ok(await members.get(f"/v1/units/{unit.unit_id}")))["agreements"]
    mine = next((a for a in agreements if a["agreement_id"] == agreement), None)
    if mine is not None:
        await keep_commitment(members, unit.unit_id, rng.randint(1, len(mine["commitments"])))


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
        httpx.AsyncClient(base_url=base["members"], headers=headers, timeout=10) as members,
        httpx.AsyncClient(base_url=base["grids"], headers=headers, timeout=10) as grids,
        httpx.AsyncClient(base_url=base["activities"], headers=headers, timeout=10) as activities,
    ):
        while not (await ready(city, grids, activities) and await units_ready(city, members)):
            await asyncio.sleep(5)
        if not marker.exists():
            counts = await setup(city, grids, activities)
            counts |= await set_up_units(city, members)
            marker.write_text(json.dumps(counts))
            say("community practices: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        rng = random.Random()
        while True:
            await asyncio.sleep(every)
            try:
                await tick(city, grids, activities, rng)
                await commitment_kept(city, members, rng)
            except (httpx.HTTPError, RuntimeError) as exc:
                say(f"community tick failed, going on: {exc}")
