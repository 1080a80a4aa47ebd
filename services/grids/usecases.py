"""Use cases of the grids service: each runs in one database transaction and records the
events its change causes in the same transaction (shared.outbox.publish_own), so there is no
event without its state change and no state change without its event.

Scope checks (shared.auth) happen here, once the region path of the target is known.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel

from shared.api import ApiError
from shared.auth import Principal
from shared.db import Conn
from shared.events import ACTIVITY_LOGGED, REGION_DEFINED, ActivityLogged, RegionDefined, new_event
from shared.events.envelope import CloudEvent
from shared.events.grids import (
    GRID_BRANCH_ATTACHED,
    GRID_BRANCH_DETACHED,
    GRID_STAFF_ASSIGNED,
    GRID_STAFF_REMOVED,
    INCIDENT_ASSIGNED,
    INCIDENT_CLOSED,
    INCIDENT_OPENED,
    INCIDENT_OVERDUE,
    INCIDENT_RESOLVED,
    INCIDENT_SUPERVISED,
    VISIT_LOGGED,
    GridBranchAttached,
    GridBranchDetached,
    GridStaffAssigned,
    GridStaffRemoved,
    IncidentAssigned,
    IncidentCategory,
    IncidentClosed,
    IncidentOpened,
    IncidentOverdue,
    IncidentResolved,
    IncidentStatus,
    IncidentSupervised,
    StaffRole,
    VisitLogged,
)
from shared.events.types import ActivityType, RegionLevel
from shared.outbox import publish_own
from shared.regions import require_region

from . import metrics
from . import persistence as db
from .domain import incidents as rules
from .domain.regions import (
    RULE_STATUS,
    Node,
    Violation,
    check_import,
    check_placement,
    parse_csv,
)

MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Context:
    """What a use case needs besides its input: the pool, who calls, and our event source."""

    pool: asyncpg.Pool
    caller: Principal
    source: str


def _event(ctx: Context, type_: str, data: BaseModel, subject: str, time: datetime) -> CloudEvent:
    return new_event(type=type_, source=ctx.source, data=data, subject=subject, time=time)


def _violation_error(problems: list[Violation], message: str | None = None) -> ApiError:
    status = max(RULE_STATUS.get(p.rule, 422) for p in problems)
    first = problems[0]
    err = ApiError(
        status,
        first.rule if len({p.rule for p in problems}) == 1 else "invalid_regions",
        message or first.message,
    )
    err.details = [p.as_detail() for p in problems[:200]]
    return err


def _not_found(kind: str, key: str) -> ApiError:
    return ApiError(404, "not_found", f"{kind} {key} does not exist", field=f"{kind}_id")


def region_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "region_id": row["region_id"],
        "level": row["level"],
        "name": row["name"],
        "parent_id": row["parent_id"],
        "retired": row["retired"],
        "orphan": row["orphan"],
        "misplaced": row["misplaced"],
        "defined_at": row["ev_time"],
        "defined_by": row["ev_source"],
    }


async def _path_ids(conn: Conn, region_id: str) -> list[str]:
    return [r["region_id"] for r in await db.path_to_root(conn, region_id)]


# --- regions -----------------------------------------------------------------------------


async def _write_nodes(conn: Conn, ctx: Context, nodes: list[Node]) -> list[CloudEvent]:
    """Write strictly-validated nodes as the newest version and publish region.defined."""
    now = datetime.now(UTC)
    writes, events = [], []
    for node in nodes:
        old = await db.region_version(conn, node.region_id)
        # latest by (time, source, id) wins everywhere: never publish a change that would
        # lose against the version already stored (an outside clock slightly ahead of ours)
        time = now if old is None or old[0] < now else old[0] + timedelta(milliseconds=1)
        event = _event(
            ctx,
            REGION_DEFINED,
            RegionDefined(
                region_id=node.region_id,
                level=node.level,
                name=node.name,
                parent_id=node.parent_id,
                retired=node.retired,
            ),
            node.region_id,
            time,
        )
        writes.append(db.RegionWrite(node, (event.time, event.source, event.id)))
        events.append(event)
    await db.write_regions(conn, writes)
    await publish_own(conn, events)
    return events


async def create_region(
    ctx: Context, region_id: str, level: RegionLevel, name: str, parent_id: str | None
) -> dict[str, Any]:
    ctx.caller.require_write()
    node = Node(region_id, level, name, parent_id)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await db.lock_tree(conn)
        if await db.region_version(conn, region_id) is not None:
            raise ApiError(
                409,
                "duplicate_code",
                f"region {region_id} already exists; use PATCH to rename, move or retire it",
                field="region_id",
                rule="duplicate_code",
            )
        tree = await db.load_with_ancestors(conn, [parent_id] if parent_id else [])
        problems = check_placement(node, tree)
        if problems:
            raise _violation_error(problems)
        ctx.caller.require_region([region_id, *await _path_ids(conn, parent_id or region_id)])
        await _write_nodes(conn, ctx, [node])
        row = await db.get_region(conn, region_id)
    assert row is not None
    return region_json(row)


async def update_region(
    ctx: Context,
    region_id: str,
    *,
    name: str | None = None,
    parent_id: str | None = None,
    move: bool = False,
    retired: bool | None = None,
) -> dict[str, Any]:
    """Rename (name), move (parent_id, when `move`), retire or revive (retired)."""
    ctx.caller.require_write()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await db.lock_tree(conn)
        current = await db.get_region(conn, region_id)
        if current is None:
            raise _not_found("region", region_id)
        ctx.caller.require_region(await _path_ids(conn, region_id))
        new_parent = parent_id if move else current["parent_id"]
        node = Node(
            region_id,
            RegionLevel(current["level"]),
            name if name is not None else current["name"],
            new_parent,
            retired if retired is not None else current["retired"],
        )
        unchanged = (
            node.name == current["name"]
            and node.parent_id == current["parent_id"]
            and node.retired == current["retired"]
        )
        if not unchanged:
            tree = await db.load_with_ancestors(
                conn, [region_id] + ([new_parent] if new_parent else [])
            )
            tree[region_id] = node
            problems = check_placement(node, tree)
            if node.retired and not current["retired"]:
                problems += [
                    Violation(
                        "has_children",
                        f"region {region_id} cannot be retired while {child} under it is live; "
                        "retire or move its children first",
                        region_id,
                        "retired",
                    )
                    for child in await db.live_children(conn, region_id)
                ]
            if problems:
                raise _violation_error(problems)
            if move and new_parent:
                ctx.caller.require_region(await _path_ids(conn, new_parent))
            await _write_nodes(conn, ctx, [node])
        row = await db.get_region(conn, region_id)
    assert row is not None
    return region_json(row)


async def import_csv(ctx: Context, text: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Create, rename, move and retire regions from a CSV file, all or nothing."""
    ctx.caller.require_write()
    parsed = parse_csv(text)
    if parsed.problems:
        raise _violation_error(
            parsed.problems,
            f"{len(parsed.problems)} problem(s) in the file, nothing imported; first: line "
            f"{parsed.problems[0].line}: {parsed.problems[0].message}",
        )
    if not parsed.rows:
        raise ApiError(422, "malformed_row", "the file has a header but no rows", line=2)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await db.lock_tree(conn)
        current = await db.load_tree(conn)
        problems = check_import(parsed.rows, current)
        if problems:
            problems.sort(key=lambda p: p.line or 0)
            raise _violation_error(
                problems,
                f"{len(problems)} problem(s) in the file, nothing imported; first: line "
                f"{problems[0].line}: {problems[0].message}",
            )
        tree = dict(current)
        tree.update({r.node.region_id: r.node for r in parsed.rows})
        created, changed, unchanged = [], [], 0
        for row in parsed.rows:
            old = current.get(row.node.region_id)
            if old is None:
                created.append(row.node)
            elif old != row.node:
                changed.append(row.node)
            else:
                unchanged += 1
        if ctx.caller.role != "city_admin":
            for node in created + changed:
                path: list[str] = []
                cursor: Node | None = node
                while cursor is not None and len(path) < 8:
                    path.append(cursor.region_id)
                    cursor = tree.get(cursor.parent_id) if cursor.parent_id else None
                old = current.get(node.region_id)
                if old is not None and old.parent_id and old.parent_id != node.parent_id:
                    path += await _path_ids(conn, old.parent_id)
                ctx.caller.require_region(path)
        # parents before children, so the stored tree is whole at every step of the order
        ordered = sorted(created + changed, key=lambda n: list(RegionLevel).index(n.level))
        if not dry_run:
            await _write_nodes(conn, ctx, ordered)
    return {
        "dry_run": dry_run,
        "rows": len(parsed.rows),
        "created": len(created),
        "updated": len(changed),
        "unchanged": unchanged,
        "regions": [n.region_id for n in ordered],
    }


