"""A large read population loaded straight into the scoring tables (a shortcut: no events).

Members and their buckets (member, month, type) are COPYed in; every derived table the read
API uses — member_points per period, region_members, region_points — is then computed from
them with SQL, the same aggregates the service maintains incrementally, so the reads see
exactly what the service would hold after consuming the matching events. The ledger is left
empty: no read touches it.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from services.scoring.domain.periods import periods_of_month

from .workload import RegionTree, community_of, grid_of, member_id

CHUNK = 50_000

# per-type points for `events` events (or hours for volunteering), as the default rules give
_RULES: dict[str, tuple[float, float | None]] = {
    "study": (1, 10),
    "grid_visit": (1, 10),
    "organization_life": (5, None),
    "theme_party_day": (5, None),
    "service_post": (3, 15),
    "wish_fulfilled": (5, 20),
    "volunteer_service": (2, 40),
    "organization_life_absent": (-2, None),
}


def _ts(t: datetime) -> str:
    return t.isoformat()


async def _lines(rows: AsyncIterator[str] | list[str]) -> AsyncIterator[bytes]:
    buf: list[str] = []
    if isinstance(rows, list):
        for r in rows:
            buf.append(r)
            if len(buf) >= CHUNK:
                yield "".join(buf).encode()
                buf.clear()
    if buf:
        yield "".join(buf).encode()


def _region_rows(tree: RegionTree, when: datetime) -> list[str]:
    t = _ts(when)
    rows = [f"d0\tdistrict\tdistrict d0\t\\N\tf\t{t}\t/bench/grids\tr-d0\n"]
    rows += [f"{s}\tstreet\tstreet {s}\td0\tf\t{t}\t/bench/grids\tr-{s}\n" for s in tree.streets]
    for i, c in enumerate(tree.communities):
        rows.append(
            f"{c}\tcommunity\tcommunity {c}\t{tree.street_of(i)}\tf\t{t}\t/bench/grids\tr-{c}\n"
        )
        for k in range(tree.grids_per_community):
            g = tree.grid(i, k)
            rows.append(f"{g}\tgrid\tgrid {g}\t{c}\tf\t{t}\t/bench/grids\tr-{g}\n")
    return rows


async def load_population(
    conn: asyncpg.Connection,
    members: int,
    tree: RegionTree,
    month: str,
    *,
    seed: int = 11,
    progress: Callable[[str], object] = print,
) -> dict[str, int]:
    """COPY regions, members and buckets for `month`; derive the rest. Returns row counts."""
    rng = random.Random(seed)
    month_start = datetime(int(month[:4]), int(month[5:7]), 1, 2, tzinfo=UTC)
    when = month_start - timedelta(days=400)
    await conn.copy_to_table(
        "regions",
        source=_lines(_region_rows(tree, when)),
        columns=[
            "region_id",
            "level",
            "name",
            "parent_id",
            "retired",
            "ev_time",
            "ev_source",
            "ev_id",
        ],
    )
    t = _ts(when)
    categories = ("in_service", "resident", "mobile", "retired")
    member_rows: list[str] = []
    bucket_rows: list[str] = []
    types = list(_RULES)
    for i in range(members):
        if i and i % 200_000 == 0:
            await _copy_members(conn, member_rows)
            await _copy_buckets(conn, bucket_rows)
            progress(f"  loaded {i:,} members")
            member_rows, bucket_rows = [], []
        m = member_id(i)
        c = tree.communities[community_of(i, tree)]
        dereg = "t" if i % 97 == 0 else "f"
        member_rows.append(
            f"{m}\tmember {i}\t{categories[i % 4]}\tpo{i % 5000:04d}\t{t}\t/bench/members\tg-{m}"
            f"\t{dereg}\t{t}\t/bench/members\tg-{m}\t{c}\t{grid_of(i, tree)}\t{t}"
            f"\t/bench/members\tr-{m}\n"
        )
        if rng.random() < 0.25:
            continue  # a quarter of members have no points this month (零分党员)
        for kind in rng.sample(types, rng.randint(1, 3)):
            per, cap = _RULES[kind]
            events = rng.randint(1, 6)
            hours = float(rng.randint(1, 12)) if kind == "volunteer_service" else 0.0
            raw = per * (hours if kind == "volunteer_service" else events)
            points = min(raw, cap) if cap is not None and raw > 0 else raw
            last = month_start + timedelta(seconds=rng.randint(0, 27 * 86400))
            bucket_rows.append(
                f"{m}\t{month}\t{kind}\t{points:.2f}\t{events}\t{hours:.2f}\t{_ts(last)}"
                f"\t/bench/activities\tb-{i}-{kind}\n"
            )
    await _copy_members(conn, member_rows)
    await _copy_buckets(conn, bucket_rows)

    for period in periods_of_month(month):
        await conn.execute(
            """INSERT INTO member_points (member_id, period, points)
               SELECT member_id, $1, sum(points) FROM buckets GROUP BY member_id""",
            period,
        )
    for kind, col in (("community", "community_id"), ("grid", "grid_id")):
        await conn.execute(
            f"""INSERT INTO region_members (kind, region_id, members)
                SELECT '{kind}', {col}, count(*) FROM members WHERE counted GROUP BY {col}"""
        )
        await conn.execute(
            f"""INSERT INTO region_points (kind, region_id, period, total, positive)
                SELECT '{kind}', m.{col}, p.period, sum(p.points),
                       count(*) FILTER (WHERE p.points > 0)
                FROM member_points p JOIN members m USING (member_id)
                WHERE m.counted GROUP BY m.{col}, p.period"""
        )
    await conn.execute("SELECT rebuild_rank_counts()")  # as migration 0002 backfills them
    await conn.execute("ANALYZE")
    counts = {}
    for table in (
        "regions",
        "members",
        "buckets",
        "member_points",
        "region_members",
        "region_points",
        "score_counts",
    ):
        counts[table] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    return counts


async def _copy_members(conn: asyncpg.Connection, rows: list[str]) -> None:
    await conn.copy_to_table(
        "members",
        source=_lines(rows),
        columns=[
            "member_id",
            "name",
            "category",
            "party_org_id",
            "reg_time",
            "reg_source",
            "reg_id",
            "deregistered",
            "status_time",
            "status_source",
            "status_id",
            "community_id",
            "grid_id",
            "report_time",
            "report_source",
            "report_id",
        ],
    )


async def _copy_buckets(conn: asyncpg.Connection, rows: list[str]) -> None:
    await conn.copy_to_table(
        "buckets",
        source=_lines(rows),
        columns=[
            "member_id",
            "month",
            "activity_type",
            "points",
            "events",
            "hours",
            "last_time",
            "last_source",
            "last_id",
        ],
    )
