"""Scoring read and management API (port 8004), docs/design.md §4.10, one module per concept:

- members:   a member's points and ranks                 (/v1/members/{id}/points, /rank)
- rankings:  streets, communities, grids, members, zero-point members, missing organisation life
- rules:     versioned rules                             (/v1/rules)
- feedback:  the half-yearly report to Party organisations (/v1/reports/feedback)
- params:    the period, metric, paging and member-scope parameters every route reads the same
- 红黑榜 boards: boards_api.py; periods: periods_api.py; record: record.py; follow-up:
  followups.py; board page: board.py (wired in main.py)

Periods: 2026-11, 2026-Q4, 2026-H2 or 2026 (city time zone); default the current month.
A closed period is read from the figures frozen at its close unless `figures=live` is asked
for (services.scoring.figures); every response says which figures it carries.
Every endpoint needs a bearer token; rankings read maintained aggregates and never recompute.
A community_id, grid_id or street_id filter must name a region of that level known from
partygrid.region.defined (a retired one is accepted: its past stays readable); anything else is
422, never an empty list. Routes parse, call a read query or use case (services.scoring.reads,
services.scoring.usecases) and shape the answer; refusals are `shared.refusals.Refusal`.
"""

from __future__ import annotations

from fastapi import APIRouter

from ..reads import check_scope, known_region
from . import feedback, members, rankings, rules
from .params import IdParam, PeriodParam, Points, ScopeParams, period_of

router = APIRouter()
for _part in (members, rankings, rules, feedback):
    router.include_router(_part.router)

# The names the board, period, record and follow-up routes import from here.
_period = period_of
_check_scope = check_scope
_known = known_region

__all__ = [
    "IdParam",
    "PeriodParam",
    "Points",
    "ScopeParams",
    "_check_scope",
    "_known",
    "_period",
    "router",
]
