"""Changing a scoring rule (docs/design.md §4.1): a new version, or a correction of one with a
note saying why, and the exact re-evaluation of the buckets it affects, with the same helpers
that apply a batch of events."""

from __future__ import annotations

import asyncpg

from shared.db import Conn
from shared.refusals import invalid

from .. import persistence as db
from ..domain.points import RuleChange
from ..domain.rules import MEMBER_REPORTED, InvalidRule, Rule, validate_rule
from ..metrics import observe_applied
from ..persistence import rules as rules_history
from .apply import propagate, recompute_buckets, recompute_reports


async def change_rule(pool: asyncpg.Pool, rule: Rule, note: str | None, source: str) -> RuleChange:
    """Add a rule version in its own transaction and re-evaluate what it affects; the points
    metrics move only once it committed, so a rolled-back change counts nothing."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            change = await add_rule_version(conn, rule, note, source)
    except InvalidRule as exc:
        raise invalid("invalid_rule", str(exc), field=exc.field, rule=str(exc)) from None
    observe_applied(change.outcome)
    return change


async def add_rule_version(conn: Conn, rule: Rule, note: str | None, source: str) -> RuleChange:
    """Add a rule version (a new revision; a correction of an existing version needs a note)
    and re-evaluate exactly the buckets with events at or after its
    effective_from, in the caller's transaction (the caller counts `outcome` in the metrics
    after its commit). Holds the rules lock exclusively, so no batch is scored meanwhile."""
    validate_rule(rule)
    await db.lock_rules(conn, exclusive=True)
    # never overwritten: at an existing (type, effective_from) it is a correction, which says why
    corrects = await rules_history.in_force(conn, rule)
    if corrects is not None and not (note and note.strip()):
        raise invalid(
            "note_required",
            f"a {rule.activity_type} version from {rule.effective_from.isoformat()} exists; "
            "a correction of it needs a note saying why",
            field="note",
            rule="a non-empty note",
        )
    await rules_history.append(conn, rule, note, corrects)
    rules = await db.load_rules(conn)
    rows = await db.ledger_months_from(conn, rule.activity_type, rule.effective_from)
    member_ids = sorted({member for member, _ in rows})
    members = await db.lock_members(conn, member_ids)
    locations = {m: row.location for m, row in members.items()}
    if rule.activity_type == MEMBER_REPORTED:
        changes = await recompute_reports(
            conn, rules, {(member, int(month[:4])) for member, month in rows}
        )
    else:
        dirty = {(member, month, rule.activity_type) for member, month in rows}
        changes = await recompute_buckets(conn, rules, {}, dirty)
    outcome = await propagate(conn, changes, locations, source)
    return RuleChange(rule, len(changes), len({k[0] for k in changes}), outcome)
