"""Use cases of the grids service, one module per concept: `regions` (the region tree),
`staff` (a grid's people and Party branch), `grids` (reading grids, coverage, members by grid),
`visits`, `incidents`, `satisfaction` and `visitduty`; `context` holds what they share, and
`refresh` is what the clock does (flag overdue incidents, re-read the gauges).

Each use case of a request takes a `Context` (pool, caller, event source), runs in one transaction that also records
the events it causes, returns plain values and raises `shared.refusals.Refusal`, never an HTTP
error.
"""
