"""Pure rules of the time bank: what earns hours, and the deterministic entry ids."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.activities.domain.timebank import (
    banked_hours,
    check_gift,
    earned_entry_id,
    revoked_entry_id,
)
from shared.events import ActivityLogged
from shared.refusals import Refusal


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
