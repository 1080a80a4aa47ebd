"""Pure rules of the grids service: the region tree and the incident life cycle (no I/O)."""
