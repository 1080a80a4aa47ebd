"""Grids: the region tree (district → street → community → grid → building), grid staff
(一网格一支部), members by grid, grid visits (入户走访) and incidents (事在网中办)."""
