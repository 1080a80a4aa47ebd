"""Scoring's copy of the tree of Party organisations, from partygrid.party_org.defined: the
half-yearly feedback of an organisation covers the members of its sub-organisations, and a
token scoped to an organisation reads the feedback of that subtree only.

Kept beside the scoring use case rather than in it: the wrapper takes the organisation events
out of each batch and applies them in the same transaction, before the rest.
"""

from __future__ import annotations

from shared.db import Conn
from shared.events.members import PartyOrgDefined
from shared.inbox import Apply, BulkPath, Incoming

from ..persistence import partyorgs as db


async def upsert(conn: Conn, items: list[Incoming]) -> None:
    """Each organisation's latest definition by (time, source, id) wins."""
    await db.upsert_party_orgs(
        conn,
        [
            (
                i.data.party_org_id,
                i.data.name,
                i.data.parent_id,
                i.event.time,
                i.event.source,
                i.event.id,
            )
            for i in items
        ],
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
