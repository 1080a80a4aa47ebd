"""Use cases of the activities service, one module per concept: `activities`, `wishes`,
`posts`, `lists` (needs, resources, co-building projects), `meetings`, `satisfaction`,
`timebank` (accounts and offers) and `banking` (the ledger of volunteer hours). Each use case
is one database transaction: the state change and the events it causes are written together
(outbox); rules come from `domain`, SQL from `persistence`, and a refused request raises
`shared.refusals.Refusal` (no HTTP here). `base` holds the event and scope plumbing they
share, `checks` the community checks."""
