"""Small wishes (微心愿) over HTTP, the real database and broker: exactly one of two
simultaneous claims wins, expired wishes cannot be claimed, fulfilment logs one
wish_fulfilled, and token scopes follow the region tree."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from dev.testing import running_app
from services.activities.main import create_app
from shared.events import ACTIVITY_LOGGED, ACTIVITY_REVOKED
from shared.events.activities import WISH_CLAIMED, WISH_POSTED

from .helpers import COMMUNITY, SOURCE, at, error, exactly, seed_members, seed_regions

COMMUNITY_ADMIN = "community-admin-token-0001"
STREET_ADMIN = "street-admin-token-00000001"
OTHER_ADMIN = "community-admin-token-0002"


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


async def test_one_claim_wins_expiry_fulfilment_and_scopes(settings_for, kafka) -> None:
    tokens = (
        "test-city-admin-token-0001:city_admin:*,test-readonly-token-00001:service:*,"
        f"{COMMUNITY_ADMIN}:community_admin:{COMMUNITY},{OTHER_ADMIN}:community_admin:OTHER,"
        f"{STREET_ADMIN}:street_admin:350302001"
    )
    app = create_app(settings_for("activities", api_tokens=tokens))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await seed_regions(kafka.bootstrap, pool)
        await seed_members(kafka.bootstrap, pool, "M1", "M2", "M3")

        # posting: the community's own admin and its street's admin may; another may not
        r = await client.post(
            "/v1/wishes", json=wish(), headers={"Authorization": f"Bearer {OTHER_ADMIN}"}
        )
        assert (r.status_code, error(r)) == (403, "forbidden")
        r = await client.post(
            "/v1/wishes", json=wish(), headers={"Authorization": f"Bearer {STREET_ADMIN}"}
        )
        assert r.status_code == 201, r.text
        r = await client.post(
            "/v1/wishes", json=wish(), headers={"Authorization": f"Bearer {COMMUNITY_ADMIN}"}
        )
        assert r.status_code == 201, r.text
        w = r.json()
        assert w["status"] == "open" and w["claimed_by"] is None
        r = await client.get("/v1/wishes", headers={"Authorization": f"Bearer {OTHER_ADMIN}"})
        assert r.status_code == 403
        r = await client.post("/v1/wishes", json=wish(expires_at=at(-1)))
        assert (r.status_code, error(r)) == (422, "invalid_expiry")
        assert await pool.fetchval("SELECT count(*) FROM wishes") == 2

        # two simultaneous claims on real requests: exactly one wins
        url = f"/v1/wishes/{w['wish_id']}/claim"
        first, second = await asyncio.gather(
            client.post(url, json={"member_id": "M1"}), client.post(url, json={"member_id": "M2"})
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        winner = first if first.status_code == 200 else second
        loser = second if winner is first else first
        assert error(loser) == "already_claimed"
        claimed_by = winner.json()["claimed_by"]
        assert (
            await pool.fetchval("SELECT claimed_by FROM wishes WHERE wish_id = $1", w["wish_id"])
            == claimed_by
        )
        r = await client.post(url, json={"member_id": "M3"})
        assert (r.status_code, error(r)) == (409, "already_claimed")
        r = await client.post(url.replace(w["wish_id"], "W-none"), json={"member_id": "M3"})
        assert r.status_code == 404

        # an unclaimed wish expires and then cannot be claimed
        soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        short = (await client.post("/v1/wishes", json=wish(expires_at=soon))).json()
        r = await client.post(f"/v1/wishes/{short['wish_id']}/claim", json={"member_id": "NOBODY"})
        assert (r.status_code, error(r)) == (422, "unknown_member")
        await asyncio.sleep(1.2)
        r = await client.post(f"/v1/wishes/{short['wish_id']}/claim", json={"member_id": "M3"})
        assert (r.status_code, error(r)) == (409, "wish_expired")
        expired = (await client.get("/v1/wishes", params={"status": "expired"})).json()["items"]
        assert [x["wish_id"] for x in expired] == [short["wish_id"]]
        r = await client.post(f"/v1/wishes/{short['wish_id']}/fulfil")
        assert (r.status_code, error(r)) == (409, "wish_not_claimed")

        # fulfilment confirmed by the community: one wish_fulfilled, a retry adds nothing
        r = await client.post(
            f"/v1/wishes/{w['wish_id']}/fulfil",
            headers={"Authorization": f"Bearer {COMMUNITY_ADMIN}"},
        )
        assert r.status_code == 200 and r.json()["published"] is True, r.text
        assert r.json()["wish"]["status"] == "fulfilled"
        r = await client.post(f"/v1/wishes/{w['wish_id']}/fulfil")
        assert r.status_code == 200 and r.json()["published"] is False
        [logged] = await exactly(kafka.bootstrap, pool, ACTIVITY_LOGGED, 1)
        assert logged.subject == claimed_by and logged.id == f"wish/{w['wish_id']}"
        assert logged.data == {
            "member_id": claimed_by,
            "activity_type": "wish_fulfilled",
            "activity_id": w["wish_id"],
            "community_id": COMMUNITY,
        }

        # withdrawing a fulfilled wish revokes it
        r = await client.post(f"/v1/wishes/{w['wish_id']}/cancel", json={"reason": "duplicate"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        [revoked] = await exactly(kafka.bootstrap, pool, ACTIVITY_REVOKED, 1)
        assert revoked.data["revokes"] == {"source": SOURCE, "id": logged.id}

        [claimed] = await exactly(kafka.bootstrap, pool, WISH_CLAIMED, 1)
        assert claimed.data["member_id"] == claimed_by
        posted = await exactly(kafka.bootstrap, pool, WISH_POSTED, 3)
        assert all("beneficiary" not in e.data for e in posted)  # personal detail stays here
