"""Pure domain rules: GB 11643 ID numbers, phone numbers and masks, CSV parsing, and the
order-independence of registry state (latest by time, source, id)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.members.domain import evaluation
from services.members.domain.csvimport import parse_csv
from services.members.domain.identity import (
    PersonalDataError,
    id_check_digit,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
)
from services.members.domain.members import Member, Report, seen_by, with_moves
from services.members.domain.registry import deregistration, registration
from services.members.domain.rules import next_time
from shared.events.types import MemberCategory


def test_known_id_numbers() -> None:
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert normalize_id_number("110105198001011238") == "110105198001011238"
    for bad, rule in [
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "birth date"),
        ("110105218001011238", "between 1900 and today"),
        ("11010519491231002", "18 characters"),
        ("01010519491231002X", "18 characters"),
    ]:
        with pytest.raises(PersonalDataError) as err:
            normalize_id_number(bad)
        assert rule in err.value.rule and bad not in str(err.value)


@given(
    region=st.integers(110000, 659999),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    seq=st.integers(0, 999),
    pos=st.integers(0, 16),
    delta=st.integers(1, 9),
)
def test_check_digit_catches_any_single_digit_change(
    region: int, born: date, seq: int, pos: int, delta: int
) -> None:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    valid = body + id_check_digit(body)
    assert normalize_id_number(valid) == valid
    digits = list(body)
    digits[pos] = str((int(digits[pos]) + delta) % 10)
    changed = "".join(digits) + valid[17]
    with pytest.raises(PersonalDataError):
        normalize_id_number(changed)


def test_phone_and_masks() -> None:
    assert normalize_phone("+86 138 0000 0000") == "13800000000"
    assert normalize_phone("0594-2345678") == "0594-2345678"
    for bad in ("12345678901", "1380000000", "abc"):
        with pytest.raises(PersonalDataError):
            normalize_phone(bad)
    assert mask_phone("13800000000") == "138****0000"
    assert mask_id_number("11010519491231123X") == "110105********123X"
    assert mask_id_number(None) is None


def test_csv_gbk_quoted_lines_and_errors() -> None:
    text = (
        "党员编号,姓名,类别,所属党组织,入党日期\r\n"
        'M1,"张\r\n三",在职党员,P1,2001年7月1日\r\n'  # a quoted name over two lines
        "\r\n"
        "M2,李四,退休,P1,2099-01-01\r\n"
        "M3,王五,在职党员,P1,20010701,extra\r\n"
    )
    parsed = parse_csv(text.encode("gbk"), today=date(2026, 11, 1))
    assert parsed.encoding == "gbk"
    assert [(r.member_id, r.line, r.joined_on) for r in parsed.rows] == [
        ("M1", 2, date(2001, 7, 1))
    ]
    assert [(e.line, e.field) for e in parsed.errors] == [(5, "joined_on"), (6, "row")]
    unknown = parse_csv(b"member_id,name,category,party_org_id,salary\n")
    assert unknown.errors[0].field == "column 5"
    assert parse_csv(b"\xff\xfe\x00garbage\x81").errors[0].field == "file"


def _apply(events: list[tuple[str, datetime, str, str]]) -> dict:
    state: dict = {}
    for kind, t, source, eid in events:
        current = state or None
        if kind.startswith("reg"):
            state.update(
                registration(
                    current,
                    name=kind,
                    category="in_service",
                    party_org_id="P",
                    joined_on=None,
                    version=(t, source, eid),
                )
            )
        else:
            state.update(deregistration(current, reason="other", version=(t, source, eid)))
    return {k: state.get(k) for k in ("name", "active", "reg_time", "state_time")}


def test_registry_state_is_order_independent() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        ("reg-a", t, "/a", "1"),
        ("dereg", t + timedelta(hours=1), "/a", "2"),
        ("reg-b", t + timedelta(hours=1), "/b", "1"),  # same time, later source: wins
        ("reg-c", t - timedelta(hours=1), "/a", "3"),
    ]
    outcomes = {tuple(_apply(list(p)).items()) for p in itertools.permutations(events)}
    assert len(outcomes) == 1
    final = dict(next(iter(outcomes)))
    assert final["name"] == "reg-b" and final["active"] is True


def test_next_time_is_after_everything_known() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ahead = now + timedelta(hours=3)
    assert next_time(now, None) == now
    assert next_time(now, ahead, None) == ahead + timedelta(microseconds=1)


def _evaluated(unit_id: str, done: int) -> evaluation.UnitEvaluation:
    figures = evaluation.score(due=4, done=done, evaluation=None, in_service=0, participating=0)
    return evaluation.UnitEvaluation(
        **vars(figures),
        unit_id=unit_id,
        name=unit_id,
        community_id="C1",
        street_id=None,
        year=2026,
        review=None,
        committee_members=(),
    )


def test_units_with_equal_scores_share_a_rank_and_the_next_one_skips() -> None:
    units = [_evaluated("U3", 1), _evaluated("U1", 4), _evaluated("U2", 4), _evaluated("U4", 0)]
    ranking = [(u.unit_id, u.rank) for u in evaluation.ranked(units)]
    assert ranking == [("U1", 1), ("U2", 1), ("U3", 3), ("U4", 4)]


def _member(phone: str, id_number: str) -> Member:
    return Member(
        member_id="M1",
        name="党员",
        category=MemberCategory.IN_SERVICE,
        party_org_id="P1",
        joined_on=None,
        skills=(),
        phone=phone,
        id_number=id_number,
        address_community_id=None,
        status="active",
        deregistered_reason=None,
        current_report=None,
    )


def test_a_city_admin_sees_phone_and_id_number_as_stored() -> None:
    member = _member("13800000000", "110105198001011238")
    shown = seen_by(member, city_admin=True)
    assert (shown.phone, shown.id_number) == ("13800000000", "110105198001011238")


def test_everyone_but_a_city_admin_sees_phone_and_id_number_masked() -> None:
    member = _member("13800000000", "110105198001011238")
    shown = seen_by(member, city_admin=False)
    assert (shown.phone, shown.id_number) == ("138****0000", "110105********1238")


def _report(community_id: str, minute: int) -> Report:
    at = datetime(2026, 1, 1, 8, minute, tzinfo=UTC)
    return Report(community_id=community_id, grid_id=None, skills=(), reported_at=at, source="t")


def test_a_report_to_another_community_is_a_move_naming_where_it_moved_from() -> None:
    history = with_moves([_report("C1", 0), _report("C2", 1)])
    assert [r.moved_from for r in history] == [None, "C1"]


def test_a_report_to_the_same_community_again_is_not_a_move() -> None:
    history = with_moves([_report("C1", 0), _report("C1", 1), _report("C2", 2)])
    assert [r.moved_from for r in history] == [None, None, "C1"]
