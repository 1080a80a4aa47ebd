"""Scoring read and management API (port 8004), docs/design.md §4.10, one module per concept:

- members:     a member's points and ranks               (/v1/members/{id}/points, /rank)
- rankings:    streets, communities, grids, members, zero-point members, missing organisation life
- rules:       versioned rules                           (/v1/rules)
- feedback:    the half-yearly report to Party organisations (/v1/reports/feedback)
- boards:      红黑榜, red and black boards               (/v1/boards)
- periods:     period close and reopen                   (/v1/periods)
- adjustments: what changed after a close                (/v1/periods/{period}/adjustments)
- record:      a member's record                         (/v1/members/{id}/record)
- followups:   follow-up talks, organisation-life rule  (/v1/followups, /v1/organization-life/rule)
- board:       the ranking-board page                    (/board, /v1/board-links)
- params:      the period, metric, paging and member-scope parameters every route reads the same

Periods: 2026-11, 2026-Q4, 2026-H2 or 2026 (city time zone); default the current month.
A closed period is read from the figures frozen at its close unless `figures=live` is asked
for (services.scoring.usecases.figures); every response says which figures it carries.
Every endpoint needs a bearer token; rankings read maintained aggregates and never recompute.
A community_id, grid_id or street_id filter must name a region of that level known from
partygrid.region.defined (a retired one is accepted: its past stays readable); anything else is
422, never an empty list. Routes parse, call a use case (services.scoring.usecases) and answer
the domain value it returns as their response model, `Model.model_validate(as_body(value))`;
refusals are `shared.refusals.Refusal`.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    adjustments,
    board,
    boards,
    feedback,
    followups,
    members,
    periods,
    rankings,
    record,
    rules,
)

# one module per concept; the order is the order of the OpenAPI document
ROUTERS: list[APIRouter] = [
    members.router,
    rankings.router,
    rules.router,
    feedback.router,
    boards.router,
    periods.router,
    adjustments.router,
    record.router,
    followups.router,
    board.router,
]
