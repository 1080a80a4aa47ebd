"""Checks shared by the activities use cases and the meeting use cases: a community named in a
request must be one the region projection knows (shared.regions), and the caller's token must
reach it. The check comes before the scope so that a made-up id is reported as such (422)
instead of as someone else's region (403)."""

from __future__ import annotations

from shared.auth import Principal
from shared.db import Conn
from shared.events import RegionLevel
from shared.regions import require_region

from ..persistence import common as db


async def community(
    conn: Conn, caller: Principal, community_id: str, *, field: str = "community_id"
) -> None:
    """Something new is placed in the community: known, a community, not retired, in scope."""
    await require_region(conn, community_id, level=RegionLevel.COMMUNITY, field=field)
    caller.require_region(await db.region_path(conn, community_id))


async def community_filter(conn: Conn, caller: Principal, community_id: str) -> None:
    """A listing is limited to the community: known and a community (retired is fine: its past
    stays readable), in scope."""
    await require_region(
        conn,
        community_id,
        level=RegionLevel.COMMUNITY,
        field="community_id",
        retired_ok=True,
    )
    caller.require_region(await db.region_path(conn, community_id))
