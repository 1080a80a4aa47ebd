"""SQL of the members service (asyncpg), one module per concept: `party_orgs`, `members`
(the registry, 双报到 reports and the lists built on them), `units` (resident units and their
agreements), `imports` (bulk import jobs), `evaluation` (the two-way evaluation of units and
the points projection), and `common` (the connection type and the projection of the region
tree). Every function takes a connection that the caller holds inside its one transaction;
nothing here commits or decides business rules."""
