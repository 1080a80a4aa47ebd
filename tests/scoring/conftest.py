"""Fixtures of the scoring tests: one scoring service per module, emptied before each test."""

from .once import scoring, service  # noqa: F401 (fixtures)