async def get_region(ctx: Context, region_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        row = await db.get_region(conn, region_id)
        if row is None:
            raise _not_found("region", region_id)
        ctx.caller.require_region(await _path_ids(conn, region_id))
    return region_json(row)


async def region_path(ctx: Context, region_id: str) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        rows = await db.path_to_root(conn, region_id)
    if not rows:
        raise _not_found("region", region_id)
    ctx.caller.require_region([r["region_id"] for r in rows])
    return [region_json(r) for r in rows]


async def region_children(
    ctx: Context, region_id: str, include_retired: bool
) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        if await db.get_region(conn, region_id) is None:
            raise _not_found("region", region_id)
        ctx.caller.require_region(await _path_ids(conn, region_id))
        rows = await db.children(conn, region_id, include_retired)
    return [region_json(r) for r in rows]


async def region_subtree(
    ctx: Context, region_id: str, include_retired: bool, max_depth: int
) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        if await db.get_region(conn, region_id) is None:
            raise _not_found("region", region_id)
        ctx.caller.require_region(await _path_ids(conn, region_id))
        rows = await db.subtree(conn, region_id, include_retired, max_depth)
    return [{**region_json(r), "distance": r["distance"]} for r in rows]


async def list_regions(
    ctx: Context,
    *,
    level: RegionLevel | None,
    orphans_only: bool,
    include_retired: bool,
    limit: int,
    after: str | None,
) -> list[dict[str, Any]]:
    if ctx.caller.role not in ("city_admin", "service"):
        raise ApiError(
            403,
            "forbidden",
            "listing all regions needs a city-wide token; "
            "use /v1/regions/{id}/subtree for your own region",
        )
    async with ctx.pool.acquire() as conn:
        rows = await db.list_regions(
            conn,
            level=level.value if level else None,
            orphans_only=orphans_only,
            include_retired=include_retired,
            limit=limit,
            after=after,
        )
    return [region_json(r) for r in rows]


# --- grid staff and branch ---------------------------------------------------------------


async def _live_grid(conn: Conn, ctx: Context, grid_id: str) -> list[str]:
    """Check `grid_id` is a live grid in the caller's scope; return its path to the root."""
    row = await db.get_region(conn, grid_id)
    if row is None:
        raise _not_found("grid", grid_id)
    path = await _path_ids(conn, grid_id)
    ctx.caller.require_region(path)
    if row["level"] != RegionLevel.GRID.value:
        raise ApiError(
            422, "not_a_grid", f"region {grid_id} is a {row['level']}, not a grid", field="grid_id"
        )
    if row["retired"]:
        raise ApiError(409, "retired", f"grid {grid_id} is retired", field="grid_id")
    return path


def staff_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "staff_id": row["staff_id"],
        "role": row["role"],
        "name": row["name"],
        "member_id": row["member_id"],
        "building_id": row["building_id"],
        "assigned_at": row["assigned_at"],
    }


