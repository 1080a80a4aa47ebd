"""Envelope and schema unit tests: every required field and every bad value is rejected with
the reason the dead-letter topic records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dev.testing import cloud_event
from shared.events import (
    ACTIVITY_LOGGED,
    EVENT_TYPES,
    BadEvent,
    all_topics,
    check_time,
    parse_envelope,
    validate_data,
)

GOOD = {
    "partygrid.member.registered": {
        "member_id": "M1",
        "name": "王芳",
        "category": "in_service",
        "party_org_id": "ORG-1",
    },
    "partygrid.member.reported": {
        "member_id": "M1",
        "community_id": "350302001001",
        "grid_id": "G1",
        "skills": ["电工"],
    },
    "partygrid.member.deregistered": {"member_id": "M1", "reason": "transferred_out"},
    "partygrid.unit.reported": {
        "unit_id": "U1",
        "name": "区医院",
        "party_org_id": "ORG-2",
        "community_id": "C1",
        "member_count": 40,
    },
    "partygrid.region.defined": {
        "region_id": "C1",
        "level": "community",
        "name": "东岩社区",
        "parent_id": "S1",
    },
    "partygrid.activity.logged": {
        "member_id": "M1",
        "activity_type": "volunteer_service",
        "hours": 2.5,
    },
    "partygrid.activity.revoked": {"member_id": "M1", "revokes": {"source": "/a", "id": "x"}},
    "partygrid.points.changed": {
        "member_id": "M1",
        "period": "2026-11",
        "points": "15.00",
        "delta": "5.00",
    },
}


def raw(event: dict) -> bytes:
    return json.dumps(event).encode()


def test_topics_are_the_types_and_every_core_type_is_registered() -> None:
    assert set(GOOD) <= set(EVENT_TYPES)
    assert "partygrid.deadletter" in all_topics()
    assert all_topics() == sorted(EVENT_TYPES)


@pytest.mark.parametrize("type_", sorted(GOOD))
def test_good_events_validate(type_: str) -> None:
    key = EVENT_TYPES[type_].key_field
    event = parse_envelope(raw(cloud_event(type_, GOOD[type_], subject=GOOD[type_][key])))
    data = validate_data(event, type_)
    assert getattr(data, key) == GOOD[type_][key]


@pytest.mark.parametrize(
    ("type_", "field"),
    [
        (t, f)
        for t in sorted(GOOD)
        for f in EVENT_TYPES[t].model.model_json_schema().get("required", [])
    ],
)
def test_every_required_data_field_is_required(type_: str, field: str) -> None:
    data = {k: v for k, v in GOOD[type_].items() if k != field}
    event = parse_envelope(raw(cloud_event(type_, data)))
    with pytest.raises(BadEvent) as exc:
        validate_data(event, type_)
    assert exc.value.reason == "invalid_data" and field in exc.value.detail


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "time", "data"])
def test_every_required_envelope_attribute_is_required(attribute: str) -> None:
    event = cloud_event(ACTIVITY_LOGGED, GOOD[ACTIVITY_LOGGED])
    del event[attribute]
    with pytest.raises(BadEvent) as exc:
        parse_envelope(raw(event))
    assert exc.value.reason == "not_cloudevent" and attribute in exc.value.detail


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"specversion": "0.3"}, "not_cloudevent"),
        ({"time": "2026-11-21T09:30:00"}, "not_cloudevent"),  # no offset
        ({"time": "yesterday"}, "not_cloudevent"),
        ({"id": ""}, "not_cloudevent"),
        ({"subject": "bad id with spaces"}, "not_cloudevent"),
        ({"datacontenttype": "text/xml"}, "not_cloudevent"),
        ({"type": "partygrid.nothing"}, "unknown_type"),
        ({"subject": "M2"}, "invalid_data"),  # differs from data.member_id
    ],
)
def test_bad_envelopes(patch: dict, reason: str) -> None:
    event = {**cloud_event(ACTIVITY_LOGGED, GOOD[ACTIVITY_LOGGED], subject="M1"), **patch}
    with pytest.raises(BadEvent) as exc:
        validate_data(parse_envelope(raw(event)), ACTIVITY_LOGGED)
    assert exc.value.reason == reason


@pytest.mark.parametrize(
    ("type_", "patch"),
    [
        ("partygrid.member.registered", {"category": "honorary"}),
        ("partygrid.member.registered", {"member_id": "M" * 65}),
        ("partygrid.member.registered", {"party_org_id": "ORG/1"}),
        ("partygrid.member.deregistered", {"reason": "bored"}),
        ("partygrid.region.defined", {"level": "province"}),
        ("partygrid.region.defined", {"parent_id": None}),  # required below district
        ("partygrid.region.defined", {"parent_id": "C1"}),  # its own parent
        ("partygrid.activity.logged", {"activity_type": "dancing"}),
        ("partygrid.activity.logged", {"hours": 0}),
        ("partygrid.activity.logged", {"hours": 24.5}),
        ("partygrid.activity.logged", {"hours": 1.234}),
        ("partygrid.activity.logged", {"hours": None}),  # required for volunteer_service
        ("partygrid.activity.revoked", {"revokes": {"source": "/a"}}),
        ("partygrid.points.changed", {"period": "2026-13"}),
        ("partygrid.unit.reported", {"member_count": -1}),
    ],
)
def test_bad_values_are_rejected(type_: str, patch: dict) -> None:
    data = {**GOOD[type_], **patch}
    with pytest.raises(BadEvent) as exc:
        validate_data(parse_envelope(raw(cloud_event(type_, data))), type_)
    assert exc.value.reason == "invalid_data"


def test_not_json_wrong_topic_and_future_time() -> None:
    for body in (b"\xff\xfe", b"{not json", None):
        with pytest.raises(BadEvent) as exc:
            parse_envelope(body)
        assert exc.value.reason == "not_json"
    with pytest.raises(BadEvent) as exc:
        parse_envelope(b"[1, 2]")
    assert exc.value.reason == "not_cloudevent"
    event = parse_envelope(raw(cloud_event(ACTIVITY_LOGGED, GOOD[ACTIVITY_LOGGED])))
    with pytest.raises(BadEvent) as exc:
        validate_data(event, "partygrid.member.reported")
    assert exc.value.reason == "wrong_topic"
    now = datetime(2026, 11, 22, tzinfo=UTC)
    soon = parse_envelope(
        raw(cloud_event(ACTIVITY_LOGGED, GOOD[ACTIVITY_LOGGED], time=now + timedelta(hours=23)))
    )
    check_time(soon, now)  # within a day: clocks differ
    late = parse_envelope(
        raw(cloud_event(ACTIVITY_LOGGED, GOOD[ACTIVITY_LOGGED], time=now + timedelta(hours=25)))
    )
    with pytest.raises(BadEvent) as exc:
        check_time(late, now)
    assert exc.value.reason == "time_in_future"


def test_digest_tells_redelivery_from_conflict() -> None:
    a = cloud_event(
        ACTIVITY_LOGGED, GOOD[ACTIVITY_LOGGED], id="x", time="2026-11-21T09:30:00+08:00"
    )
    same_instant = {**a, "time": "2026-11-21T01:30:00+00:00"}
    other = {**a, "data": {**a["data"], "hours": 3}}
    assert parse_envelope(raw(a)).digest() == parse_envelope(raw(same_instant)).digest()
    assert parse_envelope(raw(a)).digest() != parse_envelope(raw(other)).digest()


@pytest.mark.parametrize(
    ("points", "delta"), [("5.00", "5.00"), ("-1.50", "-6.50"), ("1234.25", "0.01")]
)
def test_encode_event_gives_what_new_event_gives(points: str, delta: str) -> None:
    """The scoring hot path encodes points.changed without building models; the bytes must
    parse and validate exactly like the model-built event's, differing only in the id."""
    from decimal import Decimal

    from shared.events import POINTS_CHANGED, PointsChanged, encode_event, new_event

    when = datetime(2026, 11, 22, 7, 30, 1, 250000, tzinfo=UTC)
    data = {"member_id": "M000123", "period": "2026-11", "points": points, "delta": delta}
    fast = encode_event(
        type=POINTS_CHANGED, source="/partygrid/scoring", subject="M000123", time=when, data=data
    )
    model = PointsChanged(
        member_id="M000123", period="2026-11", points=Decimal(points), delta=Decimal(delta)
    )
    slow = new_event(
        type=POINTS_CHANGED, source="/partygrid/scoring", subject="M000123", time=when, data=model
    ).to_bytes()
    a, b = json.loads(fast), json.loads(slow)
    assert a.pop("id") != b.pop("id")
    assert a == b
    parsed = parse_envelope(fast)
    assert validate_data(parsed, POINTS_CHANGED) == model
    assert list(json.loads(fast)) == list(json.loads(slow))  # same attribute order
