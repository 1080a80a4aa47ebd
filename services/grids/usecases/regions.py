"""Use cases of the region tree: create, rename, move, retire and import regions (all or
nothing), and read them back. Each change runs in one transaction under the tree lock and
records region.defined in the same transaction (shared.outbox.publish_own), so there is no event
without its change and no change without its event. Scope checks (shared.auth) happen once the
region path of the target is known.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.db import Conn
from shared.events import REGION_DEFINED, RegionDefined
from shared.events.envelope import CloudEvent
from shared.events.types import RegionLevel
from shared.outbox import publish_own
from shared.refusals import conflict, forbidden, invalid

from ..domain.regions import (
    ImportOutcome,
    Node,
    Region,
    RegionBelow,
    Violation,
    check_import,
    check_placement,
    parse_csv,
)
from ..persistence import regions as db
from .context import Context, missing, own_event, path_ids, violations


async def _write_nodes(conn: Conn, ctx: Context, nodes: list[Node]) -> list[CloudEvent]:
    """Write strictly-validated nodes as the newest version and publish region.defined."""
    now = datetime.now(UTC)
    writes, events = [], []
    for node in nodes:
        old = await db.region_version(conn, node.region_id)
        # latest by (time, source, id) wins everywhere: never publish a change that would
        # lose against the version already stored (an outside clock slightly ahead of ours)
        time = now if old is None or old[0] < now else old[0] + timedelta(milliseconds=1)
        event = own_event(
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
) -> Region:
    ctx.caller.require_write()
    node = Node(region_id, level, name, parent_id)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await db.lock_tree(conn)
        if await db.region_version(conn, region_id) is not None:
            raise conflict(
                "duplicate_code",
                f"region {region_id} already exists; use PATCH to rename, move or retire it",
                field="region_id",
                rule="duplicate_code",
            )
        tree = await db.load_with_ancestors(conn, [parent_id] if parent_id else [])
        problems = check_placement(node, tree)
        if problems:
            raise violations(problems)
        ctx.caller.require_region([region_id, *await path_ids(conn, parent_id or region_id)])
        await _write_nodes(conn, ctx, [node])
        row = await db.get_region(conn, region_id)
    assert row is not None
    return db.as_region(row)


async def update_region(
    ctx: Context,
    region_id: str,
    *,
    name: str | None = None,
    parent_id: str | None = None,
    move: bool = False,
    retired: bool | None = None,
) -> Region:
    """Rename (name), move (parent_id, when `move`), retire or revive (retired)."""
    ctx.caller.require_write()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await db.lock_tree(conn)
        current = await db.get_region(conn, region_id)
        if current is None:
            raise missing("region", region_id)
        ctx.caller.require_region(await path_ids(conn, region_id))
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
                raise violations(problems)
            if move and new_parent:
                ctx.caller.require_region(await path_ids(conn, new_parent))
            await _write_nodes(conn, ctx, [node])
        row = await db.get_region(conn, region_id)
    assert row is not None
    return db.as_region(row)


async def import_csv(ctx: Context, text: str, *, dry_run: bool = False) -> ImportOutcome:
    """Create, rename, move and retire regions from a CSV file, all or nothing."""
    ctx.caller.require_write()
    parsed = parse_csv(text)
    if parsed.problems:
        raise violations(
            parsed.problems,
            f"{len(parsed.problems)} problem(s) in the file, nothing imported; first: line "
            f"{parsed.problems[0].line}: {parsed.problems[0].message}",
        )
    if not parsed.rows:
        raise invalid("malformed_row", "the file has a header but no rows", line=2)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await db.lock_tree(conn)
        current = await db.load_tree(conn)
        problems = check_import(parsed.rows, current)
        if problems:
            problems.sort(key=lambda p: p.line or 0)
            raise violations(
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
                    path += await path_ids(conn, old.parent_id)
                ctx.caller.require_region(path)
        # parents before children, so the stored tree is whole at every step of the order
        ordered = sorted(created + changed, key=lambda n: list(RegionLevel).index(n.level))
        if not dry_run:
            await _write_nodes(conn, ctx, ordered)
    return ImportOutcome(
        dry_run=dry_run,
        rows=len(parsed.rows),
        created=len(created),
        updated=len(changed),
        unchanged=unchanged,
        regions=tuple(n.region_id for n in ordered),
    )


async def get_region(ctx: Context, region_id: str) -> Region:
    async with ctx.pool.acquire() as conn:
        row = await db.get_region(conn, region_id)
        if row is None:
            raise missing("region", region_id)
        ctx.caller.require_region(await path_ids(conn, region_id))
    return db.as_region(row)


async def region_path(ctx: Context, region_id: str) -> list[Region]:
    async with ctx.pool.acquire() as conn:
        rows = await db.path_to_root(conn, region_id)
    if not rows:
        raise missing("region", region_id)
    ctx.caller.require_region([r["region_id"] for r in rows])
    return [db.as_region(r) for r in rows]


async def region_children(ctx: Context, region_id: str, include_retired: bool) -> list[Region]:
    async with ctx.pool.acquire() as conn:
        if await db.get_region(conn, region_id) is None:
            raise missing("region", region_id)
        ctx.caller.require_region(await path_ids(conn, region_id))
        rows = await db.children(conn, region_id, include_retired)
    return [db.as_region(r) for r in rows]


async def region_subtree(
    ctx: Context, region_id: str, include_retired: bool, max_depth: int
) -> list[RegionBelow]:
    async with ctx.pool.acquire() as conn:
        if await db.get_region(conn, region_id) is None:
            raise missing("region", region_id)
        ctx.caller.require_region(await path_ids(conn, region_id))
        rows = await db.subtree(conn, region_id, include_retired, max_depth)
    return [db.as_region_below(r) for r in rows]


async def list_regions(
    ctx: Context,
    *,
    level: RegionLevel | None,
    orphans_only: bool,
    include_retired: bool,
    limit: int,
    after: str | None,
) -> list[Region]:
    if ctx.caller.role not in ("city_admin", "service"):
        raise forbidden(
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
    return [db.as_region(r) for r in rows]
