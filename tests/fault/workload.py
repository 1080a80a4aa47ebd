"""The fault test's event stream: a deterministic city (streets, communities, grids, a few
thousand members) and ~100,000 events from outside systems in a random order, with
revocations (some before their target), moves, deregistrations and exact re-publications.

Everything an outside system could legally send in any order: the services must end with the
same state as `tests/scoring/reference.py` computes from the set.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dev.testing import cloud_event
from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_DEREGISTERED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
)

STREETS = 4
COMMUNITIES_PER_STREET = 4
GRIDS_PER_COMMUNITY = 3
ACTIVITY_WEIGHTS = {
    "volunteer_service": 30,
    "study": 20,
    "grid_visit": 15,
    "organization_life": 10,
    "theme_party_day": 6,
    "wish_fulfilled": 8,
    "service_post": 6,
    "organization_life_absent": 5,
}
HOURS = [0.5, 1, 1.5, 2, 2.25, 3, 4, 8]
# Beijing months the activities fall in: 2026-08 .. 2026-10 (start at 16:00 UTC = midnight)
START = datetime(2026, 7, 31, 16, 0, tzinfo=UTC)
END = datetime(2026, 10, 31, 15, 59, tzinfo=UTC)


@dataclass
class Workload:
    """`events`: the distinct events (dicts); `messages`: (topic, key, value) in publish order,
    with the exact re-publications in it."""

    events: list[dict] = field(default_factory=list)
    messages: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    duplicates: int = 0
    streets: list[str] = field(default_factory=list)
    communities: dict[str, str] = field(default_factory=dict)  # community -> street
    grids: dict[str, str] = field(default_factory=dict)  # grid -> community

    def distinct_by_type(self) -> Counter[str]:
        return Counter(e["type"] for e in self.events)


def _time(rng: random.Random) -> datetime:
    if rng.random() < 0.05:  # near a month boundary in Beijing time (late evening UTC)
        month_end = rng.choice(
            [datetime(2026, m, 1, 16, 0, tzinfo=UTC) - timedelta(days=1) for m in (9, 10, 11)]
        )
        return month_end + timedelta(minutes=rng.randint(-90, 90), seconds=rng.randint(0, 59))
    span = int((END - START).total_seconds())
    return START + timedelta(seconds=rng.randint(0, span))


def build(
    *, members: int = 3000, logged: int = 96000, revoked: int = 2000, republished: int = 3000
) -> Workload:
    rng = random.Random(20261122)
    w = Workload()
    first: list[dict] = []  # region definitions go in the first fifth of the stream
    base = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)

    def region(rid: str, level: str, name: str, parent: str | None) -> None:
        data = {"region_id": rid, "level": level, "name": name}
        if parent:
            data["parent_id"] = parent
        first.append(
            cloud_event(
                REGION_DEFINED,
                data,
                subject=rid,
                source="/city/civil-affairs",
                id=f"rd-{rid}",
                time=base,
            )
        )

    region("FD1", "district", "城厢区", None)
    for s in range(1, STREETS + 1):
        sid = f"FS{s}"
        w.streets.append(sid)
        region(sid, "street", f"街道{s}", "FD1")
        for c in range(1, COMMUNITIES_PER_STREET + 1):
            cid = f"{sid}C{c}"
            w.communities[cid] = sid
            region(cid, "community", f"社区{s}-{c}", sid)
            for g in range(1, GRIDS_PER_COMMUNITY + 1):
                gid = f"{cid}G{g}"
                w.grids[gid] = cid
                region(gid, "grid", f"网格{s}-{c}-{g}", cid)

    member_ids = [f"FM{i:05d}" for i in range(1, members + 1)]
    grid_ids = sorted(w.grids)
    rest: list[dict] = []
    for n, m in enumerate(member_ids):
        if rng.random() < 0.8:
            rest.append(
                cloud_event(
                    MEMBER_REGISTERED,
                    {
                        "member_id": m,
                        "name": f"党员{n}",
                        "category": rng.choice(["in_service", "resident", "mobile", "retired"]),
                        "party_org_id": f"FORG{rng.randint(1, 20)}",
                    },
                    subject=m,
                    source="/city/org-registry",
                    id=f"reg-{m}",
                    time=base + timedelta(days=rng.randint(0, 150)),
                )
            )
        if rng.random() < 0.92:  # the rest never report: points kept, not ranked
            reports = 2 if rng.random() < 0.2 else 1  # a move
            times = sorted(rng.sample(range(0, 120 * 24), reports))
            for k, hours in enumerate(times):
                grid = rng.choice(grid_ids)
                rest.append(
                    cloud_event(
                        MEMBER_REPORTED,
                        {"member_id": m, "community_id": w.grids[grid], "grid_id": grid},
                        subject=m,
                        source="/city/dual-reporting",
                        id=f"rep-{m}-{k}",
                        time=datetime(2026, 7, 1, tzinfo=UTC) + timedelta(hours=hours),
                    )
                )
        if rng.random() < 0.01:
            rest.append(
                cloud_event(
                    MEMBER_DEREGISTERED,
                    {"member_id": m, "reason": "transferred_out"},
                    subject=m,
                    source="/city/org-registry",
                    id=f"dereg-{m}",
                    time=datetime(2026, 9, 15, tzinfo=UTC),
                )
            )

    busy = member_ids[: members // 15]  # a few very active members hit the monthly caps
    types = list(ACTIVITY_WEIGHTS)
    weights = list(ACTIVITY_WEIGHTS.values())
    activities: list[dict] = []
    for i in range(logged):
        m = rng.choice(busy) if rng.random() < 0.35 else rng.choice(member_ids)
        t = rng.choices(types, weights)[0]
        data: dict = {"member_id": m, "activity_type": t, "activity_id": f"FA-{i % 5000}"}
        if t == "volunteer_service":
            data["hours"] = rng.choice(HOURS)
        source = "/city/volunteer-platform" if rng.random() < 0.7 else "/city/party-school"
        activities.append(
            cloud_event(
                ACTIVITY_LOGGED, data, subject=m, source=source, id=f"al-{i:06d}", time=_time(rng)
            )
        )
    rest.extend(activities)
    for i, target in enumerate(rng.sample(activities, revoked)):
        m = target["data"]["member_id"]
        rest.append(
            cloud_event(
                ACTIVITY_REVOKED,
                {
                    "member_id": m,
                    "revokes": {"source": target["source"], "id": target["id"]},
                    "reason": "entered twice",
                },
                subject=m,
                source=target["source"],
                id=f"rv-{i:05d}",
                time=datetime.fromisoformat(target["time"]) + timedelta(hours=1),
            )
        )
    rng.shuffle(rest)  # any order: revocations before targets, reports after activities, ...
    cut = len(rest) // 5
    early = rest[:cut] + first
    rng.shuffle(early)
    w.events = early + rest[cut:]

    encoded = [
        (e["type"], e["subject"].encode(), json.dumps(e, ensure_ascii=False).encode())
        for e in w.events
    ]
    # exact re-publications of events already sent, later in the stream
    inserts: dict[int, list[int]] = {}
    for _ in range(republished):
        original = rng.randrange(len(encoded) - 1)
        at = rng.randrange(original + 1, len(encoded))
        inserts.setdefault(at, []).append(original)
    for pos, msg in enumerate(encoded):
        w.messages.append(msg)
        for original in inserts.get(pos, ()):
            w.messages.append(encoded[original])
            w.duplicates += 1
    return w
