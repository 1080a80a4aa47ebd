"""The top of a community's member ranking is read off the index of totals by community; it must
give exactly what the full ranking of every member of the community gives, and follow members
who move."""

from __future__ import annotations

import random

import pytest

from services.scoring.persistence import live

from .helpers import logged, records, region, reported
from .once import Scoring

SEP = "2026-09-{:02d}T10:00:00+08:00"
OCT = "2026-10-{:02d}T10:00:00+08:00"  # the period read; reporting (10 points) was before
SCOPE_C1 = live.MemberScope(community_id="C1")


def _city() -> list[dict]:
    return [
        region("D1", "district", None),
        region("S1", "street", "D1"),
        region("C1", "community", "S1"),
        region("C2", "community", "S1"),
    ]


async def _feed(s: Scoring, events: list[dict]) -> None:
    await s.app.state.runtime.slot.consumer.handle(records(events))


async def _members_with_studies(s: Scoring, studies: dict[str, int], community: str) -> None:
    """Members reported in `community` in September, each with that many study events (1 point
    each) in October."""
    events = [reported(m, community, SEP.format(1)) for m in studies]
    for m, n in studies.items():
        events += [logged(m, "study", OCT.format(2 + day)) for day in range(n)]
    await _feed(s, events)


def _page(total_rows: tuple[int, list]) -> tuple[int, list[tuple]]:
    total, rows = total_rows
    return total, [(r["member_id"], r["points"], r["rank"], r["name"]) for r in rows]


async def test_a_page_off_the_index_equals_the_full_ranking(
    scoring: Scoring, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    # ties, members without points (zero) and absentees (negative) below the top
    studies = {f"M{i:02d}": rng.choice([0, 1, 2, 2, 3, 5, 5, 8]) for i in range(40)}
    await _members_with_studies(scoring, studies, "C1")
    absent = [f"M{i:02d}" for i in range(40, 44)]
    await _feed(
        scoring,
        [reported(m, "C1", SEP.format(1)) for m in absent]
        + [logged(m, "organization_life_absent", OCT.format(3)) for m in absent],
    )
    pool = scoring.app.state.runtime.pool
    pages = [(limit, offset) for limit in (1, 5, 10, 50) for offset in (0, 3, 20, 41)]
    fast = [_page(await live.member_ranking(pool, "2026-10", SCOPE_C1, *p)) for p in pages]
    monkeypatch.setattr(live, "TOP_READ_MAX", 0)  # every page by the full ranking
    full = [_page(await live.member_ranking(pool, "2026-10", SCOPE_C1, *p)) for p in pages]
    assert fast == full
    assert full[0][0] == 44 and full[-1][1]  # the scope's size, and pages down to the bottom


async def test_a_top_page_above_zero_is_answered_by_the_index(scoring: Scoring) -> None:
    await _members_with_studies(scoring, {"A": 3, "B": 5, "C": 5, "D": 1, "E": 0}, "C1")
    pool = scoring.app.state.runtime.pool
    top = await live._community_top(pool, "2026-10", "C1", 3, 0)
    assert top is not None
    total, rows = top
    assert (total, [(r["member_id"], r["rank"]) for r in rows]) == (
        5,
        [("B", 1), ("C", 1), ("A", 3)],
    )


async def test_a_page_reaching_members_without_points_falls_back_to_the_full_ranking(
    scoring: Scoring,
) -> None:
    await _members_with_studies(scoring, {"A": 3, "B": 0}, "C1")
    pool = scoring.app.state.runtime.pool
    assert await live._community_top(pool, "2026-10", "C1", 2, 0) is None
    total, rows = await live.member_ranking(pool, "2026-10", SCOPE_C1, 2, 0)
    assert (total, [r["member_id"] for r in rows]) == (2, ["A", "B"])


async def test_a_member_who_moves_ranks_in_the_new_community_only(scoring: Scoring) -> None:
    await _feed(scoring, _city())
    await _members_with_studies(scoring, {"A": 3, "B": 2}, "C1")
    await _members_with_studies(scoring, {"X": 1}, "C2")
    await _feed(scoring, [reported("A", "C2", OCT.format(20))])
    pool = scoring.app.state.runtime.pool
    c1 = await live._community_top(pool, "2026-10", "C1", 1, 0)
    c2 = await live._community_top(pool, "2026-10", "C2", 2, 0)
    assert c1 is not None and [r["member_id"] for r in c1[1]] == ["B"]
    assert c2 is not None and [r["member_id"] for r in c2[1]] == ["A", "X"]
    async with pool.acquire() as conn:
        moved = await conn.fetch(
            "SELECT DISTINCT community_id FROM member_points WHERE member_id = 'A'"
        )
    assert [r["community_id"] for r in moved] == ["C2"]
