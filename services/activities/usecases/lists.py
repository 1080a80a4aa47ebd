"""Use cases of the three lists and co-building projects: needs of communities and
resources of resident units, a claim that makes a project (project.created), progress,
participants and service entries (activity.logged volunteer_service)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from shared.auth import Principal
from shared.db import Conn
from shared.events import ActivityType
from shared.events.activities import (
    PROJECT_CREATED,
    ProjectCreated,
)
from shared.refusals import conflict, invalid, not_found

from ..domain import rules
from ..domain.lists import Joining, ListItem, LoggedService, Project, ProjectDetail
from ..persistence import common
from ..persistence import lists as db
from . import checks
from .banking import publish_own  # the outbox call that also banks volunteer hours
from .base import Row, UseCaseBase, _row, new_id, utcnow


class ListUseCases(UseCaseBase):
    async def add_need(self, caller: Principal, body: dict[str, Any]) -> ListItem:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            await checks.community(conn, caller, body["community_id"])
            return db.as_item(
                await db.insert_item(
                    conn,
                    {
                        "item_id": new_id("N"),
                        "kind": "need",
                        **body,
                        "status": "open",
                        "created_at": now,
                    },
                )
            )

    async def _unit(self, conn: Conn, unit_id: str) -> Row:
        row = await common.unit(conn, unit_id)
        if row is None:
            raise invalid(
                "unknown_unit",
                f"unit {unit_id} is unknown: no unit.reported has been received for it",
                field="unit_id",
            )
        return dict(row)

    async def add_resource(self, caller: Principal, body: dict[str, Any]) -> ListItem:
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            unit = await self._unit(conn, body["unit_id"])
            # the unit reported to it; a resource is listed there, so it must still exist
            await checks.community(conn, caller, unit["community_id"], field="unit.community_id")
            return db.as_item(
                await db.insert_item(
                    conn,
                    {
                        "item_id": new_id("R"),
                        "kind": "resource",
                        **body,
                        "community_id": unit["community_id"],
                        "status": "open",
                        "created_at": now,
                    },
                )
            )

    async def list_items(
        self, caller: Principal, kind: str, community_id: str | None, status: str | None, limit: int
    ) -> list[ListItem]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [db.as_item(r) for r in await db.items(conn, kind, community_id, status, limit)]

    async def claim_item(
        self, caller: Principal, kind: Literal["need", "resource"], item_id: str, claimant: str
    ) -> Project:
        """A unit claims a community's need, or a community claims a unit's resource; the
        claim creates the co-building project. Only one claim per item wins."""
        now = utcnow()
        async with self.pool.acquire() as conn, conn.transaction():
            item = await db.item(conn, item_id, kind)
            if item is None:
                raise not_found(kind, item_id)
            await self._scope(conn, caller, item["community_id"])
            if kind == "need":
                unit = await self._unit(conn, claimant)
                if unit["community_id"] != item["community_id"]:
                    raise invalid(
                        "other_community",
                        f"unit {claimant} reported to {unit['community_id']}, not to "
                        f"{item['community_id']} where the need was listed",
                        field="unit_id",
                    )
                unit_id = claimant
            else:
                await checks.community(conn, caller, claimant)
                if claimant != item["community_id"]:
                    raise invalid(
                        "other_community",
                        f"this resource is offered to {item['community_id']}",
                        field="community_id",
                    )
                unit_id = item["unit_id"]
            claimed = await db.claim_item(conn, item_id, kind)
            if claimed is None:
                raise conflict("already_claimed", f"this {kind} has already been claimed")
            project = _row(
                await db.insert_project(
                    conn,
                    {
                        "project_id": new_id("P"),
                        "item_id": item_id,
                        "community_id": item["community_id"],
                        "unit_id": unit_id,
                        "title": item["title"],
                        "status": "active",
                        "created_at": now,
                    },
                )
            )
            data = ProjectCreated(
                project_id=project["project_id"],
                item_id=item_id,
                item_kind=kind,
                community_id=project["community_id"],
                unit_id=unit_id,
                title=project["title"],
            )
            await publish_own(
                conn,
                [
                    self._event(
                        PROJECT_CREATED,
                        data,
                        project["project_id"],
                        now,
                        f"project/{project['project_id']}/created",
                    )
                ],
            )
            return db.as_project(project)

    async def _project(
        self, conn: Conn, caller: Principal, project_id: str, *, lock: bool = True
    ) -> Row:
        row = await db.project(conn, project_id, lock=lock)
        if row is None:
            raise not_found("project", project_id)
        await self._scope(conn, caller, row["community_id"])
        return dict(row)

    async def get_project(self, caller: Principal, project_id: str) -> ProjectDetail:
        async with self.pool.acquire() as conn:
            row = await self._project(conn, caller, project_id, lock=False)
            participants = await db.project_participants(conn, project_id)
            updates = await db.project_updates(conn, project_id)
            return ProjectDetail(
                **vars(db.as_project(row)),
                participants=tuple(db.as_participant(p) for p in participants),
                updates=tuple(db.as_report(u) for u in updates),
            )

    async def list_projects(
        self, caller: Principal, community_id: str | None, limit: int
    ) -> list[Project]:
        self._scope_listing(caller, community_id)
        async with self.pool.acquire() as conn:
            if community_id is not None:
                await checks.community_filter(conn, caller, community_id)
            return [db.as_project(r) for r in await db.projects(conn, community_id, limit)]

    async def report_progress(
        self, caller: Principal, project_id: str, progress: int, note: str | None
    ) -> Project:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await self._project(conn, caller, project_id)
            if progress < row["progress"]:
                raise invalid(
                    "progress_backwards",
                    f"progress cannot go back from {row['progress']}%",
                    field="progress",
                )
            return db.as_project(
                await db.set_progress(
                    conn, project_id, progress, rules.project_status(progress), note, utcnow()
                )
            )

    async def join_project(self, caller: Principal, project_id: str, member_id: str) -> Joining:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._project(conn, caller, project_id)
            await self._member(conn, member_id)
            joined = await db.add_participant(conn, project_id, member_id, utcnow())
            return Joining(project_id, member_id, joined)

    async def log_project_service(
        self,
        caller: Principal,
        project_id: str,
        member_id: str,
        hours: Decimal,
        served_at: datetime | None,
        entry_id: str | None,
    ) -> LoggedService:
        """A participant's volunteer hours on the project: one activity.logged each entry.
        Sending the same entry_id again returns the first entry and publishes nothing."""
        now = utcnow()
        parsed = rules.parse_hours(hours, required=True)
        assert parsed is not None
        when = served_at or now
        if when > now + timedelta(minutes=5):
            raise invalid("invalid_time", "served_at cannot be in the future", field="served_at")
        entry = entry_id or new_id("S")
        async with self.pool.acquire() as conn, conn.transaction():
            project = await self._project(conn, caller, project_id)
            existing = await db.service_entry(conn, entry)
            if existing is not None:
                if (existing["project_id"], existing["member_id"], existing["hours"]) != (
                    project_id,
                    member_id,
                    parsed,
                ):
                    raise conflict(
                        "entry_conflict", f"entry {entry} was already logged with other content"
                    )
                return LoggedService(**vars(db.as_entry(existing)), published=False)
            if not await db.is_participant(conn, project_id, member_id):
                raise conflict(
                    "not_participant", f"member {member_id} has not joined project {project_id}"
                )
            event_id = rules.project_service_event_id(entry)
            inserted = await db.insert_service(
                conn, entry, project_id, member_id, parsed, when, event_id
            )
            if inserted is None:  # the same entry id, just logged on another project
                raise conflict("entry_conflict", f"entry {entry} was already logged")
            await publish_own(
                conn,
                [
                    self._logged(
                        event_id,
                        when,
                        member_id,
                        ActivityType.VOLUNTEER_SERVICE,
                        project_id,
                        project["community_id"],
                        parsed,
                    )
                ],
            )
            return LoggedService(**vars(db.as_entry(inserted)), published=True)
