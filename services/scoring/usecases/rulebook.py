"""Reading the scoring rules (docs/design.md §4.1): the rules in force now beside every
version, and the history of revisions. Changing them is `usecases.rules`. SQL in
`persistence.points` and `persistence.rules`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..domain.rulebook import RevisionEntry, RulesInForce, rules_in_force
from ..persistence import rules as rules_history
from ..persistence.points import load_rules, rule_authors


async def rules(pool: Any) -> RulesInForce:
    async with pool.acquire() as conn:
        book = await load_rules(conn)
        authors = await rule_authors(conn)
    return rules_in_force(book, authors, datetime.now(UTC))


async def history(pool: Any, activity_type: str | None) -> list[RevisionEntry]:
    """Every revision (of one type, if given), oldest first."""
    return await rules_history.revisions(pool, activity_type)