async def assign_staff(
    ctx: Context,
    grid_id: str,
    *,
    staff_id: str,
    role: StaffRole,
    name: str,
    member_id: str | None,
    building_id: str | None,
) -> dict[str, Any]:
    """Assign a person to a grid; a new leader replaces the old one (one leader per grid)."""
    ctx.caller.require_write()
    if role is StaffRole.HOUSEHOLD_CONTACT and member_id is None:
        raise ApiError(
            422,
            "member_required",
            "a household contact (党员中心户) is a member household: member_id is required",
            field="member_id",
        )
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _live_grid(conn, ctx, grid_id)
        if building_id is not None:
            building = await db.get_region(conn, building_id)
            if (
                building is None
                or building["level"] != RegionLevel.BUILDING.value
                or building["parent_id"] != grid_id
                or building["retired"]
            ):
                raise ApiError(
                    422,
                    "unknown_building",
                    f"{building_id} is not a live building of grid {grid_id}",
                    field="building_id",
                )
        events: list[CloudEvent] = []
        existing = await db.staff_member(conn, grid_id, staff_id, for_update=True)
        if (
            existing is not None
            and existing["role"] == role.value
            and existing["name"] == name
            and existing["member_id"] == member_id
            and existing["building_id"] == building_id
        ):
            return staff_json(existing)  # nothing changed, nothing to publish
        if existing is not None and existing["role"] != role.value:
            events.append(_removed_event(ctx, grid_id, staff_id, existing["role"], now))
        if role is StaffRole.LEADER:
            leader = await db.leader_of(conn, grid_id)
            if leader is not None and leader["staff_id"] != staff_id:
                await db.delete_staff(conn, grid_id, leader["staff_id"])
                events.append(_removed_event(ctx, grid_id, leader["staff_id"], "leader", now))
        await db.upsert_staff(
            conn,
            {
                "grid_id": grid_id,
                "staff_id": staff_id,
                "role": role.value,
                "name": name,
                "member_id": member_id,
                "building_id": building_id,
            },
        )
        events.append(
            _event(
                ctx,
                GRID_STAFF_ASSIGNED,
                GridStaffAssigned(
                    grid_id=grid_id,
                    staff_id=staff_id,
                    role=role,
                    member_id=member_id,
                    building_id=building_id,
                ),
                grid_id,
                now,
            )
        )
        await publish_own(conn, events)
        row = await db.staff_member(conn, grid_id, staff_id)
    assert row is not None
    return staff_json(row)


