"""SQL of the points the inbox use case maintains: the ledger, buckets, member and region
totals, rank counts, the rules lock and rule book, the member and region projections. Every
function runs on a connection inside the caller's transaction; multi-row work is done with
unnest() arrays, one round trip each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from shared import projections
from shared.db import Conn

from ..domain.points import BucketTotal, Entry
from ..domain.rules import Rule, RuleBook

# Consumers hold this lock shared for each batch; a rule change holds it exclusively, so a
# batch never scores with rules that are being replaced under it.
RULES_LOCK = 0x5047_5255

Key = projections.Version


@dataclass(frozen=True)
class Location:
    """Where a member counts: their community and grid, if counted at all."""

    counted: bool
    community_id: str | None
    grid_id: str | None


@dataclass
class MemberRow:
    member_id: str
    name: str | None = None
    category: str | None = None
    party_org_id: str | None = None
    reg_key: Key | None = None
    deregistered: bool = False
    status_key: Key | None = None
    community_id: str | None = None
    grid_id: str | None = None
    report_key: Key | None = None

    @property
    def location(self) -> Location:
        counted = self.community_id is not None and not self.deregistered
        return Location(counted, self.community_id, self.grid_id)

    def copy(self) -> MemberRow:
        return replace(self)


async def lock_rules(conn: Conn, exclusive: bool) -> None:
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await conn.execute(f"SELECT {fn}($1)", RULES_LOCK)


async def load_rules(conn: Conn) -> RuleBook:
    rows = await conn.fetch(
        "SELECT activity_type, points, per, monthly_cap, effective_from FROM rule_versions"
    )
    return RuleBook(
        Rule(r["activity_type"], r["points"], r["per"], r["monthly_cap"], r["effective_from"])
        for r in rows
    )


async def rule_authors(conn: Conn) -> dict[tuple[str, datetime], str | None]:
    """Who added each rule version (the audit actor; None for defaults and older rows)."""
    rows = await conn.fetch("SELECT activity_type, effective_from, created_by FROM rule_versions")
    return {(r["activity_type"], r["effective_from"]): r["created_by"] for r in rows}


async def lock_members(conn: Conn, member_ids: Sequence[str]) -> dict[str, MemberRow]:
    """Create missing member rows and lock all of them, in id order (no deadlocks)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    await conn.execute(
        "INSERT INTO members (member_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", ids
    )
    rows = await conn.fetch(
        "SELECT * FROM members WHERE member_id = ANY($1::text[]) ORDER BY member_id FOR UPDATE",
        ids,
    )
    out = {}
    for r in rows:
        out[r["member_id"]] = MemberRow(
            member_id=r["member_id"],
            name=r["name"],
            category=r["category"],
            party_org_id=r["party_org_id"],
            reg_key=_key(r["reg_time"], r["reg_source"], r["reg_id"]),
            deregistered=r["deregistered"],
            status_key=_key(r["status_time"], r["status_source"], r["status_id"]),
            community_id=r["community_id"],
            grid_id=r["grid_id"],
            report_key=_key(r["report_time"], r["report_source"], r["report_id"]),
        )
    return out


def _key(t: datetime | None, s: str | None, i: str | None) -> Key | None:
    return (t, s, i) if t is not None and s is not None and i is not None else None  # type: ignore[return-value]


async def save_members(conn: Conn, rows: Iterable[MemberRow]) -> None:
    rows = sorted(rows, key=lambda m: m.member_id)
    if not rows:
        return

    def k(key: Key | None, i: int) -> object:
        return key[i] if key else None

    await conn.execute(
        """UPDATE members m SET name = u.name, category = u.category,
               party_org_id = u.party_org_id, reg_time = u.reg_time, reg_source = u.reg_source,
               reg_id = u.reg_id, deregistered = u.deregistered, status_time = u.status_time,
               status_source = u.status_source, status_id = u.status_id,
               community_id = u.community_id, grid_id = u.grid_id, report_time = u.report_time,
               report_source = u.report_source, report_id = u.report_id
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                       $6::text[], $7::text[], $8::boolean[], $9::timestamptz[], $10::text[],
                       $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::text[],
                       $16::text[])
             AS u(member_id, name, category, party_org_id, reg_time, reg_source, reg_id,
                  deregistered, status_time, status_source, status_id, community_id, grid_id,
                  report_time, report_source, report_id)
           WHERE m.member_id = u.member_id""",
        [m.member_id for m in rows],
        [m.name for m in rows],
        [m.category for m in rows],
        [m.party_org_id for m in rows],
        [k(m.reg_key, 0) for m in rows],
        [k(m.reg_key, 1) for m in rows],
        [k(m.reg_key, 2) for m in rows],
        [m.deregistered for m in rows],
        [k(m.status_key, 0) for m in rows],
        [k(m.status_key, 1) for m in rows],
        [k(m.status_key, 2) for m in rows],
        [m.community_id for m in rows],
        [m.grid_id for m in rows],
        [k(m.report_key, 0) for m in rows],
        [k(m.report_key, 1) for m in rows],
        [k(m.report_key, 2) for m in rows],
    )


