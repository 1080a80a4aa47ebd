"""Scoring use cases, one module per concept: `apply` applies a batch of events, `rules`
changes a rule and re-evaluates what it affects, the others serve the read side and the
office's workflows (rankings, rule reads, periods, boards, adjustments, records, follow-ups),
returning the frozen values of `domain/`. Every one keeps the
derived tables (buckets, member period totals, region aggregates, rank counts) exactly equal
to a recomputation from the ledger."""

from ..domain.points import RuleChange
from .apply import apply_events, propagate, recompute_buckets, recompute_reports
from .rules import add_rule_version, change_rule

__all__ = [
    "RuleChange",
    "add_rule_version",
    "apply_events",
    "change_rule",
    "propagate",
    "recompute_buckets",
    "recompute_reports",
]
