"""The demo city at Putian's scale, built the same every time from one seed: its regions (1
district, 8 streets, 61 communities, 200+ grids), Party organisations, 112 resident units and
31,040 members of all four categories with Chinese names; and the outside systems (sources)
that speak for it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

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
