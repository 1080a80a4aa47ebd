"""The use cases called directly, without HTTP: a use case object on the real database pool
(the shared `service`'s, with the region tree and members projected) returns domain values
and refuses with `shared.refusals.Refusal` — the kind and code the HTTP layer maps once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.activities.usecases.activities import ActivityUseCases
from services.activities.usecases.wishes import WishUseCases
from shared.auth import Principal
from shared.events import ActivityType
from shared.refusals import Kind, Refusal

from .helpers import COMMUNITY, Service

CITY = Principal(name="test", role="city_admin", scope="*")


def wish_body(expires_in: timedelta = timedelta(hours=1)) -> dict[str, object]:
    return {
        "community_id": COMMUNITY,
        "title": "New curtains for the reading room",
        "description": None,
        "beneficiary": None,
        "expires_at": datetime.now(UTC) + expires_in,
    }


def activity_body(capacity: int = 10) -> dict[str, object]:
    starts = datetime.now(UTC) + timedelta(minutes=10)
    return {
        "activity_type": ActivityType.STUDY,
        "title": "Study session",
        "organiser_kind": "party_org",
        "organiser_id": "PO-1",
        "community_id": COMMUNITY,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=1),
        "place": "Community hall",
        "capacity": capacity,
    }


async def test_a_wish_a_member_claimed_is_fulfilled_once(service: Service) -> None:
    cases = WishUseCases(service.pool, service.settings)
    wish = await cases.post_wish(CITY, wish_body())
    await cases.claim_wish(CITY, wish.wish_id, "M1")
    first = await cases.fulfil_wish(CITY, wish.wish_id)
    again = await cases.fulfil_wish(CITY, wish.wish_id)
    assert (first.wish.status, first.published) == ("fulfilled", True)
    assert (again.wish, again.published) == (first.wish, False)


async def test_an_unknown_member_is_refused_as_invalid_and_nothing_is_claimed(
    service: Service,
) -> None:
    cases = WishUseCases(service.pool, service.settings)
    wish = await cases.post_wish(CITY, wish_body())
    with pytest.raises(Refusal) as refused:
        await cases.claim_wish(CITY, wish.wish_id, "NOBODY")
    assert (refused.value.kind, refused.value.code) == (Kind.INVALID, "unknown_member")
    assert (await cases.get_wish(CITY, wish.wish_id)).claimed_by is None


async def test_a_wish_that_does_not_exist_is_refused_as_not_found(service: Service) -> None:
    with pytest.raises(Refusal) as refused:
        await WishUseCases(service.pool, service.settings).get_wish(CITY, "W-missing")
    assert refused.value.kind is Kind.NOT_FOUND


async def test_a_past_expiry_is_refused_before_anything_is_written(service: Service) -> None:
    before = await service.pool.fetchval("SELECT count(*) FROM wishes")
    with pytest.raises(Refusal) as refused:
        await WishUseCases(service.pool, service.settings).post_wish(
            CITY, wish_body(-timedelta(minutes=1))
        )
    assert (refused.value.kind, refused.value.code) == (Kind.INVALID, "invalid_expiry")
    assert await service.pool.fetchval("SELECT count(*) FROM wishes") == before


async def test_a_full_activity_refuses_another_sign_up(service: Service) -> None:
    cases = ActivityUseCases(service.pool, service.settings)
    act = await cases.create_activity(CITY, activity_body(capacity=1), publish=True)
    await cases.sign_up(CITY, act.activity_id, "M1")
    with pytest.raises(Refusal) as refused:
        await cases.sign_up(CITY, act.activity_id, "M2")
    assert (refused.value.kind, refused.value.code) == (Kind.CONFLICT, "activity_full")
    _, participants = await cases.get_activity(CITY, act.activity_id)
    assert [p.member_id for p in participants] == ["M1"]


async def test_a_code_that_is_not_the_activitys_is_refused_as_invalid(service: Service) -> None:
    cases = ActivityUseCases(service.pool, service.settings)
    act = await cases.create_activity(CITY, activity_body(), publish=True)
    shown = await cases.checkin_code(CITY, act.activity_id)
    wrong = "000000" if shown.code != "000000" else "111111"
    with pytest.raises(Refusal) as refused:
        await cases.check_in(CITY, act.activity_id, "M1", wrong)
    assert (refused.value.kind, refused.value.code) == (Kind.INVALID, "invalid_code")
    assert refused.value.detail == {"field": "code"}


async def test_an_activity_type_one_cannot_organise_is_refused_before_anything_is_written(
    service: Service,
) -> None:
    before = await service.pool.fetchval("SELECT count(*) FROM activities")
    body = {**activity_body(), "activity_type": ActivityType.WISH_FULFILLED}
    with pytest.raises(Refusal) as refused:
        await ActivityUseCases(service.pool, service.settings).create_activity(
            CITY, body, publish=False
        )
    assert (refused.value.kind, refused.value.code) == (Kind.INVALID, "invalid_activity_type")
    assert await service.pool.fetchval("SELECT count(*) FROM activities") == before
