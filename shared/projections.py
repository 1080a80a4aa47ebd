"""The projections every service keeps of events it does not own: the region tree (from
`partygrid.region.defined`) and members (from `partygrid.member.*`), written once here so the
four services cannot disagree about which version is the latest (docs/design.md §3.3).

- A version is the event's (`time`, `source`, `id`); the latest is the greatest, with `source`
  and `id` compared by code point. Python compares strings by code point; in SQL that is the
  "C" collation, written out in every comparison (and declared on the version columns), so
  the answer does not depend on the database's locale: in en_US "b" < "B", by code point
  "B" < "b".
- Every service's region table is `regions` (region_id, level, name, parent_id, retired,
  ev_time, ev_source, ev_id, updated_at); `upsert_regions` keeps each region's latest version.
- A member projection keeps each part (registration, status, report) with its own version in
  `<part>_time`, `<part>_source`, `<part>_id`; `upsert_members` keeps each part's latest.
- `region_path` walks up the tree at most `MAX_DEPTH` steps (five levels; the bound stops a
  cycle that outside systems could define).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from .events import CloudEvent

if TYPE_CHECKING:  # the comparisons stay importable by pure domain code
    from .db import Conn

Version = tuple[datetime, str, str]
T = TypeVar("T")

MAX_DEPTH = 16


def version_of(event: CloudEvent) -> Version:
    return (event.time, event.source, event.id)


def newer(candidate: Version, current: Version | None) -> bool:
    """True if `candidate` wins over `current`: greater by time, then source, then id, the
    strings by code point (Python's own order, the same as COLLATE "C")."""
    return current is None or candidate > current


def latest(
    items: Iterable[T], key: Callable[[T], Hashable], version: Callable[[T], Version]
) -> list[T]:
    """The latest item of each key (several versions of one region or member in one batch),
    in key order so that transactions lock rows in one order."""
    best: dict[Any, T] = {}
    for item in items:
        k = key(item)
        if k not in best or newer(version(item), version(best[k])):
            best[k] = item
    return [best[k] for k in sorted(best)]


def later(new: str, old: str, prefix: str = "ev") -> str:
    """SQL: the version of row `new` is later than that of row `old` (code-point order)."""

    def key(row: str) -> str:
        return (
            f'({row}.{prefix}_time, {row}.{prefix}_source COLLATE "C", '
            f'{row}.{prefix}_id COLLATE "C")'
        )

    return f"{key(new)} > {key(old)}"


# --- regions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionVersion:
    """One definition of a region and the version of the event that made it."""

    region_id: str
    level: str
    name: str
    parent_id: str | None
    retired: bool
    version: Version


UPSERT_REGIONS = f"""
INSERT INTO regions AS r (region_id, level, name, parent_id, retired, ev_time, ev_source, ev_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[],
                     $6::timestamptz[], $7::text[], $8::text[])
ON CONFLICT (region_id) DO UPDATE SET
    level = excluded.level, name = excluded.name, parent_id = excluded.parent_id,
    retired = excluded.retired, ev_time = excluded.ev_time, ev_source = excluded.ev_source,
    ev_id = excluded.ev_id, updated_at = now()
WHERE {later("excluded", "r")}
RETURNING region_id
"""


async def upsert_regions(conn: Conn, regions: Iterable[RegionVersion]) -> list[str]:
    """Keep each region as its latest version says; return the ids of the rows written."""
    rows = latest(regions, lambda r: r.region_id, lambda r: r.version)
    if not rows:
        return []
    written = await conn.fetch(
        UPSERT_REGIONS,
        [r.region_id for r in rows],
        [r.level for r in rows],
        [r.name for r in rows],
        [r.parent_id for r in rows],
        [r.retired for r in rows],
        [r.version[0] for r in rows],
        [r.version[1] for r in rows],
        [r.version[2] for r in rows],
    )
    return [w["region_id"] for w in written]


# The region ($1) and its known ancestors as `up(region_id, parent_id, hops)`, nearest first.
ANCESTORS = f"""WITH RECURSIVE up(region_id, parent_id, hops) AS (
    SELECT region_id, parent_id, 0 FROM regions WHERE region_id = $1
    UNION ALL
    SELECT r.region_id, r.parent_id, up.hops + 1
    FROM regions r JOIN up ON r.region_id = up.parent_id WHERE up.hops < {MAX_DEPTH})"""


async def region_path(conn: Conn, region_id: str) -> list[str]:
    """The region and its known ancestors, nearest first (just the id when it is unknown)."""
    rows = await conn.fetch(f"{ANCESTORS} SELECT region_id FROM up ORDER BY hops", region_id)
    return [r["region_id"] for r in rows] or [region_id]


# --- members -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberPart:
    """A part of a member projection that the latest event of its kind decides: the columns
    it sets (name, SQL type) and the prefix of its version columns."""

    prefix: str
    columns: tuple[tuple[str, str], ...]


REGISTRATION = MemberPart("reg", (("category", "text"),))  # member.registered
STATUS = MemberPart("status", (("status", "text"),))  # member.registered / deregistered
REPORT = MemberPart("report", (("community_id", "text"), ("grid_id", "text")))  # reported

# the member projection tables (constants, never user input)
MEMBER_TABLES = frozenset({"member_projection", "grid_members"})


def member_upsert_sql(table: str, part: MemberPart) -> str:
    if table not in MEMBER_TABLES:
        raise ValueError(f"not a member projection: {table}")
    p = part.prefix
    names = [c for c, _ in part.columns] + [f"{p}_time", f"{p}_source", f"{p}_id"]
    types = [t for _, t in part.columns] + ["timestamptz", "text", "text"]
    arrays = ", ".join(f"${i + 2}::{t}[]" for i, t in enumerate(types))
    return f"""
INSERT INTO {table} AS m (member_id, {", ".join(names)})
SELECT * FROM unnest($1::text[], {arrays})
ON CONFLICT (member_id) DO UPDATE SET {", ".join(f"{n} = excluded.{n}" for n in names)}
WHERE m.{p}_time IS NULL OR {later("excluded", "m", p)}
"""


async def upsert_members(
    conn: Conn, table: str, part: MemberPart, rows: Iterable[tuple[str, Sequence[Any], Version]]
) -> None:
    """rows: (member_id, the part's column values, version); each member's latest wins."""
    batch = latest(rows, lambda r: r[0], lambda r: r[2])
    if not batch:
        return
    width = len(part.columns)
    values = [[r[1][i] for r in batch] for i in range(width)]
    await conn.execute(
        member_upsert_sql(table, part),
        [r[0] for r in batch],
        *values,
        [r[2][0] for r in batch],
        [r[2][1] for r in batch],
        [r[2][2] for r in batch],
    )
