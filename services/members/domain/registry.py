"""How registered/deregistered events change a member's registry state (pure).

Two versions are kept per member: the registration whose fields (name, category, Party
organisation, joined date) are held, and the latest registered-or-deregistered event, which
decides whether the member is active. Both are "latest by (time, source, id) wins", so any
arrival order of the same set of events gives the same state.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from .rules import Version, newer


class RowLike(Protocol):
    """A database row or a dict: anything indexable by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


EVENT_FIELDS = ("name", "category", "party_org_id", "joined_on")


def version_of(row: RowLike | None, prefix: str) -> Version | None:
    if row is None:
        return None
    try:
        if row[f"{prefix}_time"] is None:
            return None
    except KeyError:
        return None
    return (row[f"{prefix}_time"], row[f"{prefix}_source"], row[f"{prefix}_event_id"])


def registration(
    current: RowLike | None,
    *,
    name: str,
    category: str,
    party_org_id: str,
    joined_on: date | None,
    version: Version,
) -> dict[str, Any]:
    """Column updates for a member.registered event (empty when it is older than both)."""
    updates: dict[str, Any] = {}
    if newer(version, version_of(current, "reg")):
        updates.update(
            name=name,
            category=category,
            party_org_id=party_org_id,
            joined_on=joined_on,
            reg_time=version[0],
            reg_source=version[1],
            reg_event_id=version[2],
        )
    if newer(version, version_of(current, "state")):
        updates.update(
            active=True,
            deregistered_reason=None,
            state_time=version[0],
            state_source=version[1],
            state_event_id=version[2],
        )
    return updates


def deregistration(current: RowLike | None, *, reason: str, version: Version) -> dict[str, Any]:
    """Column updates for a member.deregistered event (empty when a later event decided)."""
    if not newer(version, version_of(current, "state")):
        return {}
    return dict(
        active=False,
        deregistered_reason=reason,
        state_time=version[0],
        state_source=version[1],
        state_event_id=version[2],
    )


def event_fields_differ(current: RowLike, new: RowLike) -> bool:
    return any(current[f] != new[f] for f in EVENT_FIELDS)
