"""A use case's refusal becomes one HTTP status per kind, with the JSON error body."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.api import REFUSAL_STATUS, install_error_handlers
from shared.refusals import Kind, Refusal, conflict, invalid, not_found


def _app_raising(refusal: Refusal) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/x")
    async def _x() -> None:
        raise refusal

    return TestClient(app)


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        (invalid("bad_points", "points must be between 0 and 100", field="points"), 422),
        (not_found("member", "m-1"), 404),
        (conflict("already_closed", "the period is closed"), 409),
    ],
)
def test_each_kind_of_refusal_is_answered_with_its_status(refusal: Refusal, status: int) -> None:
    response = _app_raising(refusal).get("/x")
    assert response.status_code == status
    assert response.json()["error"] == refusal.code
    assert response.json()["message"] == refusal.message


def test_a_refusal_names_the_field_it_is_about() -> None:
    response = _app_raising(invalid("bad_points", "points must be positive", field="points"))
    assert response.get("/x").json()["details"] == [{"field": "points"}]


def test_every_kind_has_a_status() -> None:
    assert set(REFUSAL_STATUS) == set(Kind)
