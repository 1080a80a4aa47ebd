"""The scoring API on a running app (real PostgreSQL; the inbox fed directly, or through the
real broker where the broker is the point)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import httpx
import pytest

from dev.testing import (
    REVIEWER_TOKEN,
    publish_raw,
    read_topic,
    running_app,
    wait_until,
)
from services.scoring.main import create_app
from shared.events import DEADLETTER_TOPIC

from .helpers import logged, records, region, registered, reported, revoked
from .once import COMMUNITY_ADMIN_TOKEN, Scoring
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


def november_events() -> list[dict]:
    """Four reported members in two streets and their November activities."""
    return city() + [
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


# M4 gets a study point → 11, equal to M2
TIE = [logged("M4", "study", NOV.format(7))]
# in October M3 has only a penalty; M5 logs without ever being reported
OCTOBER_AND_UNREPORTED = [
    logged("M3", "organization_life_absent", "2026-10-02T10:00:00+08:00"),
    logged("M5", "study", NOV.format(8)),
]
# M5 reports later; M1 is deregistered
LATE_REPORT_AND_DEREGISTRATION = [
    reported("M5", "C3", NOV.format(9)),
    {
        **registered("M1", "ORG1"),
        "type": "partygrid.member.deregistered",
        "data": {"member_id": "M1", "reason": "transferred_out"},
        "time": NOV.format(10),
        "id": "dereg-M1",
    },
]


@pytest.fixture
async def november(scoring: Scoring) -> Scoring:
    await feed(scoring.app, november_events())
    return scoring


async def get(s: Scoring, path: str, **params: object) -> dict:
    return (await s.client.get(path, params=params)).json()


async def test_member_points_sum_each_type_with_its_monthly_cap(november: Scoring) -> None:
    r = await get(november, "/v1/members/M1/points", period="2026-11")
    assert r == {
        "member_id": "M1",
        "period": "2026-11",
        "points": 50.0,
        "by_type": {"member_reported": 10.0, "volunteer_service": 40.0},
        "figures": "live",
    }
    assert Decimal(str(r["points"])) == Reference(november_events()).points("M1", ("2026-11",))


async def test_a_year_or_quarter_counts_the_months_it_contains(november: Scoring) -> None:
    assert (await get(november, "/v1/members/M1/points", period="2026"))["points"] == 50.0
    assert (await get(november, "/v1/members/M1/points", period="2026-Q3"))["points"] == 0.0


async def test_streets_rank_by_average_points_of_their_members(november: Scoring) -> None:
    streets = await get(november, "/v1/rankings/streets", period="2026-11")
    # S1: M1 50 + M2 11 + M3 (10 - 4) = 67 over 3 = 22.33; S2: M4 10
    assert [(i["rank"], i["region_id"], i["score"], i["members"]) for i in streets["items"]] == [
        (1, "S1", 22.33, 3),
        (2, "S2", 10.0, 1),
    ]


async def test_streets_rank_by_total_points_when_asked(november: Scoring) -> None:
    total = await get(november, "/v1/rankings/streets", period="2026-11", metric="total_points")
    assert [i["score"] for i in total["items"]] == [67.0, 10.0]


async def test_communities_rank_within_the_street_named(november: Scoring) -> None:
    comms = await get(november, "/v1/rankings/communities", period="2026-11", street_id="S1")
    assert [(i["region_id"], i["score"]) for i in comms["items"]] == [("C1", 30.5), ("C2", 6.0)]


async def test_grids_rank_the_members_reported_to_them(november: Scoring) -> None:
    grids = await get(november, "/v1/rankings/grids", period="2026-11", community_id="C1")
    assert [(i["region_id"], i["score"], i["members"]) for i in grids["items"]] == [("G1", 50.0, 1)]


async def test_members_rank_within_the_street_named(november: Scoring) -> None:
    members = await get(november, "/v1/rankings/members", period="2026-11", street_id="S1")
    assert [(i["rank"], i["member_id"], i["score"]) for i in members["items"]] == [
        (1, "M1", 50.0),
        (2, "M2", 11.0),
        (3, "M3", 6.0),
    ]


async def test_member_rankings_page_by_limit_and_offset(november: Scoring) -> None:
    paged = await get(november, "/v1/rankings/members", period="2026-11", limit=1, offset=1)
    assert paged["total"] == 4 and [i["member_id"] for i in paged["items"]] == ["M2"]


async def test_a_member_is_ranked_in_its_community_street_and_city(november: Scoring) -> None:
    rank = await get(november, "/v1/members/M2/rank", period="2026-11")
    assert {s["scope"]: (s["rank"], s["members"]) for s in rank["ranks"]} == {
        "community": (2, 2),
        "street": (2, 3),
        "city": (2, 4),
    }


async def test_tied_members_share_a_rank(november: Scoring) -> None:
    await feed(november.app, TIE)
    members = await get(november, "/v1/rankings/members", period="2026-11")
    # competition ranking: the rank after a tie of two skips one
    assert [(i["rank"], i["member_id"]) for i in members["items"]] == [
        (1, "M1"),
        (2, "M2"),
        (2, "M4"),
        (4, "M3"),
    ]


async def test_zero_points_lists_reported_members_at_or_below_zero(november: Scoring) -> None:
    await feed(november.app, OCTOBER_AND_UNREPORTED)
    zero = await get(november, "/v1/zero-points", period="2026-10", street_id="S1")
    assert [i["member_id"] for i in zero["items"]] == ["M1", "M2", "M3"]
    assert zero["items"][2]["points"] == -2.0  # a penalty alone goes below zero


async def test_a_member_never_reported_still_earns_points(november: Scoring) -> None:
    await feed(november.app, OCTOBER_AND_UNREPORTED)
    assert (await get(november, "/v1/members/M5/points", period="2026-11"))["points"] == 1.0


async def test_members_without_organisation_life_in_the_period_are_listed(
    november: Scoring,
) -> None:
    missing = await get(
        november, "/v1/organization-life/missing", period="2026-Q4", community_id="C1"
    )
    assert [i["member_id"] for i in missing["items"]] == ["M1", "M2"]


async def after_late_report_and_deregistration(s: Scoring) -> None:
    await feed(s.app, TIE + OCTOBER_AND_UNREPORTED + LATE_REPORT_AND_DEREGISTRATION)


async def test_a_late_report_joins_and_a_deregistration_leaves_the_rankings(
    november: Scoring,
) -> None:
    await after_late_report_and_deregistration(november)
    streets = await get(november, "/v1/rankings/streets", period="2026-11")
    # S2: M4 11, M5 1 + 10 for reporting; S1 without M1: M2 11, M3 6
    assert [(i["region_id"], i["score"], i["members"]) for i in streets["items"]] == [
        ("S2", 11.0, 2),
        ("S1", 8.5, 2),
    ]


async def test_a_deregistered_member_keeps_its_points_but_has_no_rank(november: Scoring) -> None:
    await after_late_report_and_deregistration(november)
    assert (await get(november, "/v1/members/M1/points", period="2026-11"))["points"] == 50.0
    assert (await get(november, "/v1/members/M1/rank", period="2026-11"))["ranks"] == []


async def test_an_unknown_ranking_metric_is_refused_naming_the_accepted_ones(
    scoring: Scoring,
) -> None:
    bad = await scoring.client.get("/v1/rankings/streets", params={"metric": "median"})
    assert bad.status_code == 422 and "avg_points" in bad.json()["message"]


async def test_a_community_and_a_street_together_are_an_invalid_scope(scoring: Scoring) -> None:
    bad = await scoring.client.get(
        "/v1/rankings/members", params={"community_id": "C1", "street_id": "S1"}
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_scope"


async def test_a_malformed_period_is_refused_naming_a_valid_form(scoring: Scoring) -> None:
    bad = await scoring.client.get("/v1/zero-points", params={"period": "2026-Q5"})
    assert bad.status_code == 422 and "2026-Q4" in bad.json()["message"]


async def test_a_member_no_event_named_is_not_found(scoring: Scoring) -> None:
    assert (await scoring.client.get("/v1/members/NOPE/points")).status_code == 404


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


CHECKER = {"Authorization": f"Bearer {REVIEWER_TOKEN}"}  # not the drafter
COMMUNITY = {"Authorization": f"Bearer {COMMUNITY_ADMIN_TOKEN}"}  # of C1
READONLY = {"Authorization": "Bearer test-readonly-token-00001"}


@pytest.fixture
async def org1(scoring: Scoring) -> Scoring:
    """ORG1: M1 (in service, 李四) and retired M2 in C1, M3 in C3; activities over the second
    half of 2026, organisation life for M3 only."""
    await feed(
        scoring.app,
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
    return scoring


async def draft_board(s: Scoring) -> httpx.Response:
    return await s.client.post(
        "/v1/boards", json={"period": "2026-11", "subject": "members", "size": 2}
    )


async def review(s: Scoring, board_id: str, reviewer: str) -> httpx.Response:
    return await s.client.post(
        f"/v1/boards/{board_id}/review", json={"reviewer": reviewer}, headers=CHECKER
    )


async def publish(s: Scoring, board_id: str) -> httpx.Response:
    return await s.client.post(f"/v1/boards/{board_id}/publish", headers=CHECKER)


async def published_board(s: Scoring) -> dict:
    board = (await draft_board(s)).json()
    await review(s, board["board_id"], "王主任")
    await publish(s, board["board_id"])
    return board


async def test_a_red_board_lists_only_members_with_organisation_life(org1: Scoring) -> None:
    draft = await draft_board(org1)
    assert draft.status_code == 201, draft.text
    # M3 has 15 in November; M1 and M2 (10) had no organisation life: never on a red board
    assert [i["member_id"] for i in draft.json()["red"]] == ["M3"]


async def test_a_board_starts_as_a_draft(org1: Scoring) -> None:
    assert (await draft_board(org1)).json()["status"] == "draft"


async def test_a_draft_board_cannot_be_published_before_review(org1: Scoring) -> None:
    bid = (await draft_board(org1)).json()["board_id"]
    assert (await publish(org1, bid)).status_code == 409


async def test_another_admin_reviews_a_draft_board(org1: Scoring) -> None:
    bid = (await draft_board(org1)).json()["board_id"]
    reviewed = await review(org1, bid, "王主任")
    assert reviewed.json()["status"] == "reviewed"


async def test_a_reviewed_board_is_published(org1: Scoring) -> None:
    bid = (await draft_board(org1)).json()["board_id"]
    await review(org1, bid, "王主任")
    published = (await publish(org1, bid)).json()
    assert published["status"] == "published"


async def test_a_published_board_does_not_move_when_points_do(org1: Scoring) -> None:
    board = await published_board(org1)
    await feed(org1.app, [logged("M2", "organization_life", NOV.format(3))])
    again = (await org1.client.get(f"/v1/boards/{board['board_id']}")).json()
    assert again["red"] == board["red"]


async def test_a_published_board_cannot_be_reviewed_again(org1: Scoring) -> None:
    board = await published_board(org1)
    assert (await review(org1, board["board_id"], "x")).status_code == 409


async def feedback(s: Scoring, **params: str) -> httpx.Response:
    return await s.client.get(
        "/v1/reports/feedback", params={"party_org_id": "ORG1", "period": "2026-H2", **params}
    )


async def test_feedback_lists_the_members_in_service_only(org1: Scoring) -> None:
    rows = {m["member_id"] for m in (await feedback(org1)).json()["members"]}
    assert rows == {"M1", "M3"}  # M2 is retired, not in service


async def test_feedback_sums_points_hours_and_activities_over_the_period(org1: Scoring) -> None:
    rows = {m["member_id"]: m for m in (await feedback(org1)).json()["members"]}
    assert rows["M1"]["points"] == 16.0 and rows["M1"]["volunteer_hours"] == 2.5
    assert rows["M1"]["activities"] == 2 and rows["M1"]["community_name"] == "东岩社区"


async def test_feedback_is_also_given_as_csv(org1: Scoring) -> None:
    text = (await feedback(org1, format="csv")).text
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["member_id"] for r in table] == ["M1", "M3"] and table[0]["points"] == "16.00"


async def test_a_community_admin_reads_members_of_its_community(org1: Scoring) -> None:
    r = await org1.client.get("/v1/members/M1/points", headers=COMMUNITY)
    assert r.status_code == 200


async def test_a_community_admin_may_not_read_other_communities(org1: Scoring) -> None:
    denied = await org1.client.get("/v1/members/M3/points", headers=COMMUNITY)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    rankings = await org1.client.get(
        "/v1/rankings/members", params={"community_id": "C3"}, headers=COMMUNITY
    )
    assert rankings.status_code == 403


async def test_a_read_only_token_reads_but_may_not_change_rules(org1: Scoring) -> None:
    assert (await org1.client.get("/v1/rankings/streets", headers=READONLY)).status_code == 200
    rule = {"activity_type": "study", "points": 2, "effective_from": "2026-11-01T00:00:00Z"}
    r = await org1.client.post("/v1/rules", headers=READONLY, json=rule)
    assert r.status_code == 403


async def test_an_unknown_token_is_unauthorised(org1: Scoring) -> None:
    wrong = {"Authorization": "Bearer wrong-token-xxxxxxxxxx"}
    assert (await org1.client.get("/v1/rules", headers=wrong)).status_code == 401


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