def _removed_event(
    ctx: Context, grid_id: str, staff_id: str, role: str, now: datetime
) -> CloudEvent:
    return _event(
        ctx,
        GRID_STAFF_REMOVED,
        GridStaffRemoved(grid_id=grid_id, staff_id=staff_id, role=StaffRole(role)),
        grid_id,
        now,
    )


async def remove_staff(ctx: Context, grid_id: str, staff_id: str) -> None:
    ctx.caller.require_write()
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await db.get_region(conn, grid_id) is None:
            raise _not_found("grid", grid_id)
        ctx.caller.require_region(await _path_ids(conn, grid_id))
        existing = await db.staff_member(conn, grid_id, staff_id, for_update=True)
        if existing is None:
            raise _not_found("staff", staff_id)
        await db.delete_staff(conn, grid_id, staff_id)
        await publish_own(
            conn, [_removed_event(ctx, grid_id, staff_id, existing["role"], datetime.now(UTC))]
        )


async def attach_branch(ctx: Context, grid_id: str, party_org_id: str, name: str) -> dict[str, Any]:
    ctx.caller.require_write()
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _live_grid(conn, ctx, grid_id)
        old = await db.branch_of(conn, grid_id)
        events = []
        if old is not None and old["party_org_id"] != party_org_id:
            events.append(
                _event(
                    ctx,
                    GRID_BRANCH_DETACHED,
                    GridBranchDetached(grid_id=grid_id, party_org_id=old["party_org_id"]),
                    grid_id,
                    now,
                )
            )
        if old is None or old["party_org_id"] != party_org_id or old["name"] != name:
            await db.set_branch(conn, grid_id, party_org_id, name)
        if old is None or old["party_org_id"] != party_org_id:
            events.append(
                _event(
                    ctx,
                    GRID_BRANCH_ATTACHED,
                    GridBranchAttached(grid_id=grid_id, party_org_id=party_org_id),
                    grid_id,
                    now,
                )
            )
        await publish_own(conn, events)
        row = await db.branch_of(conn, grid_id)
    assert row is not None
    return {
        "party_org_id": row["party_org_id"],
        "name": row["name"],
        "attached_at": row["attached_at"],
    }


