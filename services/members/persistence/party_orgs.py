"""SQL of Party organisations (所属党组织): the tree, its lookups by id or name."""

from __future__ import annotations

from collections.abc import Sequence

from shared.events.members import PartyOrgKind

from ..domain.party_orgs import PartyOrg
from .common import Conn, Row


def as_party_org(row: Row) -> PartyOrg:
    """The domain organisation of a row of `party_orgs`."""
    return PartyOrg(
        party_org_id=row["party_org_id"],
        name=row["name"],
        kind=PartyOrgKind(row["kind"]),
        parent_id=row["parent_id"],
    )


async def get_party_org(conn: Conn, party_org_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM party_orgs WHERE party_org_id = $1", party_org_id)


async def list_party_orgs(conn: Conn, parent_id: str | None = None) -> list[Row]:
    if parent_id is None:
        return await conn.fetch("SELECT * FROM party_orgs ORDER BY party_org_id")
    return await conn.fetch(
        "SELECT * FROM party_orgs WHERE parent_id = $1 ORDER BY party_org_id", parent_id
    )


async def party_org_ancestors(conn: Conn, party_org_id: str) -> list[str]:
    rows = await conn.fetch(
        """WITH RECURSIVE up(id, parent_id, depth) AS (
               SELECT party_org_id, parent_id, 0 FROM party_orgs WHERE party_org_id = $1
               UNION ALL
               SELECT p.party_org_id, p.parent_id, up.depth + 1
               FROM party_orgs p JOIN up ON p.party_org_id = up.parent_id WHERE up.depth < 50)
           SELECT id FROM up ORDER BY depth""",
        party_org_id,
    )
    return [r["id"] for r in rows]


async def upsert_party_org(
    conn: Conn, party_org_id: str, name: str, kind: str, parent_id: str | None
) -> None:
    await conn.execute(
        """INSERT INTO party_orgs (party_org_id, name, kind, parent_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (party_org_id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
               parent_id = excluded.parent_id, updated_at = now()""",
        party_org_id,
        name,
        kind,
        parent_id,
    )


async def resolve_party_orgs(conn: Conn, refs: Sequence[str]) -> dict[str, str]:
    """Map each reference (an id, or an organisation's exact and unique name) to its id."""
    rows = await conn.fetch(
        """SELECT k.ref, p.party_org_id FROM unnest($1::text[]) AS k(ref)
           JOIN party_orgs p ON p.party_org_id = k.ref
           UNION ALL
           SELECT k.ref, min(p.party_org_id) FROM unnest($1::text[]) AS k(ref)
           JOIN party_orgs p ON p.name = k.ref
           WHERE NOT EXISTS (SELECT 1 FROM party_orgs q WHERE q.party_org_id = k.ref)
           GROUP BY k.ref HAVING count(*) = 1""",
        list(set(refs)),
    )
    return {r["ref"]: r["party_org_id"] for r in rows}


async def party_org_subtree(conn: Conn, party_org_id: str) -> list[str]:
    rows = await conn.fetch(
        """WITH RECURSIVE down(id, depth) AS (
               SELECT party_org_id, 0 FROM party_orgs WHERE party_org_id = $1
               UNION ALL
               SELECT p.party_org_id, down.depth + 1 FROM party_orgs p
               JOIN down ON p.parent_id = down.id WHERE down.depth < 50)
           SELECT id FROM down""",
        party_org_id,
    )
    return [r["id"] for r in rows]


async def lock_party_org_tree(conn: Conn) -> None:
    """Serialise changes of the tree for the transaction, so two concurrent definitions cannot
    make a loop that each alone would not."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('party_orgs'))")
