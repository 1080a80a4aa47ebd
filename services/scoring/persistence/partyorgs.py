"""SQL of scoring's copy of the Party organisation tree (party_orgs), kept from
partygrid.party_org.defined: the latest definition wins (shared.projections' version order)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.db import Conn
from shared.projections import later

PartyOrgRow = tuple[str, str, str | None, datetime, str, str]


async def upsert_party_orgs(conn: Conn, rows: Sequence[PartyOrgRow]) -> None:
    """(party_org_id, name, parent_id, time, source, id) of each definition."""
    if not rows:
        return
    await conn.executemany(
        f"""INSERT INTO party_orgs AS o (party_org_id, name, parent_id, def_time, def_source, def_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (party_org_id) DO UPDATE SET name = excluded.name,
               parent_id = excluded.parent_id, def_time = excluded.def_time,
               def_source = excluded.def_source, def_id = excluded.def_id
           WHERE {later("excluded", "o", "def")}""",
        rows,
    )


async def subtree(conn: Any, party_org_id: str) -> list[str]:
    """The organisation and every organisation below it."""
    rows = await conn.fetch(
        """WITH RECURSIVE down(party_org_id, depth) AS (
               SELECT $1::text, 0
               UNION
               SELECT o.party_org_id, d.depth + 1 FROM party_orgs o
               JOIN down d ON o.parent_id = d.party_org_id WHERE d.depth < 20)
           SELECT DISTINCT party_org_id FROM down""",
        party_org_id,
    )
    return sorted(r["party_org_id"] for r in rows)
