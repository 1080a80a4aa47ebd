"""Pure rules of the activities domain: hours, the check-in window, what can be confirmed,
wish expiry, the month a post fulfilment belongs to, the rolls of organisation-life meetings and
what the time bank banks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.activities.domain import rules
from services.activities.domain.meetings import Attendance, Entry, Standing, check_roll, plan
from services.activities.domain.timebank import (
    banked_hours,
    check_gift,
    earned_entry_id,
    revoked_entry_id,
)
from shared.events import ActivityLogged, ActivityType
from shared.refusals import Kind, Refusal

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("value", ["0.01", "2.5", "24", 24, 7.25])
def test_hours_accepted(value: object) -> None:
    parsed = rules.parse_hours(value, required=True)  # type: ignore[arg-type]
    assert parsed == Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("value", [0, "-1", "24.01", "1.234", "NaN", "Infinity", "abc"])
def test_hours_refused(value: object) -> None:
    with pytest.raises(Refusal) as exc:
        rules.parse_hours(value, required=True)  # type: ignore[arg-type]
    assert exc.value.kind is Kind.INVALID and exc.value.code == "invalid_hours"


def test_hours_required_only_when_asked() -> None:
    assert rules.parse_hours(None, required=False) is None
    with pytest.raises(Refusal, match="required"):
        rules.parse_hours(None, required=True)


def test_checkin_window() -> None:
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    end = start + timedelta(hours=2)
    rules.check_checkin_open(start - timedelta(minutes=30), start, end)
    rules.check_checkin_open(end + timedelta(hours=1), start, end)
    with pytest.raises(Refusal) as early:
        rules.check_checkin_open(start - timedelta(minutes=31), start, end)
    assert early.value.code == "checkin_not_open"
    with pytest.raises(Refusal) as late:
        rules.check_checkin_open(end + timedelta(hours=1, seconds=1), start, end)
    assert late.value.code == "checkin_closed"


def test_activity_shape() -> None:
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    rules.check_activity_shape(ActivityType.STUDY, start, start + timedelta(hours=1))
    for kind, end in [
        (ActivityType.WISH_FULFILLED, start + timedelta(hours=1)),
        (ActivityType.ORGANIZATION_LIFE_ABSENT, start + timedelta(hours=1)),
        (ActivityType.STUDY, start),
        (ActivityType.STUDY, start + timedelta(days=8)),
    ]:
        with pytest.raises(Refusal):
            rules.check_activity_shape(kind, start, end)


def test_confirmable() -> None:
    vol, life = ActivityType.VOLUNTEER_SERVICE, ActivityType.ORGANIZATION_LIFE
    assert rules.confirmable("checked_out", vol) is None
    assert rules.confirmable("checked_in", vol) == "not_checked_out"
    assert rules.confirmable("checked_in", life) is None
    assert rules.confirmable("signed_up", life) == "not_checked_in"
    assert rules.confirmable("confirmed", life) == "already_confirmed"
    assert rules.confirmable("cancelled", life) == "cancelled"


def test_a_confirmation_sorts_members_into_confirmed_already_and_skipped() -> None:
    statuses = {"M1": "checked_in", "M2": "confirmed", "M3": "signed_up"}
    outcome = rules.confirmation("A1", ["M1", "M2", "M3", "M4"], statuses, ActivityType.STUDY)
    assert (outcome.confirmed, outcome.already_confirmed) == (("M1",), ("M2",))
    assert outcome.skipped == (
        rules.Skipped("M3", "not_checked_in"),
        rules.Skipped("M4", "not_signed_up"),
    )


def test_wish_status_and_claim_refusals() -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert rules.wish_status("open", now, now) == "expired"
    assert rules.wish_status("open", now + timedelta(seconds=1), now) == "open"
    assert rules.wish_status("claimed", now - timedelta(days=1), now) == "claimed"
    assert rules.refuse_wish_claim("expired", None).code == "wish_expired"
    assert rules.refuse_wish_claim("claimed", "M1").code == "already_claimed"
    with pytest.raises(Refusal):
        rules.check_wish_expiry(now, now)


def test_fulfilment_time_is_inside_its_month_in_the_city() -> None:
    now = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 1 December 00:00 in Shanghai
    assert rules.fulfilment_time("2026-12", now, TZ) == now
    last = rules.fulfilment_time("2026-11", now, TZ)
    assert last.astimezone(TZ).strftime("%Y-%m %H:%M:%S") == "2026-11 23:59:59"
    with pytest.raises(Refusal):
        rules.fulfilment_time("2027-01", now, TZ)
    with pytest.raises(Refusal):
        rules.month_bounds("2026-13", TZ)
    start, end = rules.month_bounds("2026-12", TZ)
    assert (start.month, end.year, end.month) == (12, 2027, 1)


def test_event_ids_are_deterministic_and_distinct() -> None:
    a = rules.participation_event_id("A-1", "M1", 1)
    assert a == rules.participation_event_id("A-1", "M1", 1)
    assert a != rules.participation_event_id("A-1", "M1", 2)
    assert rules.revocation_id(a) != a
    assert rules.post_event_id("P", "M", "2026-11") != rules.post_event_id("P", "M", "2026-12")


# The pure roll rules of organisation-life meetings: what a correction revokes and logs.

P, E, A = Attendance.PRESENT, Attendance.EXCUSED, Attendance.ABSENT


def roll(*lines: tuple[str, Attendance, str | None]) -> dict[str, Entry]:
    return check_roll(Entry(m, s, why) for m, s, why in lines)


def apply(current: dict[str, Standing], version: int, wanted: dict[str, Entry]):
    p = plan("OL-1", current, version, wanted)
    return p, p.roll, p.version


def test_a_member_moved_back_and_forth_never_reuses_a_revoked_id() -> None:
    logged_ids: list[str] = []
    current: dict[str, Standing] = {}
    version = 0
    for status in (P, A, P, A):
        p, current, version = apply(current, version, roll(("M1", status, None)))
        [logged] = p.log
        assert [r.logged_event_id for r in p.revoke] == logged_ids[-1:]
        assert logged.event_id not in logged_ids
        logged_ids.append(logged.event_id)
    assert version == 4


def test_a_member_left_off_a_corrected_roll_loses_its_event() -> None:
    _, current, version = apply({}, 0, roll(("M1", P, None), ("M2", A, None)))
    second, _, _ = apply(current, version, roll(("M1", P, None)))
    assert [(r.member_id, r.logged_event_id) for r in second.revoke] == [
        ("M2", current["M2"].logged_event_id)
    ]
    assert second.log == [] and set(second.roll) == {"M1"}


def test_a_reworded_excuse_is_a_new_version_without_events() -> None:
    _, current, version = apply({}, 0, roll(("M1", E, "ill")))
    p, _, _ = apply(current, version, roll(("M1", E, "in hospital")))
    assert p.changed and p.version == 2 and p.log == [] and p.revoke == []


# Pure rules of the time bank: what earns hours, and the deterministic entry ids.


def test_only_volunteer_service_with_hours_is_banked() -> None:
    volunteer = ActivityLogged(member_id="M1", activity_type="volunteer_service", hours="2.5")
    study = ActivityLogged(member_id="M1", activity_type="study")
    assert banked_hours(volunteer) == Decimal("2.5")
    assert banked_hours(study) is None


def test_entry_ids_are_deterministic_per_volunteer_record() -> None:
    assert earned_entry_id("/city/vp", "1") == earned_entry_id("/city/vp", "1")
    assert earned_entry_id("/city/vp", "1") != earned_entry_id("/city/vp2", "1")
    assert earned_entry_id("/a", "b/c") != earned_entry_id("/a/b", "c")
    assert revoked_entry_id("/city/vp", "1") != earned_entry_id("/city/vp", "1")


def test_hours_are_given_to_another_account_only() -> None:
    with pytest.raises(Refusal) as caught:
        check_gift("M1", "M1")
    assert caught.value.code == "same_account"
