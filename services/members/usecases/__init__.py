"""Use cases of the members service, one module per concept: `party_orgs`, `members` (the
registry), `reports` (双报到 of members and the community lists built on it), `units`
(resident units and their 双报到), `agreements` (契约化共建), `imports` (bulk import from CSV)
and `evaluation` (the two-way evaluation of units, and the points projection it reads).

Each use case is one database transaction: the state change and the events it causes are
written together (outbox via shared.outbox). Rules come from `domain`, SQL from
`persistence`; the region scope of the caller's token is checked here, and a refused request
raises `shared.refusals.Refusal` (no HTTP here). `common` holds what they share.

Personal data (phone, ID number) is read and written here but never put into an event, an
error message or a log line.
"""
