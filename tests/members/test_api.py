"""The member registry through the HTTP API on the shared service: validation errors name the
field and rule, a refused request writes nothing, personal data is masked for everyone but
city admins and never published or logged, and member.registered / member.deregistered
validate against the shared schemas."""

from __future__ import annotations

import logging

import pytest

from shared.events import MEMBER_DEREGISTERED, MEMBER_REGISTERED

from .conftest import READONLY_TOKEN, Env, id_number, unique


def _detail(response) -> dict:
    body = response.json()
    assert body["details"], body
    return body["details"][0]


async def test_a_wrong_id_number_is_refused_without_repeating_it(service: Env) -> None:
    r = await service.register(unique("M"), id_number="110105194912310021")
    assert r.status_code == 422 and _detail(r)["field"] == "body.id_number"
    assert "check digit" in _detail(r)["rule"]
    assert "110105194912310021" not in r.text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "12345"}, "body.phone"),
        ({"category": "honorary"}, "body.category"),
        ({"party_org_id": "NOPE"}, "party_org_id"),
        ({"address_community_id": "C404"}, "address_community_id"),
    ],
)
async def test_a_refused_registration_names_the_field_and_writes_nothing(
    service: Env, fields: dict, field: str
) -> None:
    member = unique("M")
    r = await service.register(member, **fields)
    assert r.status_code == 422 and _detail(r)["field"] == field
    stored = await service.pool.fetchval(
        "SELECT count(*) FROM members WHERE member_id = $1", member
    )
    assert stored == 0


async def test_a_city_admin_sees_personal_data_unmasked(service: Env) -> None:
    number = id_number()
    r = await service.register(
        unique("M"),
        phone="13812345678",
        id_number=number,
        joined_on="2001-07-01",
        skills=["法律咨询"],
        address_community_id="C1",
    )
    assert r.status_code == 201, r.text
    assert (r.json()["id_number"], r.json()["phone"]) == (number, "13812345678")


async def test_other_tokens_see_personal_data_masked(service: Env) -> None:
    member, number = unique("M"), id_number()
    assert (
        await service.register(member, phone="13812345678", id_number=number)
    ).status_code == 201
    async with service.as_token(READONLY_TOKEN) as readonly:
        shown = (await readonly.get(f"/v1/members/{member}")).json()
    assert shown["id_number"] == number[:6] + "********" + number[-4:]
    assert shown["phone"] == "138****5678"


async def test_registering_a_registered_member_again_is_a_conflict(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member)).status_code == 201
    again = await service.register(member)
    assert again.status_code == 409 and _detail(again)["field"] == "member_id"


async def test_an_id_number_of_another_member_is_a_conflict(service: Env) -> None:
    number = id_number()
    assert (await service.register(unique("M"), id_number=number)).status_code == 201
    twin = await service.register(unique("M"), id_number=number)
    assert twin.status_code == 409 and _detail(twin)["field"] == "id_number"


async def test_a_change_of_personal_data_only_is_stored_and_not_published(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member, phone="13812345678")).status_code == 201
    r = await service.client.patch(f"/v1/members/{member}", json={"phone": "13900000000"})
    assert r.status_code == 200 and r.json()["phone"] == "13900000000"
    assert len(await service.events_about(MEMBER_REGISTERED, member)) == 1


async def test_a_change_of_an_event_field_publishes_member_registered_again(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member, joined_on="2001-07-01")).status_code == 201
    r = await service.client.patch(f"/v1/members/{member}", json={"party_org_id": "P2"})
    assert r.status_code == 200 and r.json()["party_org_id"] == "P2"
    events = sorted(await service.events_about(MEMBER_REGISTERED, member), key=lambda e: e.time)
    assert [e.data["party_org_id"] for e in events] == ["P1", "P2"]
    assert events[0].data["joined_on"] == "2001-07-01"


async def test_a_required_field_cannot_be_removed(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member)).status_code == 201
    r = await service.client.patch(f"/v1/members/{member}", json={"name": None})
    assert r.status_code == 422 and _detail(r)["field"] == "name"


async def test_changing_an_unknown_member_is_not_found(service: Env) -> None:
    r = await service.client.patch(f"/v1/members/{unique('M')}", json={"name": "x"})
    assert r.status_code == 404


async def test_an_unknown_reason_to_deregister_is_refused(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member)).status_code == 201
    r = await service.client.post(f"/v1/members/{member}/deregister", json={"reason": "bored"})
    assert r.status_code == 422 and _detail(r)["field"] == "body.reason"


async def test_a_deregistered_member_is_shown_so_and_published(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member)).status_code == 201
    r = await service.client.post(
        f"/v1/members/{member}/deregister", json={"reason": "transferred_out"}
    )
    assert r.status_code == 200 and r.json()["status"] == "deregistered"
    [event] = await service.events_about(MEMBER_DEREGISTERED, member)
    assert event.data == {"member_id": member, "reason": "transferred_out"}


async def test_deregistering_twice_is_a_conflict(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member)).status_code == 201
    path = f"/v1/members/{member}/deregister"
    assert (await service.client.post(path, json={"reason": "transferred_out"})).status_code == 200
    assert (await service.client.post(path, json={"reason": "other"})).status_code == 409


async def test_a_deregistered_member_cannot_report(service: Env) -> None:
    member = unique("M")
    assert (await service.register(member)).status_code == 201
    path = f"/v1/members/{member}/deregister"
    assert (await service.client.post(path, json={"reason": "deceased"})).status_code == 200
    r = await service.client.post(f"/v1/members/{member}/reports", json={"community_id": "C1"})
    assert r.status_code == 409


async def test_a_member_registered_again_is_active_and_published_after_leaving(
    service: Env,
) -> None:
    member = unique("M")
    assert (await service.register(member)).status_code == 201
    path = f"/v1/members/{member}/deregister"
    assert (await service.client.post(path, json={"reason": "transferred_out"})).status_code == 200
    back = await service.register(member, party_org_id="P2")
    assert back.status_code == 201 and back.json()["status"] == "active"
    registered = sorted(await service.events_about(MEMBER_REGISTERED, member), key=lambda e: e.time)
    [deregistered] = await service.events_about(MEMBER_DEREGISTERED, member)
    assert [e.data["party_org_id"] for e in registered] == ["P1", "P2"]
    assert registered[-1].time > deregistered.time


async def test_personal_data_never_reaches_events_the_broker_or_the_logs(
    service: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    member, first, second = unique("M"), id_number(), id_number()
    phones = ("13812345678", "13900000000")
    r = await service.register(member, phone=phones[0], id_number=first)
    assert r.status_code == 201, r.text
    changed = {"phone": phones[1], "id_number": second, "party_org_id": "P2"}
    assert (await service.client.patch(f"/v1/members/{member}", json=changed)).status_code == 200
    path = f"/v1/members/{member}/deregister"
    assert (await service.client.post(path, json={"reason": "transferred_out"})).status_code == 200

    assert len(await service.events_about(MEMBER_REGISTERED, member)) == 2
    published = await service.published_about(member)
    on_broker = await service.broker_bytes()
    # what is checked is there: the member's events on the broker, the requests in the logs
    assert member.encode() in on_broker and b"transferred_out" in published
    assert f"/v1/members/{member}" in caplog.text
    for secret in (*phones, first, second, first[6:14]):  # the birth date in it too
        assert secret.encode() not in published
        assert secret.encode() not in on_broker
        assert secret not in caplog.text
