"""The repository explains itself: every citation of docs/design.md names a section heading that
exists, nothing cites what a reader of the repository cannot see (issue numbers, documents
outside it), and the default rule table in the design equals what a new scoring database holds.

Citations have one form, `docs/design.md §N` or `docs/design.md §N.M` (several sections may
follow one path: `docs/design.md §1 and §3`); inside docs/design.md a bare `§N.M` refers to the
same document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import asyncpg

from shared.db import migrate
from shared.service import SHARED_MIGRATIONS
from shared.settings import with_database

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "design.md"
SCORING_MIGRATIONS = ROOT / "services" / "scoring" / "migrations"

# Not part of the repository's own text: version control, environments, caches, build output.
SKIP_DIRS = {
    ".git", ".venv", "venv", ".data", "__pycache__", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", ".hypothesis", "build", "dist", "node_modules",
}  # fmt: skip
SECTION = r"§(\d+(?:\.\d+)*)"
CITATION = re.compile(r"docs/design\.md((?:(?:,|,? and| or)? " + SECTION + r")+)")
HEADING = re.compile(r"^#{2,6} " + SECTION + r" ", re.MULTILINE)

# What a reader with only the repository cannot follow. Spelled in pieces so this file does not
# match itself.
FORBIDDEN = {
    "an issue number": re.compile(r"\bissues?\s*#?\d+", re.IGNORECASE),
    "an issue's note": re.compile(r"\bthe issue['’]?s? note", re.IGNORECASE),
    "a path outside the repository": re.compile(r"\.\./shared\b|/work/(?:shared|main|wt)\b"),
    "the outside design document": re.compile(r"\bDESIGN\.md\b"),
    "the old citation form (write docs/design.md §N)": re.compile(r"\bDESIGN" + r" §"),
    "an outside source document": re.compile(r"\bseeds?[ _/]0\d\d\b|\bseeds/", re.IGNORECASE),
}


def repository_text_files() -> Iterator[tuple[Path, str]]:
    """Every text file of the repository (binary files and files over 2 MB are skipped)."""
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for path in sorted(folder.iterdir()):
            if path.name in SKIP_DIRS:  # `.git` is a file in a git worktree
                continue
            if path.is_dir():
                if not path.name.endswith(".egg-info"):
                    stack.append(path)
                continue
            if not path.is_file() or path.stat().st_size > 2_000_000:
                continue
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue


def design_sections() -> set[str]:
    return set(HEADING.findall(DESIGN.read_text(encoding="utf-8")))


def cited_sections(text: str) -> Iterator[tuple[int, str]]:
    """(line number, section) of every citation of docs/design.md in `text`."""
    for match in CITATION.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        for section in re.findall(SECTION, match.group(1)):
            yield line, section


def test_every_citation_names_a_design_section_that_exists() -> None:
    sections = design_sections()
    cited: list[str] = []
    missing: list[str] = []
    for path, text in repository_text_files():
        for line, section in cited_sections(text):
            where = f"{path.relative_to(ROOT)}:{line} cites §{section}"
            cited.append(where)
            if section not in sections:
                missing.append(where)
    assert len(cited) >= 30, f"expected the code to cite the design; found only {cited}"
    assert not missing, (
        f"no such heading in docs/design.md (headings: {sorted(sections)}): {missing}"
    )


def test_design_references_inside_the_document_exist() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    sections = design_sections()
    body = HEADING.sub("", text)  # the headings themselves are not references
    referenced = set(re.findall(SECTION, body))
    assert referenced, "docs/design.md refers to none of its sections"
    assert referenced <= sections, f"docs/design.md refers to missing {referenced - sections}"


def test_design_section_numbers_are_unique() -> None:
    numbers = HEADING.findall(DESIGN.read_text(encoding="utf-8"))
    assert len(numbers) == len(set(numbers)), f"repeated section numbers: {numbers}"


def test_nothing_cites_issues_or_documents_outside_the_repository() -> None:
    found = []
    for path, text in repository_text_files():
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}: {match.group(0)!r}")
    assert not found, "the repository must stand on its own:\n" + "\n".join(found)


def test_readme_lists_the_documents_after_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert sections[:2] == ["Two commands", "Documents"], sections[:3]
    for target in ("docs/design.md", "docs/operations.md", "LICENSE"):
        assert f"]({target})" in readme, f"README does not link {target}"
        assert (ROOT / target).is_file(), target


def design_rule_table() -> dict[str, tuple[Decimal, str, Decimal | None]]:
    """The default rule table of docs/design.md §4.1: activity type → (points, per, cap)."""
    text = DESIGN.read_text(encoding="utf-8")
    start = text.index("### §4.1 ")
    section = text[start : text.index("\n### ", start + 1)]
    rows = re.findall(
        r"^\| `([a-z_]+)` \|[^|]*\| (-?[\d.]+) \| (event|hour) \| ([\d.]+|—) \|$",
        section,
        re.MULTILINE,
    )
    return {
        t: (Decimal(points), per, None if cap == "—" else Decimal(cap))
        for t, points, per, cap in rows
    }


async def test_default_rule_table_equals_the_migration_defaults(pg_server, db_name) -> None:
    documented = design_rule_table()
    admin = await asyncpg.connect(pg_server.url)
    await admin.execute(f'CREATE DATABASE "{db_name}"')
    await admin.close()
    pool = await asyncpg.create_pool(with_database(pg_server.url, db_name), min_size=1, max_size=2)
    assert pool is not None
    try:
        await migrate(pool, SHARED_MIGRATIONS, SCORING_MIGRATIONS)
        rows = await pool.fetch(
            "SELECT activity_type, points, per, monthly_cap, effective_from FROM rule_versions"
        )
    finally:
        await pool.close()
    seeded = {r["activity_type"]: (r["points"], r["per"], r["monthly_cap"]) for r in rows}
    assert len(rows) == len(seeded), "a new database holds one default version per type"
    assert {r["effective_from"].year for r in rows} == {1970}
    assert documented == seeded
