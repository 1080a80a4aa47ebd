"""Events of the grids service beyond region.defined (grid staff, visits, incidents)."""
