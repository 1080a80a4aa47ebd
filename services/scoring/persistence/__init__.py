"""SQL of the scoring service (asyncpg), one module per concept:

- points:   the ledger, buckets, member and region totals and rank counts the inbox use case
            maintains, the rules lock and the rule book, the member and region projections
- rules:    rules with a history (rule_revisions, the view rule_versions)
- live:     the read side over the maintained aggregates (rankings, a member's standing)
- closed:   the same questions answered from the figures frozen at a period's close
- periods:  period close (the snapshot), status and history, what arrived after the close
- orglife:  organisation life (组织生活) as a hard criterion: who missed it in a period
- partyorgs: the Party organisation tree kept from its events, and an organisation's subtree

Every function takes the connection (or pool) of the caller, inside the caller's transaction;
nothing here commits or decides business rules.
"""

# The inbox use case, the set-based path and the rebuild address the ledger SQL as
# `persistence.<name>`.
from .points import *  # noqa: F403
