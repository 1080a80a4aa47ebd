"""The pure roll rules of organisation-life meetings: what a correction revokes and logs."""

from __future__ import annotations

from services.activities.domain.meetings import Attendance, Entry, Standing, check_roll, plan

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
