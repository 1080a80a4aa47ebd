"""Scoring's copy of the tree of Party organisations, from partygrid.party_org.defined: the
half-yearly feedback of an organisation covers the members of its sub-organisations, and a
token scoped to an organisation reads the feedback of that subtree only.

Kept beside the scoring use case rather than in it: the wrapper takes the organisation events
out of each batch and applies them in the same transaction, before the rest.
"""

from __future__ import annotations

from typing import Any

from shared.db import Conn
from shared.events.members import PartyOrgDefined
from shared.inbox import Apply, BulkPath, Incoming
from shared.projections import later


async def upsert(conn: Conn, items: list[Incoming]) -> None:
    if not items:
        return
    rows = [
        (
            i.data.party_org_id,
            i.data.name,
            i.data.parent_id,
            i.event.time,
            i.event.source,
            i.event.id,
        )
        for i in items
    ]
    await conn.executemany(
        f"""INSERT INTO party_orgs AS o (party_org_id, name, parent_id, def_time, def_source, def_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (party_org_id) DO UPDATE SET name = excluded.name,
               parent_id = excluded.parent_id, def_time = excluded.def_time,
               def_source = excluded.def_source, def_id = excluded.def_id
           WHERE {later("excluded", "o", "def")}""",
        rows,
    )


class _WithPartyOrgs:
    def __init__(self, apply: Apply) -> None:
        self.apply = apply
        # the set-based path takes batches of activity.logged only, never an organisation
        self.bulk: BulkPath | None = getattr(apply, "bulk", None)

    async def __call__(self, conn: Conn, events: list[Incoming]) -> None:
        orgs = [e for e in events if isinstance(e.data, PartyOrgDefined)]
        await upsert(conn, orgs)
        rest = [e for e in events if not isinstance(e.data, PartyOrgDefined)]
        if rest or not orgs:
            await self.apply(conn, rest)


def with_party_orgs(apply: Apply) -> Apply:
    """`apply` with the organisation events taken out first; keeps its set-based `bulk`."""
    return _WithPartyOrgs(apply)


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
