"""Party organisations (所属党组织) through the HTTP API on the shared service: defined with a
kind and an optional parent, published as partygrid.party_org.defined once per change, and
every endpoint needs a known token."""

from __future__ import annotations

from shared.events.members import PARTY_ORG_DEFINED

from .conftest import READONLY_TOKEN, Env, unique


def _detail(response) -> dict:
    body = response.json()
    assert body["details"], body
    return body["details"][0]


async def test_a_new_organisation_is_created_and_the_same_again_changes_nothing(
    service: Env,
) -> None:
    parent, org = unique("PO"), unique("PO")
    await service.org(parent, unique("市直机关工委"), "organ")
    body = {"name": unique("财政局党委"), "kind": "organ", "parent_id": parent}
    created = await service.client.put(f"/v1/party-orgs/{org}", json=body)
    same = await service.client.put(f"/v1/party-orgs/{org}", json=body)
    assert created.status_code == 201 and created.json()["parent_id"] == parent
    assert same.status_code == 200
    # the no-op PUT published nothing
    assert len(await service.events_about(PARTY_ORG_DEFINED, org)) == 1


async def test_an_unknown_kind_is_refused_naming_the_field(service: Env) -> None:
    r = await service.client.put(
        f"/v1/party-orgs/{unique('PO')}", json={"name": "x", "kind": "church"}
    )
    assert r.status_code == 422 and _detail(r)["field"] == "body.kind"


async def test_an_unknown_parent_is_refused(service: Env) -> None:
    r = await service.client.put(
        f"/v1/party-orgs/{unique('PO')}", json={"name": "x", "kind": "school", "parent_id": "NOPE"}
    )
    assert r.status_code == 422
    assert _detail(r) == {"field": "parent_id", "rule": "must be an existing Party organisation"}


async def test_a_parent_below_the_organisation_is_refused_as_a_cycle(service: Env) -> None:
    top, below = unique("PO"), unique("PO")
    await service.org(top, unique("工委"), "organ")
    await service.org(below, unique("党委"), "organ", parent=top)
    r = await service.client.put(
        f"/v1/party-orgs/{top}", json={"name": "工委", "kind": "organ", "parent_id": below}
    )
    assert r.status_code == 422 and _detail(r)["field"] == "parent_id"


async def test_a_read_only_token_may_not_define_an_organisation(service: Env) -> None:
    org = unique("PO")
    async with service.as_token(READONLY_TOKEN) as readonly:
        r = await readonly.put(f"/v1/party-orgs/{org}", json={"name": "x", "kind": "school"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert (await service.client.get(f"/v1/party-orgs/{org}")).status_code == 404


async def test_every_endpoint_needs_a_known_token(service: Env) -> None:
    async with service.as_token("not-a-known-token-000") as anonymous:
        for path in ("/v1/members/M1", "/v1/communities/C1/members", "/v1/party-orgs"):
            r = await anonymous.get(path)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized", path
