"""Event builders for the scoring tests."""

from __future__ import annotations

import json
from typing import Any

from dev.testing import cloud_event
from shared.db import Conn
from shared.inbox import Record


def region(rid: str, level: str, parent: str | None, name: str | None = None, **kw: Any) -> dict:
    data = {"region_id": rid, "level": level, "name": name or rid}
    if parent:
        data["parent_id"] = parent
    return cloud_event("partygrid.region.defined", data, subject=rid, **kw)


def reported(member: str, community: str, time: str, grid: str | None = None, **kw: Any) -> dict:
    data = {"member_id": member, "community_id": community}
    if grid:
        data["grid_id"] = grid
    return cloud_event("partygrid.member.reported", data, subject=member, time=time, **kw)


def registered(
    member: str,
    org: str,
    category: str = "in_service",
    name: str = "张三",
    time: str = "2026-01-01T00:00:00+08:00",
    **kw: Any,
) -> dict:
    return cloud_event(
        "partygrid.member.registered",
        {"member_id": member, "name": name, "category": category, "party_org_id": org},
        subject=member,
        time=time,
        **kw,
    )


def logged(member: str, kind: str, time: str, hours: float | None = None, **kw: Any) -> dict:
    data: dict[str, Any] = {"member_id": member, "activity_type": kind}
    if hours is not None:
        data["hours"] = hours
    return cloud_event("partygrid.activity.logged", data, subject=member, time=time, **kw)


def revoked(target: dict, reason: str | None = None, **kw: Any) -> dict:
    data: dict[str, Any] = {
        "member_id": target["data"]["member_id"],
        "revokes": {"source": target["source"], "id": target["id"]},
    }
    if reason is not None:
        data["reason"] = reason
    return cloud_event(
        "partygrid.activity.revoked", data, subject=target["data"]["member_id"], **kw
    )


def records(events: list[dict | bytes], topic: str | None = None) -> list[Record]:
    out = []
    for i, e in enumerate(events):
        if isinstance(e, bytes):
            out.append(Record(topic or "partygrid.activity.logged", 0, i, None, e))
        else:
            out.append(
                Record(
                    topic or e["type"],
                    0,
                    i,
                    (e.get("subject") or "").encode(),
                    json.dumps(e).encode(),
                )
            )
    return out


async def forget_rule_revisions(conn: Conn, where: str) -> None:
    """Back to the default rules between tests. Rule revisions are append-only (a trigger
    refuses deletes), so the test database's superuser deletes with triggers off."""
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(f"DELETE FROM rule_revisions WHERE {where}")
        await conn.execute("SET LOCAL session_replication_role = origin")
