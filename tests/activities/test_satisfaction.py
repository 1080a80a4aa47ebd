"""Residents' satisfaction with small wishes through the HTTP API, the real database and
broker: a fulfilled wish is rated once, an unfulfilled one not at all; figures per community
and street; each rating is one satisfaction.rated without the comment; the street's gauge."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from dev.testing import cloud_event, publish_raw, running_app, wait_until
from services.activities.main import create_app
from shared.events import REGION_DEFINED
from shared.events.satisfaction import SATISFACTION_RATED

from .helpers import at, error, exactly, seed_members

STREET, C1, C2 = "350399001", "350399001001", "350399001002"


def region(region_id: str, level: str, parent: str) -> tuple[str, bytes, dict[str, Any]]:
    data = {"region_id": region_id, "level": level, "name": region_id, "parent_id": parent}
    return REGION_DEFINED, region_id.encode(), cloud_event(REGION_DEFINED, data, subject=region_id)


async def wish(client: httpx.AsyncClient, community: str, fulfil: bool = True) -> str:
    r = await client.post(
        "/v1/wishes", json={"community_id": community, "title": "A ramp", "expires_at": at(60)}
    )
    wish_id = r.json()["wish_id"]
    await client.post(f"/v1/wishes/{wish_id}/claim", json={"member_id": "M1"})
    if fulfil:
        assert (await client.post(f"/v1/wishes/{wish_id}/fulfil")).status_code == 200
    return str(wish_id)


async def test_fulfilled_wishes_are_rated_once_and_summed_per_region(settings_for, kafka) -> None:
    app = create_app(settings_for("activities"))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await publish_raw(
            kafka.bootstrap,
            [
                region(STREET, "street", "350399"),
                *(region(c, "community", STREET) for c in (C1, C2)),
            ],
        )
        await seed_members(kafka.bootstrap, pool, "M1")
        await wait_until(lambda: pool.fetchval("SELECT count(*) = 3 FROM region_projection"))

        claimed = await wish(client, C1, fulfil=False)
        r = await client.post(f"/v1/wishes/{claimed}/rating", json={"score": 4})
        assert (r.status_code, error(r)) == (409, "not_ratable")
        r = await client.post(f"/v1/wishes/{claimed}/rating", json={"score": 9})
        assert (r.status_code, error(r)) == (422, "invalid_request")

        for community, score in ((C1, 5), (C1, 3), (C2, 2)):
            done = await wish(client, community)
            r = await client.post(
                f"/v1/wishes/{done}/rating", json={"score": score, "comment": "谢谢"}
            )
            assert r.status_code == 201, r.text
        r = await client.post(f"/v1/wishes/{done}/rating", json={"score": 5})
        assert (r.status_code, error(r)) == (409, "already_rated")

        body = (await client.get("/v1/satisfaction/wishes")).json()
        figures = {
            i["region_id"]: (i["ratings"], Decimal(str(i["average"]))) for i in body["items"]
        }
        assert figures == {C1: (2, Decimal(4)), C2: (1, Decimal(2))}
        body = (await client.get(f"/v1/satisfaction/wishes?level=street&within={STREET}")).json()
        [street] = body["items"]
        assert (street["region_id"], street["ratings"], street["by_score"]) == (
            STREET,
            3,
            {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1},
        )
        assert Decimal(str(street["satisfied_share"])) == Decimal("0.3333")
        metrics = (await client.get("/metrics")).text
        assert (
            f'partygrid_activities_wish_satisfaction_average{{street="{STREET}"}} 3.33' in metrics
        )

        events = await exactly(kafka.bootstrap, pool, SATISFACTION_RATED, 3)
        assert {e.data["score"] for e in events} == {5, 3, 2}
        assert all("comment" not in e.data for e in events)
