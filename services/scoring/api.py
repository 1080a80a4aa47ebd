"""Scoring read and management API (port 8004), docs/design.md §4.10.

- GET  /v1/members/{member_id}/points?period=2026-11      points and points by type
- GET  /v1/members/{member_id}/rank?period=2026-11        own rank in grid, community, street, city
- GET  /v1/rankings/streets?period=&metric=               streets (avg_points, total_points,
                                                          participation_rate)
- GET  /v1/rankings/communities?period=&street_id=&metric=
- GET  /v1/rankings/grids?period=&community_id=&metric=
- GET  /v1/rankings/members?period=&community_id=|grid_id=|street_id=&limit=&offset=
- GET  /v1/zero-points?period=&community_id=|grid_id=|street_id=      零分党员
- GET  /v1/organization-life/missing?period=2026-Q4&community_id=      hard criterion
- GET  /v1/rules, POST /v1/rules                           versioned rules
- 红黑榜 boards: boards_api.py; periods: periods_api.py; record: record.py; follow-up: followups.py
- GET  /v1/reports/feedback?party_org_id=&period=2026-H2&format=json|csv       每半年反馈

Periods: 2026-11, 2026-Q4, 2026-H2 or 2026 (city time zone); default the current month.
A closed period is read from the figures frozen at its close unless `figures=live` is asked
for (services.scoring.figures); every response says which figures it carries.
Every endpoint needs a bearer token; rankings read maintained aggregates and never recompute.
A community_id, grid_id or street_id filter must name a region of that level known from
partygrid.region.defined (a retired one is accepted: its past stays readable); anything else is
422, never an empty list.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field, PlainSerializer

from shared.api import ERROR_RESPONSES, ApiError, Pool
from shared.auth import Caller, Principal
from shared.events import ID_PATTERN, RegionLevel
from shared.regions import require_region

from . import closed_queries as cq
from . import queries as q
from .domain.periods import InvalidPeriod, Period, month_of, parse_period
from .domain.ranking import METRICS
from .domain.rules import RULE_TYPES, InvalidRule, Rule
from .figures import FIGURES_DOC, Figures, FiguresParam, choose
from .orglife import missed_among
from .partyorgs import subtree
from .rules_history import require_note_for_correction
from .usecases import add_rule_version

router = APIRouter(prefix="/v1", tags=["scoring"], responses=ERROR_RESPONSES)

Points = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
IdParam = Annotated[str, Path(pattern=ID_PATTERN, description="A member id.")]
OptId = Annotated[str | None, Query(pattern=ID_PATTERN)]
PeriodParam = Annotated[
    str | None,
    Query(description="2026-11, 2026-Q4, 2026-H2 or 2026; default: the current month."),
]
MetricParam = Annotated[str, Query(description=f"One of: {', '.join(METRICS)}.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


def _period(request: Request, label: str | None) -> Period:
    if label is None:
        label = month_of(datetime.now(UTC), request.app.state.runtime.settings.tz)
    try:
        return parse_period(label)
    except InvalidPeriod as exc:
        raise ApiError(422, "invalid_period", str(exc), field="period", rule=str(exc)) from None


def _metric(metric: str) -> str:
    if metric not in METRICS:
        raise ApiError(
            422,
            "invalid_metric",
            f"metric {metric!r} is not one of: {', '.join(METRICS)}",
            field="metric",
            rule=f"one of {', '.join(METRICS)}",
        )
    return metric


def _scope(**ids: str | None) -> q.MemberScope:
    given = {k: v for k, v in ids.items() if v}
    if len(given) > 1:
        raise ApiError(
            422,
            "invalid_scope",
            "give at most one of community_id, grid_id, street_id",
            field=",".join(given),
            rule="at most one scope",
        )
    return q.MemberScope(**given)


async def _known(pool: Any, region_id: str | None, level: RegionLevel, field: str) -> None:
    """A filter must name a region defined by region.defined, of that level; a retired one is
    fine (its past periods stay readable)."""
    if region_id:
        await require_region(pool, region_id, level=level, field=field, retired_ok=True)


async def _check_scope(pool: Any, caller: Principal, region_id: str | None) -> None:
    if region_id and caller.role in ("street_admin", "community_admin"):
        caller.require_region(await q.region_path(pool, region_id))
    elif not region_id and caller.role == "community_admin":
        raise ApiError(403, "forbidden", "a community_admin token must name its community_id")


async def member_scope(
    pool: Pool,
    caller: Caller,
    community_id: OptId = None,
    grid_id: OptId = None,
    street_id: OptId = None,
) -> q.MemberScope:
    """The members a list covers: at most one of community, grid, street (none: the city),
    and one the caller's token may see."""
    scope = _scope(community_id=community_id, grid_id=grid_id, street_id=street_id)
    await _known(pool, community_id, RegionLevel.COMMUNITY, "community_id")
    await _known(pool, grid_id, RegionLevel.GRID, "grid_id")
    await _known(pool, street_id, RegionLevel.STREET, "street_id")
    await _check_scope(pool, caller, community_id or grid_id or street_id)
    return scope


