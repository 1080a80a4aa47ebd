"""Scoring's use cases called without HTTP: each refuses with a `shared.refusals.Refusal` of the
right kind, which the API layer maps to a status once (the HTTP tests check the statuses)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.scoring.domain.periods import parse_period
from services.scoring.domain.rules import Rule
from services.scoring.persistence import live as queries
from services.scoring.usecases import change_rule
from services.scoring.usecases.reads import check_scope, feedback_orgs, member_standing
from shared.auth import Principal
from shared.refusals import Kind, Refusal

from .once import Scoring

CITY = Principal("city", "city_admin", "*")


async def test_a_community_admin_must_name_its_community(scoring: Scoring) -> None:
    admin = Principal("c1", "community_admin", "C1")
    with pytest.raises(Refusal) as refused:
        await check_scope(scoring.app.state.runtime.pool, admin, None)
    assert refused.value.kind == Kind.FORBIDDEN


async def test_a_member_no_event_named_is_not_found(scoring: Scoring) -> None:
    pool = scoring.app.state.runtime.pool
    with pytest.raises(Refusal) as refused:
        await member_standing(pool, CITY, "NOBODY", parse_period("2026-11"), queries, ranks=True)
    assert (refused.value.kind, refused.value.detail) == (Kind.NOT_FOUND, {"field": "member_id"})


async def test_feedback_is_only_for_city_service_and_party_org_tokens(scoring: Scoring) -> None:
    street = Principal("s1", "street_admin", "S1")
    with pytest.raises(Refusal) as refused:
        await feedback_orgs(scoring.app.state.runtime.pool, street, "ORGP")
    assert refused.value.kind == Kind.FORBIDDEN


async def test_feedback_needs_an_organisation_unless_the_token_is_one(scoring: Scoring) -> None:
    with pytest.raises(Refusal) as refused:
        await feedback_orgs(scoring.app.state.runtime.pool, CITY, None)
    assert (refused.value.kind, refused.value.code) == (Kind.INVALID, "missing_party_org")


async def test_a_rule_breaking_the_rule_book_is_refused_as_invalid(scoring: Scoring) -> None:
    rule = Rule("grid_visit", Decimal("1.234"), "event", None, datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(Refusal) as refused:
        await change_rule(scoring.app.state.runtime.pool, rule, None, "/test")
    assert (refused.value.kind, refused.value.detail["field"]) == (Kind.INVALID, "points")
