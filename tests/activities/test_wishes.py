"""Small wishes (微心愿) over HTTP, the real database and broker: exactly one of two
simultaneous claims wins, expired wishes cannot be claimed, fulfilment logs one
wish_fulfilled, and token scopes follow the region tree. The tests share one service (the
`service` fixture); each posts its own wishes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED
from shared.events.activities import WISH_CLAIMED, WISH_POSTED

from .helpers import (
    COMMUNITY,
    COMMUNITY_ADMIN,
    OTHER_ADMIN,
    SOURCE,
    STREET_ADMIN,
    Service,
    at,
    error,
    with_id,
)


def wish(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "community_id": COMMUNITY,
        "title": "A wheelchair ramp for building 3",
        "description": "Mrs. Li cannot get out on her own.",
        "beneficiary": "Mrs. Li, building 3",
        "expires_at": at(60),
    }
    body.update(overrides)
    return body


def as_(token: str) -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


async def posted(service: Service, **overrides: object) -> dict[str, Any]:
    r = await service.client.post("/v1/wishes", json=wish(**overrides))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def claimed(service: Service, member_id: str = "M1") -> dict[str, Any]:
    w = await posted(service)
    r = await service.client.post(f"/v1/wishes/{w['wish_id']}/claim", json={"member_id": member_id})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_another_communitys_admin_may_not_post_or_list_wishes(service: Service) -> None:
    r = await service.client.post("/v1/wishes", json=wish(), **as_(OTHER_ADMIN))
    assert (r.status_code, error(r)) == (403, "forbidden")
    r = await service.client.get("/v1/wishes", **as_(OTHER_ADMIN))
    assert r.status_code == 403


async def test_the_communitys_own_and_its_streets_admin_may_post_a_wish(service: Service) -> None:
    before = await service.pool.fetchval("SELECT count(*) FROM wishes")
    r = await service.client.post("/v1/wishes", json=wish(), **as_(STREET_ADMIN))
    assert r.status_code == 201, r.text
    r = await service.client.post("/v1/wishes", json=wish(), **as_(COMMUNITY_ADMIN))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "open" and r.json()["claimed_by"] is None
    assert await service.pool.fetchval("SELECT count(*) FROM wishes") == before + 2


async def test_a_wish_must_expire_in_the_future(service: Service) -> None:
    before = await service.pool.fetchval("SELECT count(*) FROM wishes")
    r = await service.client.post("/v1/wishes", json=wish(expires_at=at(-1)))
    assert (r.status_code, error(r)) == (422, "invalid_expiry")
    assert await service.pool.fetchval("SELECT count(*) FROM wishes") == before


async def test_of_two_simultaneous_claims_exactly_one_wins(service: Service) -> None:
    w = await posted(service)
    url = f"/v1/wishes/{w['wish_id']}/claim"
    first, second = await asyncio.gather(
        service.client.post(url, json={"member_id": "M1"}),
        service.client.post(url, json={"member_id": "M2"}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    winner = first if first.status_code == 200 else second
    loser = second if winner is first else first
    assert error(loser) == "already_claimed"
    claimed_by = winner.json()["claimed_by"]
    stored = "SELECT claimed_by FROM wishes WHERE wish_id = $1"
    assert await service.pool.fetchval(stored, w["wish_id"]) == claimed_by
    [event] = await with_id(service, WISH_CLAIMED, f"wish/{w['wish_id']}/claimed/", prefix=True)
    assert event.data["member_id"] == claimed_by


async def test_a_claimed_wish_cannot_be_claimed_again(service: Service) -> None:
    w = await claimed(service)
    r = await service.client.post(f"/v1/wishes/{w['wish_id']}/claim", json={"member_id": "M3"})
    assert (r.status_code, error(r)) == (409, "already_claimed")


async def test_claiming_an_unknown_wish_is_not_found(service: Service) -> None:
    r = await service.client.post("/v1/wishes/W-none/claim", json={"member_id": "M3"})
    assert r.status_code == 404


async def test_an_unknown_member_cannot_claim_a_wish(service: Service) -> None:
    w = await posted(service)
    r = await service.client.post(f"/v1/wishes/{w['wish_id']}/claim", json={"member_id": "NOBODY"})
    assert (r.status_code, error(r)) == (422, "unknown_member")


async def test_an_expired_wish_is_listed_as_expired_and_cannot_be_claimed_or_fulfilled(
    service: Service,
) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    short = await posted(service, expires_at=soon)
    await asyncio.sleep(1.2)  # the wish's own expiry time has to pass; nothing else changes
    r = await service.client.post(f"/v1/wishes/{short['wish_id']}/claim", json={"member_id": "M3"})
    assert (r.status_code, error(r)) == (409, "wish_expired")
    expired = (await service.client.get("/v1/wishes", params={"status": "expired"})).json()
    assert [x["wish_id"] for x in expired["items"]] == [short["wish_id"]]
    r = await service.client.post(f"/v1/wishes/{short['wish_id']}/fulfil")
    assert (r.status_code, error(r)) == (409, "wish_not_claimed")


async def test_fulfilment_logs_one_wish_fulfilled_and_a_retry_adds_nothing(
    service: Service,
) -> None:
    w = await claimed(service, "M2")
    r = await service.client.post(f"/v1/wishes/{w['wish_id']}/fulfil", **as_(COMMUNITY_ADMIN))
    assert r.status_code == 200 and r.json()["published"] is True, r.text
    assert r.json()["wish"]["status"] == "fulfilled"
    r = await service.client.post(f"/v1/wishes/{w['wish_id']}/fulfil")
    assert r.status_code == 200 and r.json()["published"] is False
    [logged] = await with_id(service, ACTIVITY_LOGGED, f"wish/{w['wish_id']}")
    assert logged.subject == "M2"
    assert logged.data == {
        "member_id": "M2",
        "activity_type": "wish_fulfilled",
        "activity_id": w["wish_id"],
        "community_id": COMMUNITY,
    }


async def test_cancelling_a_fulfilled_wish_revokes_its_logged_activity(service: Service) -> None:
    w = await claimed(service, "M3")
    r = await service.client.post(f"/v1/wishes/{w['wish_id']}/fulfil")
    assert r.status_code == 200, r.text
    r = await service.client.post(f"/v1/wishes/{w['wish_id']}/cancel", json={"reason": "duplicate"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    logged_id = f"wish/{w['wish_id']}"
    [revoked] = await with_id(service, ACTIVITY_REVOKED, f"{logged_id}/revoked")
    assert revoked.data["revokes"] == {"source": SOURCE, "id": logged_id}


async def test_wish_posted_leaves_the_beneficiary_out(service: Service) -> None:
    w = await posted(service)
    [event] = await with_id(service, WISH_POSTED, f"wish/{w['wish_id']}/posted")
    assert event.data["wish_id"] == w["wish_id"]
    assert "beneficiary" not in event.data  # personal detail stays in this service
