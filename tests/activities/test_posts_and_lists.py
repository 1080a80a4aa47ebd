"""Service posts (设岗定责) and the three lists (三张清单, 双向认领) over HTTP, the real database
and broker: slots, one service_post per post, member and month, two-way claiming into
co-building projects, and project volunteer hours logged as volunteer_service."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from dev.testing import publish_raw, running_app, wait_until
from services.activities.main import create_app
from shared.events import ACTIVITY_LOGGED
from shared.events.activities import PROJECT_CREATED

from .helpers import COMMUNITY, error, exactly, seed_members, seed_regions, unit_reported

TZ = ZoneInfo("Asia/Shanghai")


def months() -> tuple[str, str, str]:
    now = datetime.now(TZ)
    prev = (now.year - (now.month == 1), (now.month - 2) % 12 + 1)
    nxt = (now.year + (now.month == 12), now.month % 12 + 1)
    return (f"{now.year}-{now.month:02d}", f"{prev[0]}-{prev[1]:02d}", f"{nxt[0]}-{nxt[1]:02d}")


async def test_service_posts_and_three_lists(settings_for, kafka) -> None:
    app = create_app(settings_for("activities"))
    async with running_app(app) as client:
        pool = app.state.runtime.pool
        await seed_regions(kafka.bootstrap, pool)
        await publish_raw(kafka.bootstrap, [unit_reported("U1"), unit_reported("U2", "OTHER")])
        await seed_members(kafka.bootstrap, pool, "M1", "M2")
        await wait_until(lambda: pool.fetchval("SELECT count(*) = 2 FROM unit_projection"))
        this_month, last_month, next_month = months()

        # --- service posts ---------------------------------------------------------------
        r = await client.post(
            "/v1/service-posts",
            json={
                "community_id": COMMUNITY,
                "title": "Building 3 safety watch",
                "category": "public_affairs",
                "duties": "Walk the stairwells weekly",
            },
        )
        assert r.status_code == 201, r.text
        post = r.json()
        url = f"/v1/service-posts/{post['post_id']}"
        r = await client.post(
            "/v1/service-posts",
            json={"community_id": COMMUNITY, "title": "x", "category": "astrology", "duties": "y"},
        )
        assert r.status_code == 422
        assert (await client.post(f"{url}/claim", json={"member_id": "M1"})).json()["holders"] == [
            "M1"
        ]
        r = await client.post(f"{url}/claim", json={"member_id": "M1"})
        assert (r.status_code, error(r)) == (409, "already_claimed")
        r = await client.post(f"{url}/claim", json={"member_id": "M2"})
        assert (r.status_code, error(r)) == (409, "post_full")
        r = await client.post(f"{url}/fulfilments", json={"member_id": "M2", "month": this_month})
        assert (r.status_code, error(r)) == (409, "not_holder")
        for month in (this_month, last_month):
            r = await client.post(f"{url}/fulfilments", json={"member_id": "M1", "month": month})
            assert r.status_code == 201 and r.json()["published"] is True, r.text
        r = await client.post(f"{url}/fulfilments", json={"member_id": "M1", "month": this_month})
        assert r.status_code == 200 and r.json()["published"] is False
        r = await client.post(f"{url}/fulfilments", json={"member_id": "M1", "month": next_month})
        assert (r.status_code, error(r)) == (422, "invalid_month")
        r = await client.post(f"{url}/fulfilments", json={"member_id": "M1", "month": "2026-13"})
        assert r.status_code == 422
        assert await pool.fetchval("SELECT count(*) FROM post_fulfilments") == 2
        # released, the post can be taken by another member
        assert (await client.post(f"{url}/release", json={"member_id": "M1"})).json()[
            "holders"
        ] == []
        assert (await client.post(f"{url}/claim", json={"member_id": "M2"})).status_code == 200

        # --- three lists: a unit claims a need, a community claims a resource ------------
        need = (
            await client.post(
                "/v1/needs",
                json={"community_id": COMMUNITY, "title": "Tutoring for left-behind children"},
            )
        ).json()
        r = await client.post(f"/v1/needs/{need['item_id']}/claim", json={"unit_id": "U2"})
        assert (r.status_code, error(r)) == (422, "other_community")
        r = await client.post(f"/v1/needs/{need['item_id']}/claim", json={"unit_id": "U9"})
        assert (r.status_code, error(r)) == (422, "unknown_unit")
        r = await client.post(f"/v1/needs/{need['item_id']}/claim", json={"unit_id": "U1"})
        assert r.status_code == 201, r.text
        project = r.json()
        assert (project["unit_id"], project["community_id"], project["status"]) == (
            "U1",
            COMMUNITY,
            "active",
        )
        r = await client.post(f"/v1/needs/{need['item_id']}/claim", json={"unit_id": "U1"})
        assert (r.status_code, error(r)) == (409, "already_claimed")

        r = await client.post("/v1/resources", json={"unit_id": "U9", "title": "Meeting room"})
        assert (r.status_code, error(r)) == (422, "unknown_unit")
        res = (await client.post("/v1/resources", json={"unit_id": "U1", "title": "Room"})).json()
        assert res["community_id"] == COMMUNITY and res["kind"] == "resource"
        r = await client.post(
            f"/v1/resources/{res['item_id']}/claim", json={"community_id": COMMUNITY}
        )
        assert r.status_code == 201, r.text
        open_needs = (await client.get("/v1/needs", params={"status": "open"})).json()["items"]
        assert open_needs == []
        assert len((await client.get("/v1/projects")).json()["items"]) == 2

        # --- project participation logged as volunteer service ---------------------------
        purl = f"/v1/projects/{project['project_id']}"
        assert (await client.post(f"{purl}/participants", json={"member_id": "M1"})).json()[
            "joined"
        ] is True
        r = await client.post(f"{purl}/participants", json={"member_id": "NOBODY"})
        assert (r.status_code, error(r)) == (422, "unknown_member")
        r = await client.post(f"{purl}/service", json={"member_id": "M2", "hours": 2})
        assert (r.status_code, error(r)) == (409, "not_participant")
        for bad in (0, 24.5, 1.005):
            r = await client.post(f"{purl}/service", json={"member_id": "M1", "hours": bad})
            assert r.status_code == 422 and "error" in r.json()
        entry = {"member_id": "M1", "hours": 3.25, "entry_id": "E-1"}
        r = await client.post(f"{purl}/service", json=entry)
        assert r.status_code == 201 and r.json()["published"] is True, r.text
        r = await client.post(f"{purl}/service", json=entry)
        assert r.status_code == 200 and r.json()["published"] is False
        r = await client.post(f"{purl}/service", json={**entry, "hours": 4})
        assert (r.status_code, error(r)) == (409, "entry_conflict")
        assert (await client.post(f"{purl}/progress", json={"progress": 50})).status_code == 200
        r = await client.post(f"{purl}/progress", json={"progress": 30})
        assert (r.status_code, error(r)) == (422, "progress_backwards")
        r = await client.post(f"{purl}/progress", json={"progress": 100, "note": "done"})
        assert r.json()["status"] == "completed"
        detail = (await client.get(purl)).json()
        assert [(p["member_id"], Decimal(str(p["hours"]))) for p in detail["participants"]] == [
            ("M1", Decimal("3.25"))
        ]
        assert [u["progress"] for u in detail["updates"]] == [50, 100]

        # --- what went out -----------------------------------------------------------------
        logged = await exactly(kafka.bootstrap, pool, ACTIVITY_LOGGED, 3)
        posts = sorted(
            (e for e in logged if e.data["activity_type"] == "service_post"), key=lambda e: e.time
        )
        assert [e.id for e in posts] == [
            f"post/{post['post_id']}/member/M1/{m}" for m in (last_month, this_month)
        ]
        assert posts[0].time.astimezone(TZ).strftime("%Y-%m") == last_month
        assert all(e.time <= datetime.now(UTC) for e in logged)
        [service] = [e for e in logged if e.data["activity_type"] == "volunteer_service"]
        assert service.data == {
            "member_id": "M1",
            "activity_type": "volunteer_service",
            "activity_id": project["project_id"],
            "community_id": COMMUNITY,
            "hours": "3.25",
        }
        created = await exactly(kafka.bootstrap, pool, PROJECT_CREATED, 2)
        assert {e.data["item_kind"] for e in created} == {"need", "resource"}
