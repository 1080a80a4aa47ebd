"""A demo city that lives: a city at Putian's scale, published as outside systems would.

Why: `make run` should show something a person can look at — rankings that are not empty and
that move, dashboards with traffic — without anyone typing in 31,040 Party members. Everything
here goes through Kafka as CloudEvents, exactly as the city's other systems would send it
(civil affairs defines the regions, the organisation department's registry registers and
reports members, the volunteer platform and the organisation-life system log activities), so
the demo also exercises the real ingestion path.

- The city (Putian's published figures): 1 district, 8 streets, 61 communities, 200+ grids, 31,040 members of all
  four categories with Chinese names, 112 resident units (驻区单位) with 9,983 in-service
  members, their Party organisations, 158 volunteer teams (named in activity ids).
- A month of past activities, so the rankings of the current month are not empty.
- Ids are deterministic (the same city and the same anchor time every time), so loading twice
  has no more effect than loading once; a marker file under the data folder skips the bulk load
  after the first complete one.
- `simulate` then publishes activities, a few moves (new member.reported), revocations and the
  odd malformed message (1 in 500) at a steady rate (DEMO_RATE, default 20 events/s).

Run by `make run` (dev/run.py calls `load_and_simulate`) or by hand:
`python -m tools.demo --bootstrap 127.0.0.1:9092 [--load-only] [--members N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaProducer

from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
    UNIT_REPORTED,
)
from shared.events.members import PARTY_ORG_DEFINED

TZ = ZoneInfo("Asia/Shanghai")
SEED = 1  # the random seed of the demo city (Putian's scale)
MEMBERS = 31_040
IN_SERVICE = 9_983
UNITS = 112
VOLUNTEER_TEAMS = 158
MARKER = "demo-loaded.json"
ANCHOR_FILE = "demo-anchor.json"

CIVIL_AFFAIRS = "/city/civil-affairs"
ORG_REGISTRY = "/city/org-registry"
VOLUNTEER_PLATFORM = "/city/volunteer-platform"
ORG_LIFE = "/city/org-life-system"
GRID_PLATFORM = "/city/grid-platform"

# Topics whose events the scoring service consumes (for the catch-up progress).
SCORING_TOPICS = {
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
}

# --- names -----------------------------------------------------------------------------------

# Common surnames, weighted towards those frequent in Putian (林 陈 黄 郑 …).
SURNAMES = (
    ("林", 14), ("陈", 12), ("黄", 9), ("郑", 7), ("吴", 5), ("李", 5), ("王", 4), ("张", 4),
    ("刘", 3), ("蔡", 3), ("许", 3), ("方", 3), ("朱", 2), ("杨", 2), ("徐", 2), ("翁", 2),
    ("余", 2), ("周", 2), ("卓", 2), ("邱", 1), ("游", 1), ("柯", 1), ("宋", 1), ("关", 1),
    ("姚", 1), ("彭", 1), ("潘", 1), ("苏", 1), ("曾", 1), ("郭", 1), ("何", 1), ("谢", 1),
    ("傅", 1), ("肖", 1), ("魏", 1), ("戴", 1), ("严", 1), ("詹", 1), ("欧阳", 1), ("龚", 1),
)  # fmt: skip
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 英 华 玉 萍 红 建 文 "
    "辉 力 林 斌 宇 浩 凯 鹏 飞 鑫 婷 雪 琳 晨 欣 怡 佳 思 雨 俊 峰 志 国 海 荣 德 福 春 梅 兰 "
    "清 素 珍 金 水 木 坤 榕 荔 闽 莆 秋 冬 燕 雁 燕 慧 智 诚 信 和 安 宁 晓 晶 颖 航"
).split()

STREETS = ("龙桥街道", "凤凰山街道", "霞林街道", "镇海街道", "拱辰街道", "涵东街道",
           "涵西街道", "笏石街道")  # fmt: skip
COMMUNITIES_PER_STREET = (9, 8, 8, 7, 8, 7, 7, 7)  # = 61
COMMUNITY_WORDS = (
    "东岩 英龙 南门 延寿 霞皋 学园 凤山 梅峰 下磨 坂头 文献 古山 东园 西门 北大 荔浦 新度 "
    "拱辰 阔口 沟头 涵华 宫口 霞徐 江口 梧塘 东阳 后黄 筱塘 田尾 洋尾 金桥 兴安 龙德 "
    "荔园 镇海 东海 沁园 秀峰 木兰 兰溪 壶山 紫霄 玉湖 凤达 保尾 塘坂 东大 顶墩 新港 海头 "
    "白塘 瑞云 锦江 三江 城涵 霞楼 下林 华林 延宁 熙宁 熙园 东山 石室 笏枢 宝峰 九华"
).split()
ORGAN_WORDS = ("财政", "税务", "人社", "自然资源", "住建", "交通", "水利", "农业农村", "商务",
               "文旅", "卫健", "应急", "市场监管", "统计", "医保", "城管", "民政", "司法",
               "教育", "科技", "工信", "生态环境")  # fmt: skip
FIRM_WORDS = ("城投", "国投", "交投", "水务", "燃气", "港务", "公交", "粮食", "文旅", "建工")
PRIVATE_WORDS = ("荔枝", "木兰", "壶山", "湄洲", "九华", "兴化", "紫霄", "宝峰", "天马", "凤凰")
PRIVATE_KINDS = ("科技有限公司", "鞋业有限公司", "工艺品有限公司", "食品有限公司", "物流有限公司")

ACTIVITY_MIX = (
    # (type, weight, source)
    ("volunteer_service", 30, VOLUNTEER_PLATFORM),
    ("study", 18, ORG_LIFE),
    ("organization_life", 14, ORG_LIFE),
    ("grid_visit", 12, GRID_PLATFORM),
    ("theme_party_day", 9, ORG_LIFE),
    ("service_post", 7, VOLUNTEER_PLATFORM),
    ("wish_fulfilled", 6, VOLUNTEER_PLATFORM),
    ("organization_life_absent", 2, ORG_LIFE),
)
CATEGORIES = ("in_service", "resident", "mobile", "retired")


def say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


# --- the city --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    region_id: str
    level: str
    name: str
    parent_id: str | None


@dataclass(frozen=True)
class PartyOrg:
    party_org_id: str
    name: str
    kind: str
    parent_id: str | None


@dataclass(frozen=True)
class Unit:
    unit_id: str
    name: str
    party_org_id: str
    community_id: str
    member_count: int


@dataclass(frozen=True)
class Member:
    member_id: str
    name: str
    category: str
    party_org_id: str
    joined_on: date
    community_id: str | None  # None: never reported (some mobile members)
    grid_id: str | None
    activity: float  # expected activities per month


@dataclass
class City:
    regions: list[Region]
    orgs: list[PartyOrg]
    units: list[Unit]
    members: list[Member]
    grids_of: dict[str, list[str]] = field(default_factory=dict)

    @property
    def communities(self) -> list[Region]:
        return [r for r in self.regions if r.level == "community"]


def _name(rng: random.Random) -> str:
    surnames, weights = zip(*SURNAMES, strict=True)
    surname = rng.choices(surnames, weights)[0]
    first = rng.choice(GIVEN)
    if rng.random() < 0.3:
        return surname + first
    second = rng.choice(GIVEN)
    while second == first:
        second = rng.choice(GIVEN)
    return surname + first + second


def build_city(members: int = MEMBERS, seed: int = SEED) -> City:
    """The same city for the same arguments: regions, Party organisations, units, members."""
    rng = random.Random(seed)
    regions = [Region("350300", "district", "莆田市城区", None)]
    orgs = [PartyOrg("PO-350300", "中共莆田市城市基层党建工作委员会", "organ", None)]
    words = list(COMMUNITY_WORDS)
    rng.shuffle(words)
    grids_of: dict[str, list[str]] = {}
    street_factor: dict[str, float] = {}
    community_factor: dict[str, float] = {}
    communities: list[str] = []
    street_of: dict[str, str] = {}
    w = 0
    for s, (street_name, n) in enumerate(zip(STREETS, COMMUNITIES_PER_STREET, strict=True), 1):
        sid = f"350302{s:03d}"
        regions.append(Region(sid, "street", street_name, "350300"))
        orgs.append(PartyOrg(f"PO-{sid}", f"中共{street_name}工作委员会", "organ", "PO-350300"))
        street_factor[sid] = 0.6 + 0.1 * ((s * 5) % 8)  # streets differ, so ranks mean something
        for c in range(1, n + 1):
            cid = f"{sid}{c:03d}"
            cname = f"{words[w]}社区"
            w += 1
            regions.append(Region(cid, "community", cname, sid))
            orgs.append(PartyOrg(f"PO-{cid}", f"中共{cname}委员会", "community", f"PO-{sid}"))
            communities.append(cid)
            street_of[cid] = sid
            community_factor[cid] = rng.uniform(0.7, 1.3)
            grids_of[cid] = []
            for g in range(1, rng.randint(3, 5) + 1):
                gid = f"{cid}G{g:02d}"
                regions.append(Region(gid, "grid", f"{cname}第{g}网格", cid))
                grids_of[cid].append(gid)

    kinds = ("organ",) * 4 + ("state_firm",) * 2 + ("school",) * 2 + ("hospital", "non_public_firm")
    units: list[Unit] = []
    unit_weights = [rng.paretovariate(1.6) for _ in range(UNITS)]
    in_service = max(1, round(members * IN_SERVICE / MEMBERS))
    scale = in_service / sum(unit_weights)
    counts = [max(1, int(x * scale)) for x in unit_weights]
    counts[0] += in_service - sum(counts)  # exact total (the largest correction goes to one unit)
    if counts[0] < 1:  # tiny cities: spread evenly instead
        counts = [in_service // UNITS + (1 if i < in_service % UNITS else 0) for i in range(UNITS)]
    school_n = hospital_n = 0
    for u in range(1, UNITS + 1):
        kind = kinds[(u * 7) % len(kinds)]
        if kind == "organ":
            word = ORGAN_WORDS[u % len(ORGAN_WORDS)]
            branch = u // len(ORGAN_WORDS)
            name = f"莆田市{word}局" + (f"第{branch + 1}分局" if branch else "")
        elif kind == "state_firm":
            name = f"莆田{FIRM_WORDS[u % len(FIRM_WORDS)]}集团第{u}分公司"
        elif kind == "school":
            school_n += 1
            name = f"莆田第{school_n}中学" if school_n % 2 else f"莆田市第{school_n}实验小学"
        elif kind == "hospital":
            hospital_n += 1
            name = f"莆田市第{hospital_n}医院"
        else:
            name = f"福建{PRIVATE_WORDS[u % len(PRIVATE_WORDS)]}{PRIVATE_KINDS[u % 5]}"
        uid = f"U{u:03d}"
        org_kind = "organ" if kind == "organ" else kind
        orgs.append(PartyOrg(f"PO-{uid}", f"中共{name}委员会", org_kind, "PO-350300"))
        units.append(Unit(uid, name, f"PO-{uid}", rng.choice(communities), counts[u - 1]))

    # categories: the in-service members belong to the units' organisations; the others to the
    # community organisations (resident, retired) or their home branch (mobile)
    rest = members - in_service
    cats = (
        ["in_service"] * in_service
        + ["resident"] * round(rest * 0.43)
        + ["retired"] * round(rest * 0.38)
    )
    cats += ["mobile"] * (members - len(cats))
    rng.shuffle(cats)
    unit_slots = [u for u, n in zip(units, counts, strict=True) for _ in range(n)]
    rng.shuffle(unit_slots)
    people: list[Member] = []
    this_year = datetime.now(TZ).year
    for i, cat in enumerate(cats, 1):
        home = rng.choice(communities)
        if cat == "in_service":
            unit = unit_slots.pop()
            org = unit.party_org_id
            # most live in the street of their unit
            if rng.random() < 0.7:
                same = [c for c in communities if street_of[c] == street_of[unit.community_id]]
                home = rng.choice(same)
        else:
            org = f"PO-{home}"
        first = {"retired": 1965, "resident": 1975, "mobile": 1995, "in_service": 1990}[cat]
        last = {
            "retired": 2000,
            "resident": this_year - 1,
            "mobile": this_year - 1,
            "in_service": this_year - 1,
        }[cat]
        joined = date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))
        reported = not (cat == "mobile" and rng.random() < 0.15)
        engagement = street_factor[street_of[home]] * community_factor[home]
        engagement *= {"in_service": 1.0, "resident": 1.1, "retired": 1.2, "mobile": 0.5}[cat]
        if rng.random() < 0.07:
            engagement = 0.0  # members who did nothing this month (零分党员)
        people.append(
            Member(
                member_id=f"M{i:06d}",
                name=_name(rng),
                category=cat,
                party_org_id=org,
                joined_on=joined,
                community_id=home if reported else None,
                grid_id=rng.choice(grids_of[home]) if reported else None,
                activity=engagement * rng.lognormvariate(1.2, 0.5),
            )
        )
    return City(regions=regions, orgs=orgs, units=units, members=people, grids_of=grids_of)


# --- events ----------------------------------------------------------------------------------

Message = tuple[str, bytes, bytes]  # topic, key, value


def event(
    type_: str, source: str, id_: str, subject: str, when: datetime, data: dict[str, Any]
) -> Message:
    body = {
        "specversion": "1.0",
        "id": id_,
        "source": source,
        "type": type_,
        "time": when.isoformat(),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }
    return type_, subject.encode(), json.dumps(body, ensure_ascii=False).encode()


def activity(rng: random.Random, member: Member, when: datetime, id_: str) -> Message:
    types, weights, sources = zip(*ACTIVITY_MIX, strict=True)
    k = rng.choices(range(len(types)), weights)[0]
    data: dict[str, Any] = {"member_id": member.member_id, "activity_type": types[k]}
    if member.community_id:
        data["community_id"] = member.community_id
    if types[k] == "volunteer_service":
        data["hours"] = rng.choice((0.5, 1, 1.5, 2, 2, 2.5, 3, 4))
        data["activity_id"] = f"VT{rng.randint(1, VOLUNTEER_TEAMS):03d}-{when:%Y%m%d}"
    elif types[k] in ("organization_life", "theme_party_day", "organization_life_absent"):
        data["activity_id"] = f"{member.party_org_id}-{when:%Y%m}"
    return event(ACTIVITY_LOGGED, sources[k], id_, member.member_id, when, data)


def activity_plan(city: City, seed: int = SEED) -> list[int]:
    """How many past activities each member gets (known up front, for the progress bar)."""
    rng = random.Random(seed * 7919)
    plan = []
    for m in city.members:
        lam = m.activity
        # Poisson by inversion (small lambdas)
        n, p, u = 0, math.exp(-lam), rng.random()
        s = p
        while u > s and n < 40:
            n += 1
            p *= lam / n
            s += p
        plan.append(n)
    return plan


def load_messages(city: City, anchor: datetime, plan: list[int]) -> Iterator[Message]:
    """Every event of the bulk load, in an order a real integration would send them."""
    t0 = anchor - timedelta(days=60)
    for i, r in enumerate(city.regions):
        data = {"region_id": r.region_id, "level": r.level, "name": r.name}
        if r.parent_id:
            data["parent_id"] = r.parent_id
        yield event(
            REGION_DEFINED,
            CIVIL_AFFAIRS,
            f"region-{r.region_id}-v1",
            r.region_id,
            t0 + timedelta(seconds=i),
            data,
        )
    for i, o in enumerate(city.orgs):
        data = {"party_org_id": o.party_org_id, "name": o.name, "kind": o.kind}
        if o.parent_id:
            data["parent_id"] = o.parent_id
        yield event(
            PARTY_ORG_DEFINED,
            ORG_REGISTRY,
            f"org-{o.party_org_id}-v1",
            o.party_org_id,
            t0 + timedelta(minutes=10, seconds=i),
            data,
        )
    for i, u in enumerate(city.units):
        yield event(
            UNIT_REPORTED,
            ORG_REGISTRY,
            f"unit-{u.unit_id}-v1",
            u.unit_id,
            t0 + timedelta(minutes=30, seconds=i),
            {
                "unit_id": u.unit_id,
                "name": u.name,
                "party_org_id": u.party_org_id,
                "community_id": u.community_id,
                "member_count": u.member_count,
            },
        )
    for i, m in enumerate(city.members):
        yield event(
            MEMBER_REGISTERED,
            ORG_REGISTRY,
            f"reg-{m.member_id}-v1",
            m.member_id,
            t0 + timedelta(hours=1, seconds=i),
            {
                "member_id": m.member_id,
                "name": m.name,
                "category": m.category,
                "party_org_id": m.party_org_id,
                "joined_on": m.joined_on.isoformat(),
            },
        )
    rng = random.Random(SEED * 104729)
    for i, m in enumerate(city.members):
        if m.community_id is None:
            continue
        # reports come in over the two weeks before the month of activities
        when = anchor - timedelta(days=45) + timedelta(seconds=rng.randint(0, 14 * 86400))
        yield event(
            MEMBER_REPORTED,
            ORG_REGISTRY,
            f"rep-{m.member_id}-v1",
            m.member_id,
            when,
            {"member_id": m.member_id, "community_id": m.community_id, "grid_id": m.grid_id},
        )
        del i
    rng = random.Random(SEED * 15485863)
    month = 30 * 86400
    for m, n in zip(city.members, plan, strict=True):
        for k in range(n):
            when = anchor - timedelta(seconds=rng.randint(60, month))
            yield activity(rng, m, when, f"past-{anchor:%Y%m%d%H}-{m.member_id}-{k}")


def load_size(city: City, plan: list[int]) -> int:
    reported = sum(1 for m in city.members if m.community_id)
    return (
        len(city.regions)
        + len(city.orgs)
        + len(city.units)
        + len(city.members)
        + reported
        + sum(plan)
    )


# --- publishing ------------------------------------------------------------------------------


class Progress:
    """A progress line, "[demo] loading 12,345/45,000 events  27%": a live bar on a terminal,
    a line every 10% otherwise (logs)."""

    def __init__(self, label: str, total: int, unit: str = "events") -> None:
        self.label, self.total, self.unit = label, max(total, 1), unit
        self.tty = sys.stdout.isatty()
        self.last_print = 0.0
        self.last_decile = -1

    def update(self, done: int, *, final: bool = False) -> None:
        pct = min(100, done * 100 // self.total)
        now = time.monotonic()
        if self.tty:
            if final or now - self.last_print > 0.2:
                bar = "#" * (pct // 4) + "." * (25 - pct // 4)
                end = "\n" if final else ""
                print(
                    f"\r[demo] {self.label} [{bar}] {done:,}/{self.total:,} {self.unit}  {pct:3d}%",
                    end=end,
                    flush=True,
                )
                self.last_print = now
        elif pct // 10 > self.last_decile or (final and self.last_decile < 10):
            self.last_decile = 10 if final else pct // 10
            say(f"{self.label} {done:,}/{self.total:,} {self.unit}  {pct}%")


async def start_producer(bootstrap: str) -> AIOKafkaProducer:
    # tansu (the embedded broker) has no idempotent producer; acks=all is still honoured
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    return producer


async def publish_all(
    producer: AIOKafkaProducer, messages: Iterator[Message], total: int, chunk: int = 5000
) -> int:
    progress = Progress("loading", total)
    done = 0
    pending: list[asyncio.Future[Any]] = []
    for topic, key, value in messages:
        pending.append(await producer.send(topic, value, key=key))
        if len(pending) >= chunk:
            await asyncio.gather(*pending)
            done += len(pending)
            pending.clear()
            progress.update(done)
    await asyncio.gather(*pending)
    done += len(pending)
    progress.update(done, final=True)
    return done


def read_anchor(data: Path | None) -> datetime:
    """The time the past month ends at: fixed at the first load (so a reload publishes the very
    same events), the start of the current hour in the city's time zone."""
    now = datetime.now(TZ).replace(minute=0, second=0, microsecond=0)
    if data is None:
        return now
    path = data / ANCHOR_FILE
    if path.exists():
        return datetime.fromisoformat(json.loads(path.read_text())["anchor"])
    data.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"anchor": now.isoformat()}))
    return now


