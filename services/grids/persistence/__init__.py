"""SQL of the grids service (asyncpg), one module per concept: `regions` (the region tree and
the grids or streets inside a region), `staff` (a grid's people and Party branch, coverage),
`members` (the members-by-grid projection), `visits`, `incidents`, `satisfaction` and
`visitduty`. Every function takes a connection that the caller runs inside its one transaction;
nothing here commits on its own.

The region and member projections are written by shared.projections, as in every service:
versions compare as (time, source, id) with source and id by code point.
"""
