"""The value the use cases of Party organisations (所属党组织) return: one organisation of the
tree."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.members import PartyOrgKind


@dataclass(frozen=True)
class PartyOrg:
    """A Party organisation, the kind of body it sits in, and its parent if it has one."""

    party_org_id: str
    name: str
    kind: PartyOrgKind
    parent_id: str | None