async def upsert_regions(conn: Conn, rows: Iterable[projections.RegionVersion]) -> None:
    """The latest definition of each region wins (shared.projections, as in every service)."""
    await projections.upsert_regions(conn, rows)


async def insert_ledger(
    conn: Conn,
    rows: Sequence[tuple[str, str, str, str, str, datetime, str, Decimal | None]],
) -> set[tuple[str, str]]:
    """(source, id, member_id, kind, activity_type, time, month, hours); returns the
    (source, id) of inserted activity rows that an earlier revocation already revoked."""
    if not rows:
        return set()
    cols = [list(c) for c in zip(*rows, strict=True)]
    inserted = await conn.fetch(
        """INSERT INTO ledger (source, id, member_id, kind, activity_type, time, month, hours,
                               revoked)
           SELECT u.*, (u.kind = 'activity' AND rv.target_id IS NOT NULL)
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                       $6::timestamptz[], $7::text[], $8::numeric[])
                AS u(source, id, member_id, kind, activity_type, time, month, hours)
           LEFT JOIN revocations rv ON rv.target_source = u.source AND rv.target_id = u.id
           ON CONFLICT DO NOTHING
           RETURNING source, id, revoked""",
        *cols,
    )
    return {(r["source"], r["id"]) for r in inserted if r["revoked"]}


async def insert_revocations(
    conn: Conn, rows: Sequence[tuple[str, str, str, str, str, str | None]]
) -> list[tuple[str, str, str]]:
    """(target_source, target_id, member_id, by_source, by_id, reason). Marks
    already-received targets revoked and returns their buckets (member_id, month,
    activity_type). The first revocation of a target is the one kept."""
    if not rows:
        return []
    cols = [list(c) for c in zip(*rows, strict=True)]
    await conn.execute(
        """INSERT INTO revocations (target_source, target_id, member_id, by_source, by_id, reason)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::text[])
           ON CONFLICT DO NOTHING""",
        *cols,
    )
    hit = await conn.fetch(
        """UPDATE ledger l SET revoked = true
           FROM unnest($1::text[], $2::text[]) AS t(source, id)
           WHERE l.source = t.source AND l.id = t.id AND l.kind = 'activity' AND NOT l.revoked
           RETURNING l.member_id, l.month, l.activity_type""",
        cols[0],
        cols[1],
    )
    return [(r["member_id"], r["month"], r["activity_type"]) for r in hit]


BucketKey = tuple[str, str, str]  # member_id, month, activity_type


async def load_buckets(conn: Conn, keys: Iterable[BucketKey]) -> dict[BucketKey, BucketTotal]:
    keys = list(keys)
    if not keys:
        return {}
    rows = await conn.fetch(
        """SELECT b.* FROM buckets b
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(member_id, month, activity_type)
             USING (member_id, month, activity_type)""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    return {
        (r["member_id"], r["month"], r["activity_type"]): BucketTotal(
            r["points"],
            r["events"],
            r["hours"],
            _key(r["last_time"], r["last_source"], r["last_id"]),
        )
        for r in rows
    }


async def load_bucket_entries(
    conn: Conn, keys: Iterable[BucketKey]
) -> dict[BucketKey, list[Entry]]:
    keys = list(keys)
    out: dict[BucketKey, list[Entry]] = {k: [] for k in keys}
    if not keys:
        return out
    rows = await conn.fetch(
        """SELECT l.member_id, l.month, l.activity_type, l.time, l.source, l.id, l.hours
           FROM ledger l
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(member_id, month, activity_type)
             USING (member_id, month, activity_type)
           WHERE NOT l.revoked AND l.kind = 'activity'""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    for r in rows:
        out[(r["member_id"], r["month"], r["activity_type"])].append(
            Entry(r["time"], r["source"], r["id"], r["activity_type"], r["hours"])
        )
    return out


async def load_reports(
    conn: Conn, member_years: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], list[tuple[Entry, str]]]:
    """All member.reported entries of (member, year) with their month."""
    keys = list(member_years)
    out: dict[tuple[str, int], list[tuple[Entry, str]]] = {k: [] for k in keys}
    if not keys:
        return out
    rows = await conn.fetch(
        """SELECT l.member_id, l.month, l.time, l.source, l.id FROM ledger l
           JOIN unnest($1::text[], $2::text[]) AS k(member_id, year)
             ON l.member_id = k.member_id AND left(l.month, 4) = k.year
           WHERE l.kind = 'reported'""",
        [k[0] for k in keys],
        [str(k[1]) for k in keys],
    )
    for r in rows:
        out[(r["member_id"], int(r["month"][:4]))].append(
            (Entry(r["time"], r["source"], r["id"], "member_reported"), r["month"])
        )
    return out


