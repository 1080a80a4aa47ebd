"""A grid's people and what a grid lacks (一网格一支部), without I/O: its staff and Party branch,
its overview, the coverage of a region's grids (a leader, a worker and a branch each) and the
members living in grids, counted by category."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.events.grids import StaffRole

from .regions import Region


@dataclass(frozen=True)
class StaffMember:
    """A person serving a grid: leader (网格长), worker (网格员) or household contact."""

    staff_id: str
    role: StaffRole
    name: str
    member_id: str | None
    building_id: str | None
    assigned_at: datetime


@dataclass(frozen=True)
class Branch:
    """The Party branch attached to a grid."""

    party_org_id: str
    name: str
    attached_at: datetime


@dataclass(frozen=True)
class MemberCounts:
    """Members living in a grid: in all, and per category."""

    total: int
    by_category: Mapping[str, int]


def member_counts(by_category: Mapping[str, int]) -> MemberCounts:
    return MemberCounts(total=sum(by_category.values()), by_category=dict(by_category))


@dataclass(frozen=True)
class GridOverview:
    """One grid: the region, its path to the root, its people by role, branch and members."""

    grid: Region
    path: tuple[str, ...]
    leader: StaffMember | None
    workers: tuple[StaffMember, ...]
    household_contacts: tuple[StaffMember, ...]
    branch: Branch | None
    members: MemberCounts


def overview(
    grid: Region,
    path: Iterable[str],
    staff: Iterable[StaffMember],
    branch: Branch | None,
    counts: Mapping[str, int],
) -> GridOverview:
    """The grid's staff sorted by role (there is at most one leader)."""
    people = list(staff)
    return GridOverview(
        grid=grid,
        path=tuple(path),
        leader=next((s for s in people if s.role is StaffRole.LEADER), None),
        workers=tuple(s for s in people if s.role is StaffRole.WORKER),
        household_contacts=tuple(s for s in people if s.role is StaffRole.HOUSEHOLD_CONTACT),
        branch=branch,
        members=member_counts(counts),
    )


@dataclass(frozen=True)
class GridStaffing:
    """Whether a grid has a leader, a worker and a branch."""

    grid_id: str
    name: str
    community_id: str | None
    has_leader: bool
    has_worker: bool
    has_branch: bool


@dataclass(frozen=True)
class CoverageGap:
    """A grid lacking some of leader, worker and branch (`missing` names them)."""

    grid_id: str
    name: str
    community_id: str | None
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    """The grids within a region: how many, how many are complete, and what the others lack."""

    within: str | None
    grids: int
    complete: int
    lacking_leader: int
    lacking_worker: int
    lacking_branch: int
    gaps: tuple[CoverageGap, ...]


def coverage(within: str | None, grids: Iterable[GridStaffing]) -> Coverage:
    every = list(grids)
    gaps = []
    for g in every:
        missing = tuple(
            what
            for what, present in (
                ("leader", g.has_leader),
                ("worker", g.has_worker),
                ("branch", g.has_branch),
            )
            if not present
        )
        if missing:
            gaps.append(CoverageGap(g.grid_id, g.name, g.community_id, missing))
    return Coverage(
        within=within,
        grids=len(every),
        complete=len(every) - len(gaps),
        lacking_leader=sum(1 for g in gaps if "leader" in g.missing),
        lacking_worker=sum(1 for g in gaps if "worker" in g.missing),
        lacking_branch=sum(1 for g in gaps if "branch" in g.missing),
        gaps=tuple(gaps),
    )


@dataclass(frozen=True)
class GridMember:
    member_id: str
    category: str


@dataclass(frozen=True)
class GridMembers:
    """The members living in a grid, with their count per category."""

    grid_id: str
    total: int
    by_category: Mapping[str, int]
    members: tuple[GridMember, ...]


def grid_members(grid_id: str, members: Iterable[GridMember]) -> GridMembers:
    every = tuple(members)
    by_category: dict[str, int] = {}
    for m in every:
        by_category[m.category] = by_category.get(m.category, 0) + 1
    return GridMembers(grid_id=grid_id, total=len(every), by_category=by_category, members=every)


@dataclass(frozen=True)
class GridCount:
    """Members of one grid, in all and per category."""

    grid_id: str
    total: int
    by_category: Mapping[str, int]


@dataclass(frozen=True)
class MemberCountsWithin:
    """Member counts of every grid within a region (None: the whole city)."""

    within: str | None
    items: tuple[GridCount, ...]


def counts_within(
    within: str | None, grids: Iterable[str], counts: Mapping[str, Mapping[str, int]]
) -> MemberCountsWithin:
    """Every grid, also those without members (their counts are zero)."""
    items = []
    for g in grids:
        mine = member_counts(counts.get(g, {}))
        items.append(GridCount(grid_id=g, total=mine.total, by_category=mine.by_category))
    return MemberCountsWithin(within=within, items=tuple(items))
