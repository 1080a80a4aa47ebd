"""Residents' satisfaction with small wishes through the HTTP API, the real database and
broker: a fulfilled wish is rated once, an unfulfilled one not at all; figures per community
and street; each rating is one satisfaction.rated without the comment; the street's gauge.
The tests share one service (the `service` fixture) and the ratings of `rated`, given in a
street of their own so that no other test's wishes count in its figures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from dev.testing import cloud_event, publish_raw, wait_until
from shared.events import REGION_DEFINED
from shared.events.satisfaction import SATISFACTION_RATED

from .helpers import Service, at, error, with_id

STREET, C1, C2 = "350399001", "350399001001", "350399001002"


def region(region_id: str, level: str, parent: str) -> tuple[str, bytes, dict[str, Any]]:
    data = {"region_id": region_id, "level": level, "name": region_id, "parent_id": parent}
    return REGION_DEFINED, region_id.encode(), cloud_event(REGION_DEFINED, data, subject=region_id)


async def wish(service: Service, community: str, fulfil: bool = True) -> str:
    r = await service.client.post(
        "/v1/wishes", json={"community_id": community, "title": "A ramp", "expires_at": at(60)}
    )
    wish_id = r.json()["wish_id"]
    await service.client.post(f"/v1/wishes/{wish_id}/claim", json={"member_id": "M1"})
    if fulfil:
        assert (await service.client.post(f"/v1/wishes/{wish_id}/fulfil")).status_code == 200
    return str(wish_id)


@dataclass
class Rated:
    service: Service
    wishes: dict[str, int]  # wish id: score


@pytest.fixture(scope="module")
async def rated(service: Service) -> Rated:
    """Three fulfilled wishes rated 5 and 3 (community C1) and 2 (C2) of STREET."""
    regions = [
        region(STREET, "street", "350399"),
        *(region(c, "community", STREET) for c in (C1, C2)),
    ]
    await publish_raw(service.bootstrap, regions)
    known = "SELECT count(*) = 3 FROM regions WHERE region_id = ANY($1::text[])"
    await wait_until(lambda: service.pool.fetchval(known, [STREET, C1, C2]))
    wishes = {}
    for community, score in ((C1, 5), (C1, 3), (C2, 2)):
        done = await wish(service, community)
        r = await service.client.post(
            f"/v1/wishes/{done}/rating", json={"score": score, "comment": "谢谢"}
        )
        assert r.status_code == 201, r.text
        wishes[done] = score
    return Rated(service, wishes)


async def test_a_wish_not_yet_fulfilled_cannot_be_rated(rated: Rated) -> None:
    claimed = await wish(rated.service, C1, fulfil=False)
    r = await rated.service.client.post(f"/v1/wishes/{claimed}/rating", json={"score": 4})
    assert (r.status_code, error(r)) == (409, "not_ratable")


async def test_a_score_is_from_1_to_5(rated: Rated) -> None:
    claimed = await wish(rated.service, C1, fulfil=False)
    r = await rated.service.client.post(f"/v1/wishes/{claimed}/rating", json={"score": 9})
    assert (r.status_code, error(r)) == (422, "invalid_request")


async def test_a_wish_is_rated_once(rated: Rated) -> None:
    done = next(iter(rated.wishes))
    r = await rated.service.client.post(f"/v1/wishes/{done}/rating", json={"score": 5})
    assert (r.status_code, error(r)) == (409, "already_rated")


async def test_figures_per_community_count_ratings_and_their_mean(rated: Rated) -> None:
    for query in ("", f"?within={STREET}"):  # the whole city, and within the street
        body = (await rated.service.client.get(f"/v1/satisfaction/wishes{query}")).json()
        figures = {
            i["region_id"]: (i["ratings"], Decimal(str(i["average"])))
            for i in body["items"]
            if i["region_id"] in (C1, C2) or query
        }
        assert figures == {C1: (2, Decimal(4)), C2: (1, Decimal(2))}, query


async def test_figures_per_street_sum_its_communities(rated: Rated) -> None:
    url = f"/v1/satisfaction/wishes?level=street&within={STREET}"
    [street] = (await rated.service.client.get(url)).json()["items"]
    assert (street["region_id"], street["ratings"], street["by_score"]) == (
        STREET,
        3,
        {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1},
    )
    assert Decimal(str(street["satisfied_share"])) == Decimal("0.3333")


async def test_the_streets_gauge_shows_its_mean_rating(rated: Rated) -> None:
    metrics = (await rated.service.client.get("/metrics")).text
    assert f'partygrid_activities_wish_satisfaction_average{{street="{STREET}"}} 3.33' in metrics


async def test_each_rating_is_one_satisfaction_rated_without_the_comment(rated: Rated) -> None:
    for wish_id, score in rated.wishes.items():
        [event] = await with_id(rated.service, SATISFACTION_RATED, f"satisfaction/wish/{wish_id}")
        assert event.data["score"] == score
        assert "comment" not in event.data