async def detach_branch(ctx: Context, grid_id: str) -> None:
    ctx.caller.require_write()
    async with ctx.pool.acquire() as conn, conn.transaction():
        if await db.get_region(conn, grid_id) is None:
            raise _not_found("grid", grid_id)
        ctx.caller.require_region(await _path_ids(conn, grid_id))
        old = await db.branch_of(conn, grid_id)
        if old is None:
            raise ApiError(404, "not_found", f"grid {grid_id} has no Party branch attached")
        await db.delete_branch(conn, grid_id)
        await publish_own(
            conn,
            [
                _event(
                    ctx,
                    GRID_BRANCH_DETACHED,
                    GridBranchDetached(grid_id=grid_id, party_org_id=old["party_org_id"]),
                    grid_id,
                    datetime.now(UTC),
                )
            ],
        )


def _counts(rows: list[asyncpg.Record]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["grid_id"], {})[r["category"]] = int(r["n"])
    return out


async def grid_overview(ctx: Context, grid_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        region = await db.get_region(conn, grid_id)
        if region is None or region["level"] != RegionLevel.GRID.value:
            raise _not_found("grid", grid_id)
        path = await _path_ids(conn, grid_id)
        ctx.caller.require_region(path)
        staff = await db.staff_of(conn, grid_id)
        branch = await db.branch_of(conn, grid_id)
        counts = _counts(await db.member_counts(conn, [grid_id])).get(grid_id, {})
    return {
        "grid": region_json(region),
        "path": path,
        "leader": next((staff_json(s) for s in staff if s["role"] == "leader"), None),
        "workers": [staff_json(s) for s in staff if s["role"] == "worker"],
        "household_contacts": [staff_json(s) for s in staff if s["role"] == "household_contact"],
        "branch": None
        if branch is None
        else {
            "party_org_id": branch["party_org_id"],
            "name": branch["name"],
            "attached_at": branch["attached_at"],
        },
        "members": {"total": sum(counts.values()), "by_category": counts},
    }


# What a `within` filter accepts: any region that contains grids (or is one).
WITHIN_LEVELS = (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY, RegionLevel.GRID)


async def _scope_within(conn: Conn, ctx: Context, within: str | None) -> str | None:
    """The region to restrict a listing to: `within`, or the caller's own scope. A `within`
    that names no region above buildings is 422 (a retired one is fine: its past is readable)."""
    if within is not None:
        await require_region(conn, within, level=WITHIN_LEVELS, field="within", retired_ok=True)
    elif ctx.caller.role not in ("city_admin", "service") and ctx.caller.scope != "*":
        within = ctx.caller.scope
    if within is not None:
        ctx.caller.require_region(await _path_ids(conn, within))
    return within


async def coverage(ctx: Context, within: str | None) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        within = await _scope_within(conn, ctx, within)
        rows = await db.coverage(conn, within)
    gaps = []
    for r in rows:
        missing = [
            what
            for what, present in (
                ("leader", r["has_leader"]),
                ("worker", r["has_worker"]),
                ("branch", r["has_branch"]),
            )
            if not present
        ]
        if missing:
            gaps.append(
                {
                    "grid_id": r["grid_id"],
                    "name": r["name"],
                    "community_id": r["community_id"],
                    "missing": missing,
                }
            )
    return {
        "within": within,
        "grids": len(rows),
        "complete": len(rows) - len(gaps),
        "lacking_leader": sum(1 for g in gaps if "leader" in g["missing"]),
        "lacking_worker": sum(1 for g in gaps if "worker" in g["missing"]),
        "lacking_branch": sum(1 for g in gaps if "branch" in g["missing"]),
        "gaps": gaps,
    }


async def grid_members(ctx: Context, grid_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        ctx.caller.require_region(await _path_ids(conn, grid_id) or [grid_id])
        rows = await db.grid_members(conn, grid_id)
    by_category: dict[str, int] = {}
    for r in rows:
        by_category[r["category"]] = by_category.get(r["category"], 0) + 1
    return {
        "grid_id": grid_id,
        "total": len(rows),
        "by_category": by_category,
        "members": [{"member_id": r["member_id"], "category": r["category"]} for r in rows],
    }


async def member_counts(ctx: Context, within: str | None) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        within = await _scope_within(conn, ctx, within)
        grids = await db.grids_within(conn, within)
        counts = _counts(await db.member_counts(conn, grids))
    return {
        "within": within,
        "items": [
            {
                "grid_id": g,
                "total": sum(counts.get(g, {}).values()),
                "by_category": counts.get(g, {}),
            }
            for g in grids
        ],
    }


# --- visits ------------------------------------------------------------------------------


async def log_visit(
    ctx: Context,
    grid_id: str,
    *,
    staff_id: str,
    households: int,
    duration_minutes: int,
    notes: str,
    visited_at: datetime | None,
    visit_id: str | None,
) -> dict[str, Any]:
    """A grid worker logs a visit; a visit by a Party member also counts as activity
    grid_visit for scoring (activity.logged, through the outbox)."""
    ctx.caller.require_write()
    now = datetime.now(UTC)
    when = visited_at or now
    if when - now > MAX_CLOCK_SKEW:
        raise ApiError(422, "in_future", "visited_at lies in the future", field="visited_at")
    visit_id = visit_id or f"visit-{uuid.uuid4().hex}"
    async with ctx.pool.acquire() as conn, conn.transaction():
        path = await _live_grid(conn, ctx, grid_id)
        staff = await db.staff_member(conn, grid_id, staff_id)
        if staff is None or staff["role"] not in ("leader", "worker"):
            raise ApiError(
                422,
                "not_grid_staff",
                f"{staff_id} is not a leader or worker of grid {grid_id}; assign them first",
                field="staff_id",
            )
        member_id = staff["member_id"]
        inserted = await db.insert_visit(
            conn,
            {
                "visit_id": visit_id,
                "grid_id": grid_id,
                "staff_id": staff_id,
                "member_id": member_id,
                "households": households,
                "duration_minutes": duration_minutes,
                "notes": notes,
                "visited_at": when,
            },
        )
        if not inserted:
            raise ApiError(
                409, "duplicate_visit", f"visit {visit_id} was already logged", field="visit_id"
            )
        events = [
            _event(
                ctx,
                VISIT_LOGGED,
                VisitLogged(
                    visit_id=visit_id,
                    grid_id=grid_id,
                    staff_id=staff_id,
                    member_id=member_id,
                    households=households,
                    duration_minutes=duration_minutes,
                ),
                grid_id,
                when,
            )
        ]
        if member_id is not None:
            community = await _ancestor_at(conn, path, RegionLevel.COMMUNITY)
            events.append(
                _event(
                    ctx,
                    ACTIVITY_LOGGED,
                    ActivityLogged(
                        member_id=member_id,
                        activity_type=ActivityType.GRID_VISIT,
                        activity_id=visit_id,
                        community_id=community,
                    ),
                    member_id,
                    when,
                )
            )
        await publish_own(conn, events)
    return {
        "visit_id": visit_id,
        "grid_id": grid_id,
        "staff_id": staff_id,
        "member_id": member_id,
        "households": households,
        "duration_minutes": duration_minutes,
        "notes": notes,
        "visited_at": when,
        "counts_for_scoring": member_id is not None,
    }


async def _ancestor_at(conn: Conn, path: list[str], level: RegionLevel) -> str | None:
    for region_id in path:
        row = await db.get_region(conn, region_id)
        if row is not None and row["level"] == level.value:
            return region_id
    return None


async def list_visits(ctx: Context, grid_id: str, limit: int) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        if await db.get_region(conn, grid_id) is None:
            raise _not_found("grid", grid_id)
        ctx.caller.require_region(await _path_ids(conn, grid_id))
        rows = await db.visits_of(conn, grid_id, limit)
    return [
        {
            k: r[k]
            for k in (
                "visit_id",
                "grid_id",
                "staff_id",
                "member_id",
                "households",
                "duration_minutes",
                "notes",
                "visited_at",
            )
        }
        for r in rows
    ]


# --- incidents ---------------------------------------------------------------------------


def incident_json(row: asyncpg.Record, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    status = IncidentStatus(row["status"])
    return {
        "incident_id": row["incident_id"],
        "grid_id": row["grid_id"],
        "category": row["category"],
        "title": row["title"],
        "description": row["description"],
        "status": status.value,
        "reported_at": row["reported_at"],
        "due_at": row["due_at"],
        "overdue": rules.is_overdue(status, row["due_at"], now),
        "resolved_late": row["resolved_at"] is not None
        and rules.resolved_late(row["due_at"], row["resolved_at"]),
        "assignee_id": row["assignee_id"],
        "resolution": row["resolution"],
        "resolved_at": row["resolved_at"],
        "closed_at": row["closed_at"],
        "supervised": row["supervised_at"] is not None,
        "supervised_at": row["supervised_at"],
        "supervision_note": row["supervision_note"],
    }


async def report_incident(
    ctx: Context,
    grid_id: str,
    *,
    category: IncidentCategory,
    title: str,
    description: str,
    time_limit_hours: float,
    reported_at: datetime | None,
) -> dict[str, Any]:
    ctx.caller.require_write()
    now = datetime.now(UTC)
    when = reported_at or now
    if when - now > MAX_CLOCK_SKEW:
        raise ApiError(422, "in_future", "reported_at lies in the future", field="reported_at")
    incident_id = f"inc-{uuid.uuid4().hex[:20]}"
    due = when + timedelta(hours=time_limit_hours)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await _live_grid(conn, ctx, grid_id)
        await db.insert_incident(
            conn,
            {
                "incident_id": incident_id,
                "grid_id": grid_id,
                "category": category.value,
                "title": title,
                "description": description,
                "reported_at": when,
                "due_at": due,
            },
        )
        await publish_own(
            conn,
            [
                _event(
                    ctx,
                    INCIDENT_OPENED,
                    IncidentOpened(
                        incident_id=incident_id, grid_id=grid_id, category=category, due_at=due
                    ),
                    incident_id,
                    when,
                )
            ],
        )
        row = await db.get_incident(conn, incident_id)
    await metrics.refresh_incident_gauges(ctx.pool)
    assert row is not None
    return incident_json(row)


async def transition(
    ctx: Context,
    incident_id: str,
    action: str,
    *,
    assignee_id: str | None = None,
    resolution: str | None = None,
    note: str | None = None,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    """assign / resolve / close / supervise; an action not allowed now is a 409."""
    ctx.caller.require_write()
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await db.get_incident(conn, incident_id, for_update=True)
        if row is None:
            raise _not_found("incident", incident_id)
        grid_id = row["grid_id"]
        ctx.caller.require_region(await _path_ids(conn, grid_id) or [grid_id])
        status = IncidentStatus(row["status"])
        refusal = rules.check(action, status, supervised=row["supervised_at"] is not None)
        if refusal is not None:
            raise ApiError(
                409,
                "invalid_transition",
                refusal.message,
                incident_id=incident_id,
                current_status=status.value,
                action=action,
            )
        target = rules.next_status(action, status)
        event: CloudEvent
        if action == "assign":
            assert assignee_id is not None
            staff = await db.staff_member(conn, grid_id, assignee_id)
            if staff is None:
                raise ApiError(
                    422,
                    "not_grid_staff",
                    f"{assignee_id} does not serve grid {grid_id}; assign them to the grid first",
                    field="assignee_id",
                )
            await db.update_incident(
                conn, incident_id, status=target.value, assignee_id=assignee_id
            )
            event = _event(
                ctx,
                INCIDENT_ASSIGNED,
                IncidentAssigned(incident_id=incident_id, grid_id=grid_id, assignee_id=assignee_id),
                incident_id,
                now,
            )
        elif action == "resolve":
            await db.update_incident(
                conn, incident_id, status=target.value, resolution=resolution or "", resolved_at=now
            )
            event = _event(
                ctx,
                INCIDENT_RESOLVED,
                IncidentResolved(
                    incident_id=incident_id,
                    grid_id=grid_id,
                    assignee_id=row["assignee_id"],
                    overdue=rules.resolved_late(row["due_at"], now),
                ),
                incident_id,
                now,
            )
        elif action == "close":
            await db.update_incident(conn, incident_id, status=target.value, closed_at=now)
            event = _event(
                ctx,
                INCIDENT_CLOSED,
                IncidentClosed(
                    incident_id=incident_id,
                    grid_id=grid_id,
                    overdue=rules.resolved_late(row["due_at"], row["resolved_at"]),
                ),
                incident_id,
                now,
            )
        elif action == "supervise":
            new_due = due_at or row["due_at"]
            await db.update_incident(
                conn,
                incident_id,
                supervised_at=now,
                supervision_note=note or "",
                due_at=new_due,
                overdue_flagged_at=None if new_due > now else row["overdue_flagged_at"],
            )
            event = _event(
                ctx,
                INCIDENT_SUPERVISED,
                IncidentSupervised(incident_id=incident_id, grid_id=grid_id, due_at=new_due),
                incident_id,
                now,
            )
        else:  # pragma: no cover - the API only routes the four actions
            raise ValueError(action)
        await publish_own(conn, [event])
        updated = await db.get_incident(conn, incident_id)
    await metrics.refresh_incident_gauges(ctx.pool)
    assert updated is not None
    return incident_json(updated, now)


async def get_incident(ctx: Context, incident_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        row = await db.get_incident(conn, incident_id)
        if row is None:
            raise _not_found("incident", incident_id)
        ctx.caller.require_region(await _path_ids(conn, row["grid_id"]) or [row["grid_id"]])
    return incident_json(row)


async def list_incidents(
    ctx: Context,
    *,
    grid_id: str | None,
    within: str | None,
    status: IncidentStatus | None,
    overdue_only: bool,
    supervised_only: bool,
    limit: int,
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    async with ctx.pool.acquire() as conn:
        if grid_id is not None:
            await require_region(
                conn, grid_id, level=RegionLevel.GRID, field="grid_id", retired_ok=True
            )
            ctx.caller.require_region(await _path_ids(conn, grid_id) or [grid_id])
            grids: list[str] | None = [grid_id]
        else:
            within = await _scope_within(conn, ctx, within)
            grids = None if within is None else await db.grids_within(conn, within)
        rows = await db.list_incidents(
            conn,
            grid_ids=grids,
            status=status.value if status else None,
            overdue_only=overdue_only,
            supervised_only=supervised_only,
            now=now,
            limit=limit,
        )
    return [incident_json(r, now) for r in rows]


async def flag_overdue(pool: asyncpg.Pool, source: str) -> int:
    """Publish incident.overdue once for each unresolved incident past its limit."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        rows = await db.flag_newly_overdue(conn, now)
        await publish_own(
            conn,
            [
                new_event(
                    type=INCIDENT_OVERDUE,
                    source=source,
                    data=IncidentOverdue(
                        incident_id=r["incident_id"],
                        grid_id=r["grid_id"],
                        due_at=r["due_at"],
                        status=IncidentStatus(r["status"]),
                    ),
                    subject=r["incident_id"],
                    time=r["due_at"],
                )
                for r in rows
            ],
        )
    return len(rows)