ScopeParams = Annotated[q.MemberScope, Depends(member_scope)]


# --- members ---------------------------------------------------------------------------------


class MemberPoints(BaseModel):
    member_id: str = Field(description="The member.")
    period: str = Field(description="The period asked for.")
    points: Points = Field(description="Total points in the period (2 decimals).")
    by_type: dict[str, Points] = Field(description="Points per activity type in the period.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/members/{member_id}/points", response_model=MemberPoints)
async def get_member_points(
    request: Request,
    pool: Pool,
    caller: Caller,
    member_id: IdParam,
    period: PeriodParam = None,
    figures: FiguresParam = None,
) -> MemberPoints:
    p = _period(request, period)
    src, fig = await choose(pool, p.label, figures)
    member = await q.member_exists(pool, member_id)
    if member is None:
        raise ApiError(404, "not_found", f"no events about member {member_id} have been received")
    await _check_scope(pool, caller, member["community_id"] or "-")
    total, by_type = await src.member_points(pool, member_id, p)
    return MemberPoints(
        member_id=member_id, period=p.label, points=total, by_type=by_type, figures=fig
    )


class ScopeRank(BaseModel):
    scope: Literal["grid", "community", "street", "city"] = Field(description="Scope ranked in.")
    scope_id: str | None = Field(description="Id of the grid, community or street.")
    rank: int = Field(description="Competition rank in the scope.")
    members: int = Field(description="Members counted in the scope.")


class MemberRank(BaseModel):
    member_id: str = Field(description="The member.")
    period: str = Field(description="The period.")
    points: Points = Field(description="The member's points in the period.")
    counted: bool = Field(description="False if not reported or deregistered (no ranks then).")
    ranks: list[ScopeRank] = Field(description="Rank in each scope the member counts in.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/members/{member_id}/rank", response_model=MemberRank)
async def get_member_rank(
    request: Request,
    pool: Pool,
    caller: Caller,
    member_id: IdParam,
    period: PeriodParam = None,
    figures: FiguresParam = None,
) -> MemberRank:
    p = _period(request, period)
    src, fig = await choose(pool, p.label, figures)
    m = await q.member_exists(pool, member_id)
    if m is None:
        raise ApiError(404, "not_found", f"no events about member {member_id} have been received")
    await _check_scope(pool, caller, m["community_id"] or "-")
    if src is cq:  # where the member counted at the close
        m = await cq.member_exists(pool, member_id, p.label) or m
    total, _ = await src.member_points(pool, member_id, p)
    ranks: list[ScopeRank] = []
    if m["counted"]:
        path = await q.region_path(pool, m["community_id"])
        street = path[1] if len(path) > 1 else None
        scopes: list[tuple[str, str | None, q.MemberScope]] = []
        if m["grid_id"]:
            scopes.append(("grid", m["grid_id"], q.MemberScope(grid_id=m["grid_id"])))
        scopes.append(
            ("community", m["community_id"], q.MemberScope(community_id=m["community_id"]))
        )
        if street:
            scopes.append(("street", street, q.MemberScope(street_id=street)))
        scopes.append(("city", None, q.MemberScope()))
        for name, sid, scope in scopes:
            rank, size = await src.rank_in_scope(pool, p.label, scope, total)
            ranks.append(ScopeRank(scope=name, scope_id=sid, rank=rank, members=size))  # type: ignore[arg-type]
    return MemberRank(
        member_id=member_id,
        period=p.label,
        points=total,
        counted=m["counted"],
        ranks=ranks,
        figures=fig,
    )


# --- rankings --------------------------------------------------------------------------------


