"""The living demo city: a steady stream of activities, now and then a move (a new
member.reported), a revocation of a recent activity, and the odd malformed message."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import deque
from datetime import datetime

from shared.events import (
    ACTIVITY_LOGGED,
    ACTIVITY_REVOKED,
    MEMBER_REPORTED,
)

from .city import ORG_REGISTRY, TZ, VOLUNTEER_PLATFORM, City, Member, say
from .events import Message, activity, event, start_producer

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