async def load(
    bootstrap: str, data: Path | None, members: int = MEMBERS, force: bool = False
) -> City:
    """Publish the whole city once; with a marker under `data`, later calls only rebuild it."""
    city = build_city(members)
    marker = data / MARKER if data else None
    if marker and marker.exists() and not force:
        info = json.loads(marker.read_text())
        say(
            f"demo city already loaded ({info['events']:,} events at {info['loaded_at']}); "
            "skipping the bulk load"
        )
        return city
    anchor = read_anchor(data)
    plan = activity_plan(city)
    total = load_size(city, plan)
    say(
        f"publishing the demo city: {len(city.regions)} regions "
        f"({len(city.communities)} communities, {sum(map(len, city.grids_of.values()))} grids), "
        f"{len(city.orgs)} Party organisations, {len(city.units)} units, "
        f"{len(city.members):,} members, {sum(plan):,} past activities"
    )
    started = time.monotonic()
    producer = await start_producer(bootstrap)
    try:
        sent = await publish_all(producer, load_messages(city, anchor, plan), total)
    finally:
        await producer.stop()
    seconds = time.monotonic() - started
    say(f"published {sent:,} events in {seconds:.1f}s ({sent / max(seconds, 1e-9):,.0f}/s)")
    if marker:
        marker.write_text(
            json.dumps(
                {
                    "events": sent,
                    "members": len(city.members),
                    "anchor": anchor.isoformat(),
                    "loaded_at": datetime.now(UTC).isoformat(),
                }
            )
        )
    return city


