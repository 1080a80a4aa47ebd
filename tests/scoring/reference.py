"""A plain recomputation of docs/design.md §4, written independently of the service: from the SET of
events (dicts as published), compute what every scoring endpoint must answer."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
RULES = {  # type: (points, per_hour, cap)
    "organization_life": (Decimal(5), False, None),
    "theme_party_day": (Decimal(5), False, None),
    "volunteer_service": (Decimal(2), True, Decimal(40)),
    "wish_fulfilled": (Decimal(5), False, Decimal(20)),
    "service_post": (Decimal(3), False, Decimal(15)),
    "grid_visit": (Decimal(1), False, Decimal(10)),
    "study": (Decimal(1), False, Decimal(10)),
    "organization_life_absent": (Decimal(-2), False, None),
}


def _t(e: dict) -> datetime:
    return datetime.fromisoformat(e["time"])


def _key(e: dict) -> tuple:
    return (_t(e), e["source"], e["id"])


def _month(e: dict) -> str:
    return _t(e).astimezone(TZ).strftime("%Y-%m")


def unique(events: list[dict]) -> list[dict]:
    """First occurrence of each (source, id) stands."""
    seen: dict[tuple, dict] = {}
    for e in events:
        seen.setdefault((e["source"], e["id"]), e)
    return list(seen.values())


class Reference:
    def __init__(self, events: list[dict]) -> None:
        events = unique(events)
        by_type = defaultdict(list)
        for e in events:
            by_type[e["type"].removeprefix("partygrid.")].append(e)
        revoked = {
            (r["data"]["revokes"]["source"], r["data"]["revokes"]["id"])
            for r in by_type["activity.revoked"]
        }
        # month points per (member, month, type)
        self.buckets: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        groups = defaultdict(list)
        for e in by_type["activity.logged"]:
            if (e["source"], e["id"]) in revoked:
                continue
            d = e["data"]
            groups[(d["member_id"], _month(e), d["activity_type"])].append(e)
        for key, items in groups.items():
            points, per_hour, cap = RULES[key[2]]
            given = Decimal(0)
            for e in sorted(items, key=_key):
                raw = points * Decimal(str(e["data"]["hours"])) if per_hour else points
                raw = raw.quantize(Decimal("0.01"), ROUND_HALF_UP)
                award = raw if cap is None or raw < 0 else max(Decimal(0), min(raw, cap - given))
                given += award
            self.buckets[key] = given
        first_report: dict[tuple[str, int], dict] = {}
        for e in by_type["member.reported"]:
            k = (e["data"]["member_id"], _t(e).astimezone(TZ).year)
            if k not in first_report or _key(e) < _key(first_report[k]):
                first_report[k] = e
        for (member, _), e in first_report.items():
            self.buckets[(member, _month(e), "member_reported")] += Decimal(10)

        self.known = {
            e["data"]["member_id"]
            for t in (
                "activity.logged",
                "activity.revoked",
                "member.reported",
                "member.registered",
                "member.deregistered",
            )
            for e in by_type[t]
        }
        latest_report: dict[str, dict] = {}
        for e in by_type["member.reported"]:
            m = e["data"]["member_id"]
            if m not in latest_report or _key(e) > _key(latest_report[m]):
                latest_report[m] = e
        status: dict[str, dict] = {}
        for e in by_type["member.registered"] + by_type["member.deregistered"]:
            m = e["data"]["member_id"]
            if m not in status or _key(e) > _key(status[m]):
                status[m] = e
        self.community = {m: e["data"]["community_id"] for m, e in latest_report.items()}
        self.grid = {m: e["data"].get("grid_id") for m, e in latest_report.items()}
        self.counted = {
            m
            for m in self.community
            if not (m in status and status[m]["type"].endswith("deregistered"))
        }
        regions: dict[str, dict] = {}
        for e in by_type["region.defined"]:
            r = e["data"]["region_id"]
            if r not in regions or _key(e) > _key(regions[r]):
                regions[r] = e
        self.regions = {r: e["data"] for r, e in regions.items()}

    def points(self, member: str, months: tuple[str, ...]) -> Decimal:
        return sum(
            (v for (m, mo, _), v in self.buckets.items() if m == member and mo in months),
            Decimal(0),
        )

    def by_type(self, member: str, months: tuple[str, ...]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for (m, mo, t), v in self.buckets.items():
            if m == member and mo in months:
                out[t] += v
        return dict(out)

    def street_ranking(self, months: tuple[str, ...]) -> list[tuple[int, str, Decimal, int]]:
        rows = []
        for sid, s in self.regions.items():
            if s["level"] != "street" or s.get("retired"):
                continue
            comms = {
                c
                for c, d in self.regions.items()
                if d["level"] == "community" and d.get("parent_id") == sid and not d.get("retired")
            }
            members = [m for m in self.counted if self.community[m] in comms]
            total = sum((self.points(m, months) for m in members), Decimal(0))
            avg = (
                (total / len(members)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                if members
                else Decimal("0.00")
            )
            rows.append((sid, avg, len(members)))
        rows.sort(key=lambda r: (-r[1], r[0]))
        out = []
        for i, (sid, score, n) in enumerate(rows):
            rank = out[-1][0] if out and out[-1][2] == score else i + 1
            out.append((rank, sid, score, n))
        return out

    def member_rank(
        self, member: str, months: tuple[str, ...]
    ) -> list[tuple[str, str | None, int, int]]:
        """(scope, scope id, competition rank, members in scope): grid, community, street
        (the community's parent, when both are defined), city; nothing when not counted."""
        if member not in self.counted:
            return []
        mine = self.points(member, months)

        def ranked(scope: str, sid: str | None, population: list[str]) -> tuple:
            above = sum(1 for o in population if self.points(o, months) > mine)
            return (scope, sid, above + 1, len(population))

        def street_of(c: str) -> str | None:
            d = self.regions.get(c)
            if d is None or d["level"] != "community" or d.get("parent_id") not in self.regions:
                return None
            return d["parent_id"]

        out = []
        grid, community = self.grid.get(member), self.community[member]
        if grid:
            out.append(ranked("grid", grid, [o for o in self.counted if self.grid.get(o) == grid]))
        out.append(
            ranked(
                "community", community, [o for o in self.counted if self.community[o] == community]
            )
        )
        street = street_of(community)
        if street:
            out.append(
                ranked(
                    "street",
                    street,
                    [o for o in self.counted if street_of(self.community[o]) == street],
                )
            )
        out.append(ranked("city", None, list(self.counted)))
        return out

    def zero_points(self, community: str, months: tuple[str, ...]) -> list[str]:
        return sorted(
            m
            for m in self.counted
            if self.community[m] == community and self.points(m, months) <= 0
        )
