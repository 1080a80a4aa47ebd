"""The scoring API on a running app (real PostgreSQL; the inbox fed directly, or through the
real broker where the broker is the point)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from dev.testing import (
    REVIEWER_TOKEN,
    TEST_TOKENS,
    publish_raw,
    read_topic,
    running_app,
    wait_until,
)
from services.scoring.main import create_app
from shared.events import DEADLETTER_TOPIC

from .helpers import logged, records, region, registered, reported, revoked
from .reference import Reference

NOV = "2026-11-{:02d}T10:00:00+08:00"


def city() -> list[dict]:
    return [
        region("D1", "district", None, "城厢区"),
        region("S1", "street", "D1", "龙桥街道"),
        region("S2", "street", "D1", "凤凰山街道"),
        region("C1", "community", "S1", "东岩社区"),
        region("C2", "community", "S1", "坂头社区"),
        region("C3", "community", "S2", "霞林社区"),
        region("G1", "grid", "C1", "东岩一网格"),
    ]


async def feed(app, events) -> None:
    await app.state.runtime.slot.consumer.handle(records(events))


async def test_points_rankings_and_member_scopes(settings_for) -> None:
    app = create_app(settings_for("scoring"))
    async with running_app(app) as client:
        events = city() + [
            registered("M1", "ORG1"),
            registered("M2", "ORG1"),
            registered("M3", "ORG2"),
            registered("M4", "ORG1"),
            reported("M1", "C1", NOV.format(1), grid="G1"),
            reported("M2", "C1", NOV.format(1)),
            reported("M3", "C2", NOV.format(1)),
            reported("M4", "C3", NOV.format(1)),
            logged("M1", "volunteer_service", NOV.format(3), hours=15),
            logged("M1", "volunteer_service", NOV.format(4), hours=10),  # trimmed: cap 40
            logged("M2", "study", NOV.format(5)),
            logged("M3", "organization_life_absent", NOV.format(5)),
            logged("M3", "organization_life_absent", NOV.format(6)),
        ]
        await feed(app, events)
        ref = Reference(events)
        r = await client.get("/v1/members/M1/points", params={"period": "2026-11"})
        assert r.json() == {
            "member_id": "M1",
            "period": "2026-11",
            "points": 50.0,
            "by_type": {"member_reported": 10.0, "volunteer_service": 40.0},
            "figures": "live",
        }
        assert Decimal(str(r.json()["points"])) == ref.points("M1", ("2026-11",))
        # a year and a quarter contain November
        assert (await client.get("/v1/members/M1/points", params={"period": "2026"})).json()[
            "points"
        ] == 50.0
        assert (await client.get("/v1/members/M1/points", params={"period": "2026-Q3"})).json()[
            "points"
        ] == 0.0

        streets = (await client.get("/v1/rankings/streets", params={"period": "2026-11"})).json()
        # S1: M1 50 + M2 11 + M3 (10 - 4) = 67 over 3 = 22.33; S2: M4 10
        assert [
            (i["rank"], i["region_id"], i["score"], i["members"]) for i in streets["items"]
        ] == [(1, "S1", 22.33, 3), (2, "S2", 10.0, 1)]
        total = (
            await client.get(
                "/v1/rankings/streets", params={"period": "2026-11", "metric": "total_points"}
            )
        ).json()
        assert [i["score"] for i in total["items"]] == [67.0, 10.0]
        comms = (
            await client.get(
                "/v1/rankings/communities", params={"period": "2026-11", "street_id": "S1"}
            )
        ).json()
        assert [(i["region_id"], i["score"]) for i in comms["items"]] == [("C1", 30.5), ("C2", 6.0)]
        grids = (
            await client.get(
                "/v1/rankings/grids", params={"period": "2026-11", "community_id": "C1"}
            )
        ).json()
        assert [(i["region_id"], i["score"], i["members"]) for i in grids["items"]] == [
            ("G1", 50.0, 1)
        ]
        members = (
            await client.get(
                "/v1/rankings/members", params={"period": "2026-11", "street_id": "S1"}
            )
        ).json()
        assert [(i["rank"], i["member_id"], i["score"]) for i in members["items"]] == [
            (1, "M1", 50.0),
            (2, "M2", 11.0),
            (3, "M3", 6.0),
        ]
        paged = (
            await client.get(
                "/v1/rankings/members", params={"period": "2026-11", "limit": 1, "offset": 1}
            )
        ).json()
        assert paged["total"] == 4 and [i["member_id"] for i in paged["items"]] == ["M2"]

        rank = (await client.get("/v1/members/M2/rank", params={"period": "2026-11"})).json()
        assert {s["scope"]: (s["rank"], s["members"]) for s in rank["ranks"]} == {
            "community": (2, 2),
            "street": (2, 3),
            "city": (2, 4),
        }

        # ties share a rank (competition ranking): M4 gets a study point → 11, equal to M2
        await feed(app, [logged("M4", "study", NOV.format(7))])
        members = (await client.get("/v1/rankings/members", params={"period": "2026-11"})).json()
        assert [(i["rank"], i["member_id"]) for i in members["items"]] == [
            (1, "M1"),
            (2, "M2"),
            (2, "M4"),
            (4, "M3"),
        ]

        # in October M3 has only a penalty → below zero; M5 never reported is not counted
        await feed(
            app,
            [
                logged("M3", "organization_life_absent", "2026-10-02T10:00:00+08:00"),
                logged("M5", "study", NOV.format(8)),
            ],
        )
        zero = (
            await client.get("/v1/zero-points", params={"period": "2026-10", "street_id": "S1"})
        ).json()
        assert [i["member_id"] for i in zero["items"]] == ["M1", "M2", "M3"]
        assert zero["items"][2]["points"] == -2.0
        assert (await client.get("/v1/members/M5/points", params={"period": "2026-11"})).json()[
            "points"
        ] == 1.0
        missing = (
            await client.get(
                "/v1/organization-life/missing", params={"period": "2026-Q4", "community_id": "C1"}
            )
        ).json()
        assert [i["member_id"] for i in missing["items"]] == ["M1", "M2"]

        # M5 reports later: now counted, points kept; M1 deregistered: out of rankings, points stay
        await feed(
            app,
            [
                reported("M5", "C3", NOV.format(9)),
                {
                    **registered("M1", "ORG1"),
                    "type": "partygrid.member.deregistered",
                    "data": {"member_id": "M1", "reason": "transferred_out"},
                    "time": NOV.format(10),
                    "id": "dereg-M1",
                },
            ],
        )
        streets = (await client.get("/v1/rankings/streets", params={"period": "2026-11"})).json()
        assert [(i["region_id"], i["score"], i["members"]) for i in streets["items"]] == [
            ("S2", 11.0, 2),
            ("S1", 8.5, 2),
        ]  # S2: M4 11, M5 1 + 10 for reporting
        assert (await client.get("/v1/members/M1/points", params={"period": "2026-11"})).json()[
            "points"
        ] == 50.0
        assert (await client.get("/v1/members/M1/rank", params={"period": "2026-11"})).json()[
            "ranks"
        ] == []

        # errors say what is accepted
        bad = await client.get("/v1/rankings/streets", params={"metric": "median"})
        assert bad.status_code == 422 and "avg_points" in bad.json()["message"]
        bad = await client.get(
            "/v1/rankings/members", params={"community_id": "C1", "street_id": "S1"}
        )
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_scope"
        bad = await client.get("/v1/zero-points", params={"period": "2026-Q5"})
        assert bad.status_code == 422 and "2026-Q4" in bad.json()["message"]
        assert (await client.get("/v1/members/NOPE/points")).status_code == 404


async def test_rule_versions_reevaluate_exactly(settings_for) -> None:
    app = create_app(settings_for("scoring"))
    async with running_app(app) as client:
        await feed(
            app, [logged("M1", "volunteer_service", NOV.format(d), hours=8) for d in (2, 12, 22)]
        )
        assert (await client.get("/v1/members/M1/points", params={"period": "2026-11"})).json()[
            "points"
        ] == 40.0
        # from 15 November volunteering earns 3 per hour with a cap of 50
        r = await client.post(
            "/v1/rules",
            json={
                "activity_type": "volunteer_service",
                "points": 3,
                "per": "hour",
                "monthly_cap": 50,
                "effective_from": "2026-11-15T00:00:00+08:00",
                "note": "test",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["buckets_reevaluated"] == 1
        # 2 Nov: 16 (old rule, cap 40); 12 Nov: 16 (cap 40 → 32 given); 22 Nov: 24 → cap 50 leaves 18
        assert (await client.get("/v1/members/M1/points", params={"period": "2026-11"})).json()[
            "points"
        ] == 50.0
        # an event after the change is scored by the new rule on arrival
        await feed(app, [logged("M2", "volunteer_service", NOV.format(20), hours=1)])
        assert (await client.get("/v1/members/M2/points", params={"period": "2026-11"})).json()[
            "points"
        ] == 3.0
        rules = (await client.get("/v1/rules")).json()
        versions = [v for v in rules["versions"] if v["activity_type"] == "volunteer_service"]
        assert [v["points"] for v in versions] == [2.0, 3.0]
        for body, field in [
            (
                {"activity_type": "dancing", "points": 1, "effective_from": "2026-11-01T00:00:00Z"},
                "activity_type",
            ),
            (
                {
                    "activity_type": "study",
                    "points": 1,
                    "monthly_cap": -1,
                    "effective_from": "2026-11-01T00:00:00Z",
                },
                "monthly_cap",
            ),
            (
                {
                    "activity_type": "organization_life_absent",
                    "points": -3,
                    "monthly_cap": 10,
                    "effective_from": "2026-11-01T00:00:00Z",
                },
                "monthly_cap",
            ),
            (
                {"activity_type": "study", "points": 1, "effective_from": "2026-11-01T00:00:00"},
                "body.effective_from",
            ),
        ]:
            bad = await client.post("/v1/rules", json=body)
            assert bad.status_code == 422, bad.text
            assert bad.json()["details"][0]["field"] == field
        assert (await client.get("/v1/members/M1/points", params={"period": "2026-11"})).json()[
            "points"
        ] == 50.0


async def test_boards_feedback_and_token_scopes(settings_for) -> None:
    tokens = TEST_TOKENS + ",community-admin-token-0001:community_admin:C1"
    app = create_app(settings_for("scoring", api_tokens=tokens))
    async with running_app(app) as client:
        await feed(
            app,
            city()
            + [
                registered("M1", "ORG1", name="李四"),
                registered("M2", "ORG1", category="retired"),
                registered("M3", "ORG1"),
                reported("M1", "C1", NOV.format(1)),
                reported("M2", "C1", NOV.format(1)),
                reported("M3", "C3", NOV.format(1)),
                logged("M1", "volunteer_service", "2026-08-03T10:00:00+08:00", hours=2.5),
                logged("M1", "study", "2026-09-03T10:00:00+08:00"),
                logged("M3", "organization_life", NOV.format(2)),
            ],
        )
        draft = await client.post(
            "/v1/boards", json={"period": "2026-11", "subject": "members", "size": 2}
        )
        assert draft.status_code == 201, draft.text
        board = draft.json()
        # M3 has 15 in November; M1 and M2 (10) had no organisation life: never on a red board
        assert [i["member_id"] for i in board["red"]] == ["M3"]
        assert board["status"] == "draft"
        bid = board["board_id"]
        checker = {"Authorization": f"Bearer {REVIEWER_TOKEN}"}  # not the drafter
        assert (await client.post(f"/v1/boards/{bid}/publish", headers=checker)).status_code == 409
        reviewed = await client.post(
            f"/v1/boards/{bid}/review", json={"reviewer": "王主任"}, headers=checker
        )
        assert reviewed.json()["status"] == "reviewed"
        published = (await client.post(f"/v1/boards/{bid}/publish", headers=checker)).json()
        assert published["status"] == "published"
        # the snapshot does not move when points do
        await feed(app, [logged("M2", "organization_life", NOV.format(3)) for _ in range(1)])
        again = (await client.get(f"/v1/boards/{bid}")).json()
        assert again["red"] == board["red"]
        assert (
            await client.post(f"/v1/boards/{bid}/review", json={"reviewer": "x"}, headers=checker)
        ).status_code == 409

        fb = (
            await client.get(
                "/v1/reports/feedback", params={"party_org_id": "ORG1", "period": "2026-H2"}
            )
        ).json()
        rows = {m["member_id"]: m for m in fb["members"]}
        assert set(rows) == {"M1", "M3"}  # M2 is retired, not in service
        assert rows["M1"]["points"] == 16.0 and rows["M1"]["volunteer_hours"] == 2.5
        assert rows["M1"]["activities"] == 2 and rows["M1"]["community_name"] == "东岩社区"
        text = (
            await client.get(
                "/v1/reports/feedback",
                params={"party_org_id": "ORG1", "period": "2026-H2", "format": "csv"},
            )
        ).text
        table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert [r["member_id"] for r in table] == ["M1", "M3"] and table[0]["points"] == "16.00"

        community = {"Authorization": "Bearer community-admin-token-0001"}
        assert (await client.get("/v1/members/M1/points", headers=community)).status_code == 200
        denied = await client.get("/v1/members/M3/points", headers=community)
        assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
        assert (
            await client.get(
                "/v1/rankings/members", params={"community_id": "C3"}, headers=community
            )
        ).status_code == 403
        readonly = {"Authorization": "Bearer test-readonly-token-00001"}
        assert (await client.get("/v1/rankings/streets", headers=readonly)).status_code == 200
        assert (
            await client.post(
                "/v1/rules",
                headers=readonly,
                json={
                    "activity_type": "study",
                    "points": 2,
                    "effective_from": "2026-11-01T00:00:00Z",
                },
            )
        ).status_code == 403
        assert (
            await client.get(
                "/v1/rules", headers={"Authorization": "Bearer wrong-token-xxxxxxxxxx"}
            )
        ).status_code == 401


async def test_messy_stream_from_an_outside_producer(settings_for, kafka) -> None:
    """Shuffled, redelivered, revoked (before and after), conflicting and malformed messages
    through the real broker end in exactly the points docs/design.md §4 defines."""
    app = create_app(settings_for("scoring"))
    a1 = logged("M1", "grid_visit", NOV.format(1), id="v1")
    a2 = logged("M1", "grid_visit", NOV.format(2), id="v2")
    late_target = logged("M2", "wish_fulfilled", NOV.format(3), id="w1")
    good = city() + [
        reported("M1", "C1", NOV.format(1)),
        reported("M2", "C3", NOV.format(1)),
        revoked(late_target, id="rv-early", time=NOV.format(4)),  # revocation before its target
        *[logged("M1", "grid_visit", NOV.format(3 + i), id=f"gv{i}") for i in range(12)],
        a1,
        a2,
        revoked(a1, id="rv-after", time=NOV.format(5)),
        late_target,
        logged("M2", "wish_fulfilled", NOV.format(9), id="w2"),
    ]
    conflicting = dict(a2, data={**a2["data"], "activity_type": "study"})
    bad = [
        (b"M1", b"not json at all"),
        (b"M1", json.dumps({"hello": "world"}).encode()),
        (b"M1", json.dumps(logged("M1", "dancing", NOV.format(1))).encode()),
        (b"M1", json.dumps(logged("M1", "volunteer_service", NOV.format(1), hours=30)).encode()),
        (b"M1", json.dumps(logged("M1", "study", "2036-01-01T00:00:00+08:00")).encode()),
        (b"M1", json.dumps(reported("M1", "C1", NOV.format(1))).encode()),  # wrong topic
    ]
    messages = [(e["type"], e["subject"].encode(), e) for e in good]
    messages += [(e["type"], e["subject"].encode(), e) for e in good[-6:]]  # redelivered
    messages += [("partygrid.activity.logged", k, v) for k, v in bad]
    import random

    random.Random(7).shuffle(messages)
    # same key, same partition: the reuse of v2's id arrives after v2, so v2 stands
    messages.append(("partygrid.activity.logged", b"M1", conflicting))
    async with running_app(app) as client:
        await publish_raw(kafka.bootstrap, messages)
        ref = Reference(good)

        async def settled() -> bool:
            r = (await client.get("/v1/members/M2/points", params={"period": "2026-11"})).json()
            m1 = (await client.get("/v1/members/M1/points", params={"period": "2026-11"})).json()
            return r.get("points") == float(ref.points("M2", ("2026-11",))) and m1.get(
                "points"
            ) == float(ref.points("M1", ("2026-11",)))

        await wait_until(settled, timeout=30)
        assert ref.points("M1", ("2026-11",)) == Decimal(20)  # 10 report + grid visits capped at 10
        assert ref.points("M2", ("2026-11",)) == Decimal(15)  # 10 report + w2 (w1 revoked)
        letters = await read_topic(kafka.bootstrap, DEADLETTER_TOPIC, min_count=7)
        reasons = sorted(
            json.loads(r.value)["data"]["reason"]
            for r in letters
            if json.loads(r.value)["data"]["reason"] != "conflict"
            or json.loads(r.value)["data"]["event_id"] == "v2"
        )
        assert reasons == sorted(
            [
                "not_json",
                "not_cloudevent",
                "invalid_data",
                "invalid_data",
                "time_in_future",
                "wrong_topic",
                "conflict",
            ]
        )
        streets = (await client.get("/v1/rankings/streets", params={"period": "2026-11"})).json()
        assert [(i["region_id"], i["score"]) for i in streets["items"]] == [
            ("S1", 20.0),
            ("S2", 15.0),
        ]
        metrics = (await client.get("/metrics")).text
        assert 'partygrid_events_deadlettered_total{reason="conflict",service="scoring"' in metrics
        assert "partygrid_scoring_points_awarded_total" in metrics