# --- living city -----------------------------------------------------------------------------

BAD_MESSAGES: tuple[bytes, ...] = (
    b"\xff\xfe not json at all",
    b'{"hello": "not a cloud event"}',
)


def _bad(member: Member, n: int, kind: int, run: str) -> Message:
    now = datetime.now(TZ)
    if kind < 2:
        return ACTIVITY_LOGGED, member.member_id.encode(), BAD_MESSAGES[kind]
    if kind == 2:  # an unknown activity type
        return event(
            ACTIVITY_LOGGED,
            VOLUNTEER_PLATFORM,
            f"sim-{run}-{n}",
            member.member_id,
            now,
            {"member_id": member.member_id, "activity_type": "karaoke"},
        )
    # volunteer service with hours out of range
    return event(
        ACTIVITY_LOGGED,
        VOLUNTEER_PLATFORM,
        f"sim-{run}-{n}",
        member.member_id,
        now,
        {"member_id": member.member_id, "activity_type": "volunteer_service", "hours": 30},
    )


async def simulate(
    bootstrap: str,
    city: City,
    rate: float = 20.0,
    *,
    bad_every: int = 500,
    stop: asyncio.Event | None = None,
    max_events: int | None = None,
) -> int:
    """Publish a steady stream until cancelled (or `stop` is set, or `max_events` sent):
    activities, now and then a move (a new member.reported), a revocation of a recent activity,
    and one malformed message in `bad_every`. Returns how many messages were sent."""
    rng = random.Random()
    run = uuid.uuid4().hex[:8]
    active = [m for m in city.members if m.community_id and m.activity > 0]
    weights = [m.activity for m in active]
    communities = [c.region_id for c in city.communities]
    recent: deque[tuple[str, str, str]] = deque(maxlen=500)  # (source, id, member)
    producer = await start_producer(bootstrap)
    sent = 0
    started = time.monotonic()
    last_report = started
    counts = {"activities": 0, "moves": 0, "revocations": 0, "bad": 0}
    try:
        while (stop is None or not stop.is_set()) and (max_events is None or sent < max_events):
            due = int((time.monotonic() - started) * rate) + 1 - sent
            if max_events is not None:
                due = min(due, max_events - sent)
            for _ in range(max(due, 0)):
                sent += 1
                member = rng.choices(active, weights)[0]
                roll = rng.random()
                if sent % bad_every == 0:
                    msg = _bad(member, sent, (sent // bad_every) % 4, run)
                    counts["bad"] += 1
                elif roll < 0.03:
                    community = rng.choice(communities)
                    msg = event(
                        MEMBER_REPORTED,
                        ORG_REGISTRY,
                        f"sim-{run}-{sent}",
                        member.member_id,
                        datetime.now(TZ),
                        {
                            "member_id": member.member_id,
                            "community_id": community,
                            "grid_id": rng.choice(city.grids_of[community]),
                        },
                    )
                    counts["moves"] += 1
                elif roll < 0.05 and recent:
                    source, id_, who = recent.popleft()
                    msg = event(
                        ACTIVITY_REVOKED,
                        source,
                        f"{id_}-revoked",
                        who,
                        datetime.now(TZ),
                        {
                            "member_id": who,
                            "revokes": {"source": source, "id": id_},
                            "reason": "录入有误 (entered by mistake)",
                        },
                    )
                    counts["revocations"] += 1
                else:
                    msg = activity(rng, member, datetime.now(TZ), f"sim-{run}-{sent}")
                    body = json.loads(msg[2])
                    recent.append((body["source"], body["id"], member.member_id))
                    counts["activities"] += 1
                await producer.send(msg[0], msg[2], key=msg[1])
            if time.monotonic() - last_report > 60:
                last_report = time.monotonic()
                say("simulating: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
            await asyncio.sleep(0.05)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


# --- catching up -----------------------------------------------------------------------------


TAKEN = (
    "partygrid_events_applied_total{",
    "partygrid_events_duplicate_total{",
    "partygrid_events_deadlettered_total{",
)


async def scoring_applied(url: str) -> int | None:
    """Events the scoring service has taken (applied, duplicate or dead-lettered), from /metrics."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=2) as client:
            text = (await client.get(url)).text
    except httpx.HTTPError:
        return None
    total = 0.0
    for line in text.splitlines():
        if line.startswith(TAKEN) and 'service="scoring"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def wait_for_scoring(url: str, expected: int, stall: float = 60.0) -> None:
    """Show scoring catching up with the load (it keeps going in the background after this)."""
    progress = Progress("scoring applied", expected)
    best, best_at = -1, time.monotonic()
    while True:
        got = await scoring_applied(url)
        if got is None:
            say(f"scoring /metrics not reachable at {url}; not waiting")
            return
        progress.update(min(got, expected))
        if got >= expected:
            progress.update(expected, final=True)
            return
        if got > best:
            best, best_at = got, time.monotonic()
        elif time.monotonic() - best_at > stall:
            progress.update(got, final=True)
            say(f"scoring made no progress for {stall:.0f}s; going on")
            return
        await asyncio.sleep(1)


async def board_link(base: str, token: str, env: dict[str, str]) -> str:
    """A short-lived read-only link to the ranking board (tokens never go into URLs)."""
    how = f"POST {base}/v1/board-links with your token, then open the url it gives"
    if not token or token not in env.get("API_TOKENS", ""):
        return how
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            r = await client.post(
                f"{base}/v1/board-links", json={}, headers={"Authorization": f"Bearer {token}"}
            )
            r.raise_for_status()
            link = r.json()
    except (httpx.HTTPError, ValueError, KeyError):
        return how
    return f"{base}{link['url']} (open within {env.get('LINK_MINUTES', '10')} minutes)"


async def load_and_simulate(env: dict[str, str], data: Path) -> None:
    """Called by `make run` (DEMO=1) once every service is ready: load once, then simulate
    until cancelled."""
    bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
    members = int(env.get("DEMO_MEMBERS", MEMBERS))
    rate = float(env.get("DEMO_RATE", "20"))
    fresh = not (data / MARKER).exists()
    city = await load(bootstrap, data, members)
    if fresh:
        port = 8004 + int(env.get("PORT_OFFSET", "0"))
        plan = activity_plan(city)
        expected = load_size(city, plan) - len(city.orgs) - len(city.units)
        await wait_for_scoring(f"http://127.0.0.1:{port}/metrics", expected)
    port = 8004 + int(env.get("PORT_OFFSET", "0"))
    token_file = data / "dev-token"
    token = token_file.read_text().strip() if token_file.exists() else ""
    say(f"ranking board: {await board_link(f'http://127.0.0.1:{port}', token, env)}")
    say(f"simulating {rate:g} events/s (activities, moves, revocations, 1 bad message in 500)")
    # make run goes on to supervise the services: simulate in the background until it stops
    task = asyncio.create_task(simulate(bootstrap, city, rate), name="demo-simulator")
    _BACKGROUND.add(task)
    task.add_done_callback(_finished)
    # the community practices (time bank catalogue, visits, rated incidents and wishes) go
    # through the HTTP APIs, as a community office would
    from tools import demo_community

    offset = int(env.get("PORT_OFFSET", "0"))
    base = {
        "members": f"http://127.0.0.1:{8001 + offset}",
        "grids": f"http://127.0.0.1:{8002 + offset}",
        "activities": f"http://127.0.0.1:{8003 + offset}",
    }
    practices = demo_community.run(city, base, token, data / demo_community.MARKER)
    community = asyncio.create_task(practices, name="demo-community")
    _BACKGROUND.add(community)
    community.add_done_callback(_finished)


_BACKGROUND: set[asyncio.Task[Any]] = set()


def _finished(task: asyncio.Task[Any]) -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled() and task.exception() is not None:
        say(f"simulator stopped: {task.exception()!r}")


async def _main(args: argparse.Namespace, data: Path | None) -> None:
    if args.partitions:
        from shared.kafka import ensure_topics

        await ensure_topics(args.bootstrap, args.partitions)
    city = await load(args.bootstrap, data, args.members, force=args.force)
    if args.load_only:
        return
    say(f"simulating {args.rate:g} events/s; Ctrl-C to stop")
    with contextlib.suppress(asyncio.CancelledError):
        await simulate(args.bootstrap, city, args.rate)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--data",
        default=".data",
        help="folder for the load marker and anchor ('' for none: always load)",
    )
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--rate", type=float, default=float(os.environ.get("DEMO_RATE", "20")))
    parser.add_argument("--load-only", action="store_true", help="publish the city and stop")
    parser.add_argument("--force", action="store_true", help="load even if the marker exists")
    parser.add_argument(
        "--partitions",
        type=int,
        default=0,
        help="create missing topics with this many partitions first",
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args, Path(args.data).resolve() if args.data else None))


if __name__ == "__main__":
    main()