async def save_buckets(conn: Conn, changes: dict[BucketKey, BucketTotal]) -> None:
    if not changes:
        return
    items = sorted(changes.items())
    await conn.execute(
        """INSERT INTO buckets AS b (member_id, month, activity_type, points, events, hours,
                                     last_time, last_source, last_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::int[],
                                $6::numeric[], $7::timestamptz[], $8::text[], $9::text[])
           ON CONFLICT (member_id, month, activity_type) DO UPDATE SET
               points = excluded.points, events = excluded.events, hours = excluded.hours,
               last_time = excluded.last_time, last_source = excluded.last_source,
               last_id = excluded.last_id""",
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [k[2] for k, _ in items],
        [v.points for _, v in items],
        [v.events for _, v in items],
        [v.hours for _, v in items],
        [v.last_key[0] if v.last_key else None for _, v in items],
        [v.last_key[1] if v.last_key else None for _, v in items],
        [v.last_key[2] if v.last_key else None for _, v in items],
    )


async def add_member_points(
    conn: Conn, deltas: dict[tuple[str, str], Decimal]
) -> dict[tuple[str, str], Decimal]:
    """Add deltas to (member_id, period) totals; return the new totals."""
    items = sorted((k, v) for k, v in deltas.items() if v != 0)
    if not items:
        return {}
    rows = await conn.fetch(
        """INSERT INTO member_points AS p (member_id, period, points)
           SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[])
           ON CONFLICT (member_id, period) DO UPDATE SET points = p.points + excluded.points
           RETURNING member_id, period, points""",
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [v for _, v in items],
    )
    return {(r["member_id"], r["period"]): r["points"] for r in rows}


async def member_period_points(
    conn: Conn, member_ids: Sequence[str]
) -> dict[str, list[tuple[str, Decimal]]]:
    out: dict[str, list[tuple[str, Decimal]]] = {m: [] for m in member_ids}
    if not member_ids:
        return out
    rows = await conn.fetch(
        "SELECT member_id, period, points FROM member_points WHERE member_id = ANY($1::text[])",
        list(member_ids),
    )
    for r in rows:
        out[r["member_id"]].append((r["period"], r["points"]))
    return out


async def add_region_points(
    conn: Conn, deltas: dict[tuple[str, str, str], tuple[Decimal, int]]
) -> None:
    items = sorted((k, v) for k, v in deltas.items() if v != (0, 0))
    if not items:
        return
    await conn.execute(
        """INSERT INTO region_points AS r (kind, region_id, period, total, positive)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::int[])
           ON CONFLICT (kind, region_id, period) DO UPDATE SET
               total = r.total + excluded.total, positive = r.positive + excluded.positive""",
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [k[2] for k, _ in items],
        [v[0] for _, v in items],
        [v[1] for _, v in items],
    )


async def add_region_members(conn: Conn, deltas: dict[tuple[str, str], int]) -> None:
    items = sorted((k, v) for k, v in deltas.items() if v != 0)
    if not items:
        return
    await conn.execute(
        """INSERT INTO region_members AS r (kind, region_id, members)
           SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
           ON CONFLICT (kind, region_id) DO UPDATE SET members = r.members + excluded.members""",
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [v for _, v in items],
    )


async def add_score_counts(conn: Conn, deltas: dict[tuple[str, str, str, Decimal], int]) -> None:
    """(kind, region_id, period, points) → change in members with that value."""
    items = sorted((k, v) for k, v in deltas.items() if v != 0)
    if not items:
        return
    await conn.execute(
        """INSERT INTO score_counts AS s (kind, region_id, period, points, members)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::int[])
           ON CONFLICT (kind, region_id, period, points) DO UPDATE SET
               members = s.members + excluded.members""",
        [k[0] for k, _ in items],
        [k[1] for k, _ in items],
        [k[2] for k, _ in items],
        [k[3] for k, _ in items],
        [v for _, v in items],
    )


async def note_newest_event(conn: Conn, newest: datetime) -> None:
    await conn.execute("UPDATE scoring_state SET newest_event = greatest(newest_event, $1)", newest)


async def ledger_months_from(
    conn: Conn, activity_type: str, since: datetime
) -> list[tuple[str, str]]:
    """(member_id, month) of every ledger entry of `activity_type` at or after `since`: what a
    rule version taking effect then may change."""
    rows = await conn.fetch(
        """SELECT DISTINCT member_id, month FROM ledger
           WHERE activity_type = $1 AND time >= $2""",
        activity_type,
        since,
    )
    return [(r["member_id"], r["month"]) for r in rows]
