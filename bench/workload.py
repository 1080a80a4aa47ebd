"""Synthetic but realistic inputs: a region tree, members reported to communities, and
activity.logged CloudEvents with mixed types spread over the last month.

Deterministic for a given seed, so two runs measure the same work. Events are produced in
time order with a small share arriving late (up to two days), as they would from the
activities service and outside systems; late ones take the service's slow path (a bucket
recomputed from the ledger) as they would in production.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.events import ACTIVITY_LOGGED, MEMBER_REPORTED, REGION_DEFINED

SOURCE = "/bench/activities"
REPORT_SOURCE = "/bench/members"
REGION_SOURCE = "/bench/grids"

# (activity_type, weight, hours range or None)
ACTIVITY_MIX: tuple[tuple[str, int, tuple[int, int] | None], ...] = (
    ("study", 30, None),
    ("grid_visit", 18, None),
    ("volunteer_service", 15, (1, 4)),
    ("organization_life", 10, None),
    ("theme_party_day", 8, None),
    ("service_post", 8, None),
    ("wish_fulfilled", 6, None),
    ("organization_life_absent", 5, None),
)
LATE_SHARE = 0.02

Message = tuple[str, bytes, bytes]  # topic, key, value


@dataclass(frozen=True)
class RegionTree:
    """district d0 → streets → communities (20 a street) → grids (5 a community)."""

    streets: list[str]
    communities: list[str]  # community i belongs to streets[i // per_street]
    grids_per_community: int
    per_street: int

    def street_of(self, community_index: int) -> str:
        return self.streets[community_index // self.per_street]

    def grid(self, community_index: int, k: int) -> str:
        return f"{self.communities[community_index]}-g{k}"

    @property
    def grids(self) -> list[str]:
        return [
            self.grid(i, k)
            for i in range(len(self.communities))
            for k in range(self.grids_per_community)
        ]


def region_tree(
    members: int, *, per_community: int = 500, per_street: int = 20, grids_per_community: int = 5
) -> RegionTree:
    """About `per_community` members a community, `per_street` communities a street (a
    million members → 2,000 communities in 100 streets)."""
    n_comm = max(4, members // per_community)
    n_streets = max(1, -(-n_comm // per_street))
    return RegionTree(
        streets=[f"s{i:03d}" for i in range(n_streets)],
        communities=[f"c{i:04d}" for i in range(n_comm)],
        grids_per_community=grids_per_community,
        per_street=per_street,
    )


def member_id(i: int) -> str:
    return f"m{i:07d}"


def community_of(i: int, tree: RegionTree) -> int:
    return i % len(tree.communities)


def grid_of(i: int, tree: RegionTree) -> str:
    c = community_of(i, tree)
    return tree.grid(c, (i // len(tree.communities)) % tree.grids_per_community)


def _event(
    type_: str,
    data: Mapping[str, object],
    subject: str,
    time: datetime,
    source: str,
    id_: str | None = None,
) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": id_ or str(uuid.uuid4()),
            "source": source,
            "type": type_,
            "time": time.isoformat(),
            "subject": subject,
            "datacontenttype": "application/json",
            "data": data,
        },
        separators=(",", ":"),
    ).encode()


def region_messages(tree: RegionTree, when: datetime) -> list[Message]:
    out: list[Message] = []

    def add(rid: str, level: str, parent: str | None) -> None:
        data: dict[str, object] = {"region_id": rid, "level": level, "name": f"{level} {rid}"}
        if parent:
            data["parent_id"] = parent
        out.append(
            (REGION_DEFINED, rid.encode(), _event(REGION_DEFINED, data, rid, when, REGION_SOURCE))
        )

    add("d0", "district", None)
    for s in tree.streets:
        add(s, "street", "d0")
    for i, c in enumerate(tree.communities):
        add(c, "community", tree.street_of(i))
        for k in range(tree.grids_per_community):
            add(tree.grid(i, k), "grid", c)
    return out


def report_messages(members: int, tree: RegionTree, when: datetime) -> list[Message]:
    out: list[Message] = []
    for i in range(members):
        m = member_id(i)
        data = {
            "member_id": m,
            "community_id": tree.communities[community_of(i, tree)],
            "grid_id": grid_of(i, tree),
        }
        out.append(
            (
                MEMBER_REPORTED,
                m.encode(),
                _event(MEMBER_REPORTED, data, m, when + timedelta(seconds=i % 3600), REPORT_SOURCE),
            )
        )
    return out


def activity_data(rng: random.Random, member: str) -> dict[str, object]:
    types = [t for t, _, _ in ACTIVITY_MIX]
    weights = [w for _, w, _ in ACTIVITY_MIX]
    kind = rng.choices(types, weights)[0]
    data: dict[str, object] = {"member_id": member, "activity_type": kind}
    hours = dict((t, h) for t, _, h in ACTIVITY_MIX)[kind]
    if hours:
        data["hours"] = f"{rng.randint(*hours)}.{rng.choice(('00', '50'))}"
    return data


def activity_messages(
    n: int,
    members: int,
    *,
    end: datetime,
    span: timedelta = timedelta(days=30),
    seed: int = 7,
    id_prefix: str = "a",
) -> list[Message]:
    """`n` activity.logged events for random members, times spread evenly over `span` before
    `end`, in time order but with LATE_SHARE of them up to two days late."""
    rng = random.Random(seed)
    start = end - span
    step = span / max(n, 1)
    out: list[Message] = []
    for k in range(n):
        t = start + step * k
        if rng.random() < LATE_SHARE:
            t -= timedelta(seconds=rng.uniform(0, 2 * 86400))
        m = member_id(rng.randrange(members))
        out.append(
            (
                ACTIVITY_LOGGED,
                m.encode(),
                _event(ACTIVITY_LOGGED, activity_data(rng, m), m, t, SOURCE, f"{id_prefix}{k:09d}"),
            )
        )
    return out


def ledger_rows(messages: list[Message], tz: ZoneInfo) -> list[tuple[object, ...]]:
    """The ledger rows the service would write for these activity.logged messages."""
    from decimal import Decimal

    from services.scoring.domain.periods import month_of

    rows: list[tuple[object, ...]] = []
    for _, _, value in messages:
        e = json.loads(value)
        t = datetime.fromisoformat(e["time"])
        d = e["data"]
        hours = Decimal(d["hours"]) if "hours" in d else None
        rows.append(
            (
                e["source"],
                e["id"],
                d["member_id"],
                "activity",
                d["activity_type"],
                t,
                month_of(t, tz),
                hours,
                False,
            )
        )  # type: ignore[arg-type]
    return rows


def now() -> datetime:
    return datetime.now(UTC)
