"""Events of the grids service beyond region.defined: grid staff (一网格一支部), grid visits
(入户走访) and incidents handled in the grid (事在网中办).

They are internal to PartyGrid (other services and dashboards may consume them); the region
tree itself is published as `partygrid.region.defined` (see `regions.py`). No free text that
could carry personal data (incident descriptions, visit notes, names) travels in these events:
it stays in the grids database.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .registry import register
from .types import Id

GRID_STAFF_ASSIGNED = "partygrid.grid.staff_assigned"
GRID_STAFF_REMOVED = "partygrid.grid.staff_removed"
GRID_BRANCH_ATTACHED = "partygrid.grid.branch_attached"
GRID_BRANCH_DETACHED = "partygrid.grid.branch_detached"
VISIT_LOGGED = "partygrid.visit.logged"
INCIDENT_OPENED = "partygrid.incident.opened"
INCIDENT_ASSIGNED = "partygrid.incident.assigned"
INCIDENT_RESOLVED = "partygrid.incident.resolved"
INCIDENT_CLOSED = "partygrid.incident.closed"
INCIDENT_SUPERVISED = "partygrid.incident.supervised"
INCIDENT_OVERDUE = "partygrid.incident.overdue"


class StaffRole(StrEnum):
    """Roles of the people who serve a grid (docs/design.md §1)."""

    LEADER = "leader"  # 网格长: exactly one per grid
    WORKER = "worker"  # 网格员: one or more per grid
    HOUSEHOLD_CONTACT = "household_contact"  # 党员中心户: a member household, contact point


class IncidentCategory(StrEnum):
    """What kind of matter a resident or worker reported in the grid."""

    SANITATION = "sanitation"
    PUBLIC_SAFETY = "public_safety"
    FACILITIES = "facilities"
    DISPUTE = "dispute"
    SOCIAL_ASSISTANCE = "social_assistance"
    ELDERLY_CARE = "elderly_care"
    OTHER = "other"


class IncidentStatus(StrEnum):
    """Incident life cycle: open → assigned → resolved → closed."""

    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


@register(GRID_STAFF_ASSIGNED, "grid_id", "A person was assigned to serve a grid in a role.")
class GridStaffAssigned(_Data):
    grid_id: Id = Field(description="The grid (region of level grid).")
    staff_id: Id = Field(description="The person's staff id.")
    role: StaffRole = Field(description="leader, worker or household_contact.")
    member_id: Id | None = Field(
        default=None, description="The person's Party member id, when they are a member."
    )
    building_id: Id | None = Field(
        default=None, description="For a household contact: the building it is the contact of."
    )


@register(GRID_STAFF_REMOVED, "grid_id", "A person no longer serves a grid in a role.")
class GridStaffRemoved(_Data):
    grid_id: Id = Field(description="The grid.")
    staff_id: Id = Field(description="The person's staff id.")
    role: StaffRole = Field(description="The role the person held.")


@register(GRID_BRANCH_ATTACHED, "grid_id", "A Party branch was attached to a grid (一网格一支部).")
class GridBranchAttached(_Data):
    grid_id: Id = Field(description="The grid.")
    party_org_id: Id = Field(description="The Party branch (organisation) attached to the grid.")


@register(GRID_BRANCH_DETACHED, "grid_id", "The Party branch of a grid was detached.")
class GridBranchDetached(_Data):
    grid_id: Id = Field(description="The grid.")
    party_org_id: Id = Field(description="The Party branch that was attached until now.")


@register(VISIT_LOGGED, "grid_id", "A grid worker visited households (入户走访).")
class VisitLogged(_Data):
    visit_id: Id = Field(description="The visit's id.")
    grid_id: Id = Field(description="The grid visited.")
    staff_id: Id = Field(description="The staff member who made the visit.")
    member_id: Id | None = Field(
        default=None, description="The visitor's Party member id, when they are a member."
    )
    households: int = Field(ge=1, le=1000, description="Number of households visited.")
    duration_minutes: int = Field(ge=1, le=1440, description="Length of the visit in minutes.")


class _IncidentData(_Data):
    incident_id: Id = Field(description="The incident's id.")
    grid_id: Id = Field(description="The grid the incident was reported in.")


@register(INCIDENT_OPENED, "incident_id", "A matter was reported in a grid (事在网中办).")
class IncidentOpened(_IncidentData):
    category: IncidentCategory = Field(description="What kind of matter it is.")
    due_at: AwareDatetime = Field(description="When it must be resolved (its time limit).")


@register(INCIDENT_ASSIGNED, "incident_id", "An incident was assigned (or reassigned) to staff.")
class IncidentAssigned(_IncidentData):
    assignee_id: Id = Field(description="The staff id of the person who handles it.")


@register(INCIDENT_RESOLVED, "incident_id", "The handler reported an incident as resolved.")
class IncidentResolved(_IncidentData):
    assignee_id: Id = Field(description="The staff id of the person who resolved it.")
    overdue: bool = Field(description="True when it was resolved after its time limit.")


@register(INCIDENT_CLOSED, "incident_id", "A resolved incident was checked and closed.")
class IncidentClosed(_IncidentData):
    overdue: bool = Field(description="True when it was resolved after its time limit.")


@register(INCIDENT_SUPERVISED, "incident_id", "An incident was put under supervision (督办).")
class IncidentSupervised(_IncidentData):
    due_at: AwareDatetime = Field(description="The time limit in force after supervision.")


@register(INCIDENT_OVERDUE, "incident_id", "An unresolved incident passed its time limit.")
class IncidentOverdue(_IncidentData):
    due_at: AwareDatetime = Field(description="The time limit that passed.")
    status: IncidentStatus = Field(description="Its status when it was flagged: open or assigned.")


__all__ = [
    "GRID_BRANCH_ATTACHED",
    "GRID_BRANCH_DETACHED",
    "GRID_STAFF_ASSIGNED",
    "GRID_STAFF_REMOVED",
    "INCIDENT_ASSIGNED",
    "INCIDENT_CLOSED",
    "INCIDENT_OPENED",
    "INCIDENT_OVERDUE",
    "INCIDENT_RESOLVED",
    "INCIDENT_SUPERVISED",
    "VISIT_LOGGED",
    "GridBranchAttached",
    "GridBranchDetached",
    "GridStaffAssigned",
    "GridStaffRemoved",
    "IncidentAssigned",
    "IncidentCategory",
    "IncidentClosed",
    "IncidentOpened",
    "IncidentOverdue",
    "IncidentResolved",
    "IncidentStatus",
    "IncidentSupervised",
    "StaffRole",
    "VisitLogged",
]
