"""The demo city as CloudEvents, as the city's other systems would send them: the bulk load
(regions, Party organisations, units, registrations, reports and a month of past activities)
with deterministic ids, and the Kafka producer every demo publisher uses."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

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

from .city import ACTIVITY_MIX, CIVIL_AFFAIRS, ORG_REGISTRY, SEED, VOLUNTEER_TEAMS, City, Member

# Topics whose events the scoring service consumes (for the catch-up progress).
SCORING_TOPICS = {
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_REGISTERED,
    MEMBER_REPORTED,
    REGION_DEFINED,
}


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
