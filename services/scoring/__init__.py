"""Scoring: members' quantified points (党员量化积分) and live rankings of members,
grids, communities and streets, kept up to date from events (docs/design.md §4)."""
