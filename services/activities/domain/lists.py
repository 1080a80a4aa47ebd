"""The values the use cases of the three lists (三张清单) and co-building projects return: a need
of a community or a resource of a resident unit, the project a claim makes, its participants,
progress reports and service entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class ListItem:
    """A need a community listed, or a resource a unit offers (`unit_id`), open or claimed."""

    item_id: str
    kind: str
    community_id: str
    unit_id: str | None
    title: str
    description: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class Project:
    """A co-building project made by a claim: a community and a unit, its progress in percent."""

    project_id: str
    item_id: str
    community_id: str
    unit_id: str
    title: str
    status: str
    progress: int
    created_at: datetime


@dataclass(frozen=True)
class ProjectParticipant:
    """A member taking part, with the volunteer hours logged on the project."""

    member_id: str
    joined_at: datetime
    hours: Decimal


@dataclass(frozen=True)
class ProgressReport:
    progress: int
    note: str | None
    at: datetime


@dataclass(frozen=True)
class ProjectDetail(Project):
    """A project with its participants and its progress reports, oldest first."""

    participants: tuple[ProjectParticipant, ...]
    updates: tuple[ProgressReport, ...]


@dataclass(frozen=True)
class Joining:
    """A member joining a project; `joined` is False when they had joined before."""

    project_id: str
    member_id: str
    joined: bool


@dataclass(frozen=True)
class ServiceEntry:
    """A participant's volunteer hours on a project, logged as one activity.logged."""

    entry_id: str
    project_id: str
    member_id: str
    hours: Decimal
    served_at: datetime
    logged_event_id: str


@dataclass(frozen=True)
class LoggedService(ServiceEntry):
    """A service entry as logged now; `published` is False when the entry existed."""

    published: bool