class RegionItem(BaseModel):
    rank: int = Field(description="Competition rank (1, 2, 2, 4).")
    region_id: str = Field(description="The street, community or grid.")
    name: str = Field(description="Its name.")
    score: Points = Field(description="The metric's value.")
    members: int = Field(description="Members counted in it.")
    total_points: Points = Field(description="Total points of its members in the period.")
    active_members: int = Field(description="Members with points above zero in the period.")


class RegionRanking(BaseModel):
    period: str = Field(description="The period.")
    metric: str = Field(description="The metric ranked by.")
    total: int = Field(description="Items before paging.")
    items: list[RegionItem] = Field(description="The ranked items of this page.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


def _region_ranking(
    period: Period, metric: str, rows: list[q.RegionRow], limit: int, offset: int, fig: Figures
) -> RegionRanking:
    ranked = q.rank_regions(rows, metric)
    items = [
        RegionItem(
            rank=rank,
            region_id=r.region_id,
            name=r.name,
            score=score,
            members=r.members,
            total_points=r.total,
            active_members=r.positive,
        )
        for rank, r, score in ranked[offset : offset + limit]
    ]
    return RegionRanking(
        period=period.label, metric=metric, total=len(ranked), items=items, figures=fig
    )


@router.get("/rankings/streets", response_model=RegionRanking)
async def rank_streets(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: PeriodParam = None,
    metric: MetricParam = "avg_points",
    limit: Limit = 100,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> RegionRanking:
    p, m = _period(request, period), _metric(metric)
    src, fig = await choose(pool, p.label, figures)
    return _region_ranking(p, m, await src.street_rows(pool, p.label), limit, offset, fig)


@router.get("/rankings/communities", response_model=RegionRanking)
async def rank_communities(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: PeriodParam = None,
    street_id: OptId = None,
    metric: MetricParam = "avg_points",
    limit: Limit = 100,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> RegionRanking:
    p, m = _period(request, period), _metric(metric)
    src, fig = await choose(pool, p.label, figures)
    await _known(pool, street_id, RegionLevel.STREET, "street_id")
    return _region_ranking(
        p, m, await src.child_rows(pool, p.label, "community", street_id), limit, offset, fig
    )


@router.get("/rankings/grids", response_model=RegionRanking)
async def rank_grids(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: PeriodParam = None,
    community_id: OptId = None,
    metric: MetricParam = "avg_points",
    limit: Limit = 100,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> RegionRanking:
    p, m = _period(request, period), _metric(metric)
    src, fig = await choose(pool, p.label, figures)
    await _known(pool, community_id, RegionLevel.COMMUNITY, "community_id")
    return _region_ranking(
        p, m, await src.child_rows(pool, p.label, "grid", community_id), limit, offset, fig
    )


class MemberItem(BaseModel):
    rank: int = Field(description="Competition rank in the scope.")
    member_id: str = Field(description="The member.")
    name: str | None = Field(description="The member's name, if registered.")
    score: Points = Field(description="Points in the period.")
    community_id: str | None = Field(description="The member's current community.")
    grid_id: str | None = Field(description="The member's current grid.")
    org_life_missed: bool = Field(
        default=False, description="Missed organisation life in the period (hard criterion)."
    )


class MemberRanking(BaseModel):
    period: str = Field(description="The period.")
    metric: str = Field(description="Always points.")
    total: int = Field(description="Members in the scope.")
    items: list[MemberItem] = Field(description="The ranked members of this page.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/rankings/members", response_model=MemberRanking)
async def rank_members(
    request: Request,
    pool: Pool,
    scope: ScopeParams,
    period: PeriodParam = None,
    limit: Limit = 50,
    offset: Offset = 0,
    figures: FiguresParam = None,
) -> MemberRanking:
    p = _period(request, period)
    src, fig = await choose(pool, p.label, figures)
    total, rows = await src.member_ranking(pool, p.label, scope, limit, offset)
    missed = await missed_among(pool, p, [r["member_id"] for r in rows], fig == "closed")
    return MemberRanking(
        figures=fig,
        period=p.label,
        metric="points",
        total=total,
        items=[
            MemberItem(
                rank=r["rank"],
                member_id=r["member_id"],
                name=r["name"],
                score=r["points"],
                community_id=r["community_id"],
                grid_id=r["grid_id"],
                org_life_missed=r["member_id"] in missed,
            )
            for r in rows
        ],
    )


class ZeroItem(BaseModel):
    member_id: str = Field(description="The member.")
    name: str | None = Field(description="The member's name, if registered.")
    community_id: str | None = Field(description="Current community.")
    points: Points = Field(description="Points in the period (zero or below).")


class ZeroPoints(BaseModel):
    period: str = Field(description="The period.")
    count: int = Field(description="Number of counted members with points <= 0.")
    items: list[ZeroItem] = Field(description="Those members, by member id.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/zero-points", response_model=ZeroPoints)
async def zero_points(
    request: Request,
    pool: Pool,
    scope: ScopeParams,
    period: PeriodParam = None,
    figures: FiguresParam = None,
) -> ZeroPoints:
    p = _period(request, period)
    src, fig = await choose(pool, p.label, figures)
    rows = await src.zero_point_members(pool, p.label, scope)
    return ZeroPoints(
        figures=fig,
        period=p.label,
        count=len(rows),
        items=[
            ZeroItem(
                member_id=r["member_id"],
                name=r["name"],
                community_id=r["community_id"],
                points=r["points"],
            )
            for r in rows
        ],
    )


class MissingItem(BaseModel):
    member_id: str = Field(description="The member.")
    name: str | None = Field(description="The member's name, if registered.")
    community_id: str | None = Field(description="Current community.")


class MissingOrganizationLife(BaseModel):
    period: str = Field(description="The quarter (or other period) checked.")
    count: int = Field(description="Counted members with no organization_life in the period.")
    items: list[MissingItem] = Field(description="Those members, by member id.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get("/organization-life/missing", response_model=MissingOrganizationLife)
async def organization_life_missing(
    request: Request,
    pool: Pool,
    scope: ScopeParams,
    period: Annotated[str, Query(description="Usually a quarter: 2026-Q4.")],
    figures: FiguresParam = None,
) -> MissingOrganizationLife:
    p = _period(request, period)
    src, fig = await choose(pool, p.label, figures)
    rows = await src.missing_organization_life(pool, p, scope)
    return MissingOrganizationLife(
        figures=fig,
        period=p.label,
        count=len(rows),
        items=[
            MissingItem(member_id=r["member_id"], name=r["name"], community_id=r["community_id"])
            for r in rows
        ],
    )


# --- rules -----------------------------------------------------------------------------------


class RuleOut(BaseModel):
    activity_type: str = Field(description="Activity type, or member_reported.")
    points: Points = Field(description="Points per event or per hour.")
    per: Literal["event", "hour"] = Field(description="event or hour.")
    monthly_cap: Points | None = Field(description="Monthly cap per member, null for none.")
    effective_from: datetime = Field(description="Applies to events at or after this time.")
    created_by: str | None = Field(
        default=None, description="Who added this version (audit actor; null for defaults)."
    )


class RuleIn(BaseModel):
    activity_type: str = Field(description=f"One of: {', '.join(RULE_TYPES)}.")
    points: Decimal = Field(description="Points per event or hour, 2 decimals at most.")
    per: str = Field(default="event", description="event or hour.")
    monthly_cap: Decimal | None = Field(default=None, description="Cap per member and month.")
    effective_from: AwareDatetime = Field(description="RFC 3339 time with offset.")
    note: str | None = Field(default=None, max_length=500, description="Why it changed.")


class RulesOut(BaseModel):
    current: list[RuleOut] = Field(description="The rules in force now.")
    versions: list[RuleOut] = Field(description="Every version, by type and effective_from.")


class RuleChangeOut(BaseModel):
    rule: RuleOut = Field(description="The version added.")
    buckets_reevaluated: int = Field(description="Member-month buckets whose points changed.")
    members_affected: int = Field(description="Members whose points changed.")


def _rule_out(r: Rule, created_by: str | None = None) -> RuleOut:
    return RuleOut(
        activity_type=r.activity_type,
        points=r.points,
        per=r.per,  # type: ignore[arg-type]
        monthly_cap=r.monthly_cap,
        effective_from=r.effective_from,
        created_by=created_by,
    )


@router.get("/rules", response_model=RulesOut)
async def list_rules(pool: Pool, caller: Caller) -> RulesOut:
    from .persistence import load_rules, rule_authors

    async with pool.acquire() as conn:
        book = await load_rules(conn)
        authors = await rule_authors(conn)
    versions = sorted(book.versions(), key=lambda r: (r.activity_type, r.effective_from))

    def out(r: Rule) -> RuleOut:
        return _rule_out(r, authors.get((r.activity_type, r.effective_from)))

    return RulesOut(
        current=[out(r) for r in book.current(datetime.now(UTC))],
        versions=[out(r) for r in versions],
    )


@router.post("/rules", response_model=RuleChangeOut, status_code=201)
async def add_rule(request: Request, pool: Pool, caller: Caller, body: RuleIn) -> RuleChangeOut:
    caller.require_city()
    rule = Rule(body.activity_type, body.points, body.per, body.monthly_cap, body.effective_from)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await require_note_for_correction(conn, rule, body.note)
            change = await add_rule_version(
                conn, rule, body.note, request.app.state.runtime.settings.source
            )
    except InvalidRule as exc:
        raise ApiError(422, "invalid_rule", str(exc), field=exc.field, rule=str(exc)) from None
    return RuleChangeOut(
        rule=_rule_out(change.rule, caller.name),
        buckets_reevaluated=change.buckets_reevaluated,
        members_affected=change.members_affected,
    )


# --- half-yearly feedback --------------------------------------------------------------------


class FeedbackItem(BaseModel):
    member_id: str = Field(description="An in-service member of the organisation.")
    party_org_id: str = Field(default="", description="Their own organisation (in the subtree).")
    name: str | None = Field(description="Name.")
    community_id: str | None = Field(description="Community reported to (双报到), if any.")
    community_name: str | None = Field(description="Its name, if known.")
    points: Points = Field(description="Points in the half.")
    by_type: dict[str, Points] = Field(description="Points by type in the half.")
    volunteer_hours: Points = Field(description="Volunteer service hours in the half.")
    activities: int = Field(description="Activities taken part in during the half.")
    deregistered: bool = Field(description="True if the member has left the registry.")


class Feedback(BaseModel):
    party_org_id: str = Field(description="The member's own Party organisation.")
    period: str = Field(description="The half, e.g. 2026-H2.")
    members: list[FeedbackItem] = Field(description="Its in-service members.")
    figures: Figures = Field(default="live", description=FIGURES_DOC)


@router.get(
    "/reports/feedback", response_model=Feedback, responses={200: {"content": {"text/csv": {}}}}
)
async def feedback(
    request: Request,
    pool: Pool,
    caller: Caller,
    period: Annotated[str, Query(description="A half: 2026-H2 (other periods accepted).")],
    party_org_id: Annotated[
        str | None,
        Query(
            pattern=ID_PATTERN,
            description="所属党组织 id; its sub-organisations' members are included. "
            "Default for a party_org token: its own.",
        ),
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv.")] = "json",
    figures: FiguresParam = None,
) -> Any:
    if caller.role not in ("city_admin", "service", "party_org"):
        raise ApiError(
            403, "forbidden", "feedback reports are for city_admin, service and party_org tokens"
        )
    party_org_id = party_org_id or (caller.scope if caller.role == "party_org" else None)
    if party_org_id is None:
        raise ApiError(422, "missing_party_org", "give party_org_id", field="party_org_id")
    orgs = await subtree(pool, party_org_id)
    if caller.role == "party_org" and party_org_id not in await subtree(pool, caller.scope):
        raise ApiError(
            403, "forbidden", f"a party_org token for {caller.scope} may not read {party_org_id}"
        )
    p = _period(request, period)
    src, fig = await choose(pool, p.label, figures)
    rows = await src.feedback_rows(pool, orgs, p)
    items = [
        FeedbackItem(
            member_id=r["member_id"],
            party_org_id=r["party_org_id"],
            name=r["name"],
            community_id=r["community_id"],
            community_name=r["community_name"],
            points=r["points"],
            by_type={k: Decimal(str(v)) for k, v in json.loads(r["by_type"]).items()},
            volunteer_hours=r["volunteer_hours"],
            activities=r["activities"],
            deregistered=r["deregistered"],
        )
        for r in rows
    ]
    if format == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(
            [
                "member_id",
                "name",
                "community_id",
                "community_name",
                "points",
                "volunteer_hours",
                "activities",
                "by_type",
            ]
        )
        for i in items:
            w.writerow(
                [
                    i.member_id,
                    i.name or "",
                    i.community_id or "",
                    i.community_name or "",
                    f"{i.points:.2f}",
                    f"{i.volunteer_hours:.2f}",
                    i.activities,
                    ";".join(f"{k}={v:.2f}" for k, v in sorted(i.by_type.items())),
                ]
            )
        filename = f"feedback-{party_org_id}-{p.label}.csv"
        return Response(
            "\ufeff" + out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return Feedback(party_org_id=party_org_id, period=p.label, members=items, figures=fig)
