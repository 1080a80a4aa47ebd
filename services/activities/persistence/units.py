"""SQL of the resident-unit projection, fed by unit.reported: each row keeps the (time, source,
id) of the event that set it and only a later version replaces it, so the result does not
depend on the order the events arrive in (versions compare as in shared.projections)."""

from __future__ import annotations

from datetime import datetime

from shared.db import Conn
from shared.projections import later

_UPSERT = f"""
INSERT INTO unit_projection AS u (unit_id, name, community_id, v_time, v_source, v_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (unit_id) DO UPDATE SET
    name = excluded.name, community_id = excluded.community_id,
    v_time = excluded.v_time, v_source = excluded.v_source, v_id = excluded.v_id
WHERE {later("excluded", "u", "v")}
"""

UnitVersion = tuple[str, str, str, datetime, str, str]
"""unit_id, name, community_id and the version (event time, source, id)."""


async def upsert(conn: Conn, rows: list[UnitVersion]) -> None:
    """Apply unit versions in order (executemany keeps the order, so the latest wins even when
    a batch holds several versions of one unit)."""
    if rows:
        await conn.executemany(_UPSERT, rows)
