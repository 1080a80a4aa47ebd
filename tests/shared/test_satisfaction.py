"""Pure figures of residents' satisfaction: mean, satisfied share and counts per score."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.refusals import Kind, Refusal
from shared.satisfaction import check_ratable, summary


def test_summary_gives_the_mean_and_the_share_of_fours_and_fives() -> None:
    figures = summary("C1", {5: 2, 4: 1, 1: 1})
    assert figures.ratings == 4
    assert figures.average == Decimal("3.75")
    assert figures.satisfied_share == Decimal("0.7500")
    assert figures.by_score == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2}


def test_a_case_is_rated_only_once_done() -> None:
    check_ratable("wish", "W1", "fulfilled", "fulfilled")
    with pytest.raises(Refusal) as caught:
        check_ratable("wish", "W1", "claimed", "fulfilled")
    assert caught.value.kind is Kind.CONFLICT and caught.value.code == "not_ratable"
