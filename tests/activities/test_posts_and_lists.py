"""Service posts (设岗定责) and the three lists (三张清单, 双向认领) over HTTP, the real database
and broker: slots, one service_post per post, member and month, two-way claiming into
co-building projects, and project volunteer hours logged as volunteer_service. The tests
share one service (the `service` fixture); each sets up its own post, need or project."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shared.events import ACTIVITY_LOGGED
from shared.events.activities import PROJECT_CREATED

from .helpers import COMMUNITY, Service, error, with_id

TZ = ZoneInfo("Asia/Shanghai")


def months() -> tuple[str, str, str]:
    now = datetime.now(TZ)
    prev = (now.year - (now.month == 1), (now.month - 2) % 12 + 1)
    nxt = (now.year + (now.month == 12), now.month % 12 + 1)
    return (f"{now.year}-{now.month:02d}", f"{prev[0]}-{prev[1]:02d}", f"{nxt[0]}-{nxt[1]:02d}")


async def new_post(service: Service) -> str:
    """A post with one slot; its URL."""
    body = {
        "community_id": COMMUNITY,
        "title": "Building 3 safety watch",
        "category": "public_affairs",
        "duties": "Walk the stairwells weekly",
    }
    r = await service.client.post("/v1/service-posts", json=body)
    assert r.status_code == 201, r.text
    return f"/v1/service-posts/{r.json()['post_id']}"


async def held_post(service: Service, member_id: str = "M1") -> str:
    url = await new_post(service)
    r = await service.client.post(f"{url}/claim", json={"member_id": member_id})
    assert r.status_code == 200, r.text
    return url


async def new_need(service: Service) -> dict[str, Any]:
    body = {"community_id": COMMUNITY, "title": "Tutoring for left-behind children"}
    r = await service.client.post("/v1/needs", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def new_project(service: Service) -> dict[str, Any]:
    """A project of unit U1 (it claimed a community's need) that M1 has joined; `url` added."""
    need = await new_need(service)
    r = await service.client.post(f"/v1/needs/{need['item_id']}/claim", json={"unit_id": "U1"})
    assert r.status_code == 201, r.text
    project = dict(r.json())
    project["url"] = f"/v1/projects/{project['project_id']}"
    r = await service.client.post(f"{project['url']}/participants", json={"member_id": "M1"})
    assert r.json()["joined"] is True
    return project


# --- service posts -------------------------------------------------------------------------


async def test_a_post_category_must_be_a_known_one(service: Service) -> None:
    body = {"community_id": COMMUNITY, "title": "x", "category": "astrology", "duties": "y"}
    r = await service.client.post("/v1/service-posts", json=body)
    assert r.status_code == 422


async def test_a_member_holds_a_post_once(service: Service) -> None:
    url = await new_post(service)
    r = await service.client.post(f"{url}/claim", json={"member_id": "M1"})
    assert r.json()["holders"] == ["M1"]
    r = await service.client.post(f"{url}/claim", json={"member_id": "M1"})
    assert (r.status_code, error(r)) == (409, "already_claimed")


async def test_a_post_takes_no_more_members_than_its_slots(service: Service) -> None:
    url = await held_post(service, "M1")
    r = await service.client.post(f"{url}/claim", json={"member_id": "M2"})
    assert (r.status_code, error(r)) == (409, "post_full")


async def test_a_released_post_can_be_taken_by_another_member(service: Service) -> None:
    url = await held_post(service, "M1")
    r = await service.client.post(f"{url}/release", json={"member_id": "M1"})
    assert r.json()["holders"] == []
    r = await service.client.post(f"{url}/claim", json={"member_id": "M2"})
    assert r.status_code == 200


async def test_only_a_holder_has_a_month_confirmed(service: Service) -> None:
    url = await held_post(service, "M1")
    this_month, _, _ = months()
    r = await service.client.post(
        f"{url}/fulfilments", json={"member_id": "M2", "month": this_month}
    )
    assert (r.status_code, error(r)) == (409, "not_holder")


async def test_a_future_or_malformed_month_is_refused(service: Service) -> None:
    url = await held_post(service, "M1")
    _, _, next_month = months()
    r = await service.client.post(
        f"{url}/fulfilments", json={"member_id": "M1", "month": next_month}
    )
    assert (r.status_code, error(r)) == (422, "invalid_month")
    r = await service.client.post(
        f"{url}/fulfilments", json={"member_id": "M1", "month": "2026-13"}
    )
    assert r.status_code == 422


async def test_a_month_is_logged_once_per_post_and_member(service: Service) -> None:
    url = await held_post(service, "M1")
    post_id = url.rsplit("/", 1)[1]
    this_month, last_month, _ = months()
    for month in (this_month, last_month):
        r = await service.client.post(
            f"{url}/fulfilments", json={"member_id": "M1", "month": month}
        )
        assert r.status_code == 201 and r.json()["published"] is True, r.text
    r = await service.client.post(
        f"{url}/fulfilments", json={"member_id": "M1", "month": this_month}
    )
    assert r.status_code == 200 and r.json()["published"] is False
    stored = "SELECT count(*) FROM post_fulfilments WHERE post_id = $1"
    assert await service.pool.fetchval(stored, post_id) == 2
    logged = await with_id(service, ACTIVITY_LOGGED, f"post/{post_id}/member/M1/", prefix=True)
    logged.sort(key=lambda e: e.time)
    assert [e.id for e in logged] == [
        f"post/{post_id}/member/M1/{m}" for m in (last_month, this_month)
    ]
    assert {e.data["activity_type"] for e in logged} == {"service_post"}
    # a past month counts as having happened in that month; none is in the future
    assert logged[0].time.astimezone(TZ).strftime("%Y-%m") == last_month
    assert all(e.time <= datetime.now(UTC) for e in logged)


# --- three lists: a unit claims a need, a community claims a resource --------------------


async def test_a_unit_of_another_community_cannot_claim_a_need(service: Service) -> None:
    need = await new_need(service)
    r = await service.client.post(f"/v1/needs/{need['item_id']}/claim", json={"unit_id": "U2"})
    assert (r.status_code, error(r)) == (422, "other_community")


async def test_an_unknown_unit_can_neither_claim_a_need_nor_offer_a_resource(
    service: Service,
) -> None:
    need = await new_need(service)
    r = await service.client.post(f"/v1/needs/{need['item_id']}/claim", json={"unit_id": "U9"})
    assert (r.status_code, error(r)) == (422, "unknown_unit")
    r = await service.client.post("/v1/resources", json={"unit_id": "U9", "title": "Room"})
    assert (r.status_code, error(r)) == (422, "unknown_unit")


async def test_a_unit_claiming_a_need_makes_an_active_project_once(service: Service) -> None:
    need = await new_need(service)
    url = f"/v1/needs/{need['item_id']}/claim"
    r = await service.client.post(url, json={"unit_id": "U1"})
    assert r.status_code == 201, r.text
    project = r.json()
    assert (project["unit_id"], project["community_id"], project["status"]) == (
        "U1",
        COMMUNITY,
        "active",
    )
    r = await service.client.post(url, json={"unit_id": "U1"})
    assert (r.status_code, error(r)) == (409, "already_claimed")
    open_needs = (await service.client.get("/v1/needs", params={"status": "open"})).json()
    assert need["item_id"] not in {n["item_id"] for n in open_needs["items"]}
    pid = project["project_id"]
    [created] = await with_id(service, PROJECT_CREATED, f"project/{pid}/created")
    assert created.data["item_kind"] == "need"


async def test_a_community_claiming_a_units_resource_makes_a_project(service: Service) -> None:
    r = await service.client.post("/v1/resources", json={"unit_id": "U1", "title": "Room"})
    res = r.json()
    assert res["community_id"] == COMMUNITY and res["kind"] == "resource"
    r = await service.client.post(
        f"/v1/resources/{res['item_id']}/claim", json={"community_id": COMMUNITY}
    )
    assert r.status_code == 201, r.text
    pid = r.json()["project_id"]
    listed = (await service.client.get("/v1/projects")).json()["items"]
    assert pid in {p["project_id"] for p in listed}
    [created] = await with_id(service, PROJECT_CREATED, f"project/{pid}/created")
    assert created.data["item_kind"] == "resource"


# --- co-building projects ------------------------------------------------------------------


async def test_only_a_known_member_joins_a_project(service: Service) -> None:
    project = await new_project(service)
    r = await service.client.post(f"{project['url']}/participants", json={"member_id": "NOBODY"})
    assert (r.status_code, error(r)) == (422, "unknown_member")


async def test_only_a_participant_logs_project_service(service: Service) -> None:
    project = await new_project(service)
    r = await service.client.post(f"{project['url']}/service", json={"member_id": "M2", "hours": 2})
    assert (r.status_code, error(r)) == (409, "not_participant")


async def test_service_hours_are_over_0_at_most_24_with_two_decimals(service: Service) -> None:
    project = await new_project(service)
    for bad in (0, 24.5, 1.005):
        r = await service.client.post(
            f"{project['url']}/service", json={"member_id": "M1", "hours": bad}
        )
        assert r.status_code == 422 and "error" in r.json()


async def test_a_service_entry_is_logged_once_as_volunteer_service(service: Service) -> None:
    project = await new_project(service)
    entry_id = f"E-{uuid.uuid4().hex[:8]}"
    entry = {"member_id": "M1", "hours": 3.25, "entry_id": entry_id}
    r = await service.client.post(f"{project['url']}/service", json=entry)
    assert r.status_code == 201 and r.json()["published"] is True, r.text
    r = await service.client.post(f"{project['url']}/service", json=entry)
    assert r.status_code == 200 and r.json()["published"] is False
    detail = (await service.client.get(project["url"])).json()
    assert [(p["member_id"], Decimal(str(p["hours"]))) for p in detail["participants"]] == [
        ("M1", Decimal("3.25"))
    ]
    [logged] = await with_id(service, ACTIVITY_LOGGED, f"project-service/{entry_id}")
    assert logged.data == {
        "member_id": "M1",
        "activity_type": "volunteer_service",
        "activity_id": project["project_id"],
        "community_id": COMMUNITY,
        "hours": "3.25",
    }
    assert logged.time <= datetime.now(UTC)


async def test_a_service_entry_cannot_be_sent_again_with_other_hours(service: Service) -> None:
    project = await new_project(service)
    entry = {"member_id": "M1", "hours": 3.25, "entry_id": f"E-{uuid.uuid4().hex[:8]}"}
    r = await service.client.post(f"{project['url']}/service", json=entry)
    assert r.status_code == 201, r.text
    r = await service.client.post(f"{project['url']}/service", json={**entry, "hours": 4})
    assert (r.status_code, error(r)) == (409, "entry_conflict")


async def test_progress_only_moves_forward_and_100_completes_the_project(
    service: Service,
) -> None:
    project = await new_project(service)
    url = f"{project['url']}/progress"
    assert (await service.client.post(url, json={"progress": 50})).status_code == 200
    r = await service.client.post(url, json={"progress": 30})
    assert (r.status_code, error(r)) == (422, "progress_backwards")
    r = await service.client.post(url, json={"progress": 100, "note": "done"})
    assert r.json()["status"] == "completed"
    detail = (await service.client.get(project["url"])).json()
    assert [u["progress"] for u in detail["updates"]] == [50, 100]
