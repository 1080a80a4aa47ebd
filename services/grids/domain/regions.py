"""Rules of the region tree (district → street → community → grid → building), without I/O.

The API and the CSV import are strict: a change is accepted only if the tree stays whole (the
parent exists and is one level up, no cycle, no live child under a retired region). Events from
outside systems are looser by necessity — they may deliver children before parents — so the
handler stores them and the read side flags orphans instead (see migrations/0001_grids.sql).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shared.events.types import ID_PATTERN, REGION_LEVEL_ORDER, RegionLevel
from shared.refusals import Kind

_ID = re.compile(ID_PATTERN)
CSV_COLUMNS = ("region_id", "level", "name", "parent_id")
CSV_OPTIONAL = ("retired",)
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


def depth(level: RegionLevel | str) -> int:
    """0 for a district … 4 for a building."""
    return REGION_LEVEL_ORDER.index(RegionLevel(level))


def parent_level(level: RegionLevel | str) -> RegionLevel | None:
    d = depth(level)
    return REGION_LEVEL_ORDER[d - 1] if d > 0 else None


@dataclass(frozen=True)
class Node:
    """One region as the rules see it."""

    region_id: str
    level: RegionLevel
    name: str
    parent_id: str | None
    retired: bool = False


@dataclass(frozen=True)
class Violation:
    """A broken rule: `rule` is a short machine code, `message` says what is accepted."""

    rule: str
    message: str
    region_id: str | None = None
    field: str | None = None
    line: int | None = None

    def as_detail(self) -> dict[str, object]:
        detail: dict[str, object] = {"rule": self.rule, "message": self.message}
        for key in ("region_id", "field", "line"):
            value = getattr(self, key)
            if value is not None:
                detail[key] = value
        return detail


# What sort of refusal each rule is: a conflict with the current tree, or an invalid request.
RULE_KIND: dict[str, Kind] = {
    "duplicate_code": Kind.CONFLICT,
    "has_children": Kind.CONFLICT,
    "cycle": Kind.CONFLICT,
    "unknown_parent": Kind.INVALID,
    "retired_parent": Kind.INVALID,
    "level_order": Kind.INVALID,
    "malformed_row": Kind.INVALID,
    "level_change": Kind.INVALID,
}


def check_placement(node: Node, tree: Mapping[str, Node]) -> list[Violation]:
    """Check `node` against the (already updated) tree: parent exists, is live, is exactly one
    level up, and following parents from `node` never comes back to it."""
    problems: list[Violation] = []
    expected = parent_level(node.level)
    if expected is None:
        if node.parent_id is not None:
            problems.append(
                Violation("level_order", "a district has no parent", node.region_id, "parent_id")
            )
        return problems
    if node.parent_id is None:
        problems.append(
            Violation(
                "level_order",
                f"a {node.level.value} needs a parent {expected.value}",
                node.region_id,
                "parent_id",
            )
        )
        return problems
    # cycle first: it is the most telling message for a move under one's own descendant
    seen = {node.region_id}
    cursor = tree.get(node.parent_id)
    while cursor is not None:
        if cursor.region_id in seen:
            problems.append(
                Violation(
                    "cycle",
                    f"{node.parent_id} lies inside {node.region_id}'s own subtree; "
                    "a region cannot be moved under itself or its descendants",
                    node.region_id,
                    "parent_id",
                )
            )
            return problems
        seen.add(cursor.region_id)
        cursor = tree.get(cursor.parent_id) if cursor.parent_id else None
    parent = tree.get(node.parent_id)
    if parent is None:
        problems.append(
            Violation(
                "unknown_parent",
                f"parent {node.parent_id} does not exist; create it first",
                node.region_id,
                "parent_id",
            )
        )
    elif parent.level is not expected:
        problems.append(
            Violation(
                "level_order",
                f"a {node.level.value} must sit under a {expected.value}, "
                f"but {parent.region_id} is a {parent.level.value}",
                node.region_id,
                "parent_id",
            )
        )
    elif parent.retired and not node.retired:
        problems.append(
            Violation(
                "retired_parent",
                f"parent {parent.region_id} is retired; choose a live parent",
                node.region_id,
                "parent_id",
            )
        )
    return problems


@dataclass
class CsvRow:
    line: int
    node: Node


@dataclass
class CsvParse:
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[Violation] = field(default_factory=list)


def parse_csv(text: str, *, max_rows: int = 100_000) -> CsvParse:
    """Parse an import file: a header with region_id,level,name,parent_id (and optionally
    retired), one region per line. Line numbers count the header as line 1."""
    result = CsvParse()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        result.problems.append(Violation("malformed_row", "the file is empty", line=1))
        return result
    except csv.Error as exc:
        result.problems.append(Violation("malformed_row", f"unreadable header: {exc}", line=1))
        return result
    columns = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in CSV_COLUMNS + CSV_OPTIONAL]
    if missing or unknown:
        result.problems.append(
            Violation(
                "malformed_row",
                f"the header must name the columns {', '.join(CSV_COLUMNS)} (optionally "
                f"retired); missing: {missing or 'none'}, unknown: {unknown or 'none'}",
                line=1,
            )
        )
        return result
    seen: dict[str, int] = {}
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(
                Violation("malformed_row", f"unreadable row: {exc}", line=reader.line_num)
            )
            break
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(result.rows) >= max_rows:
            result.problems.append(
                Violation("malformed_row", f"at most {max_rows} rows per import", line=line)
            )
            break
        if len(values) != len(columns):
            result.problems.append(
                Violation(
                    "malformed_row",
                    f"expected {len(columns)} fields, got {len(values)}",
                    line=line,
                )
            )
            continue
        row = {c: v.strip() for c, v in zip(columns, values, strict=True)}
        row_problems = _row_problems(row, line)
        if row_problems:
            result.problems.extend(row_problems)
            continue
        region_id = row["region_id"]
        if region_id in seen:
            result.problems.append(
                Violation(
                    "duplicate_code",
                    f"region {region_id} appears twice in the file (first on line "
                    f"{seen[region_id]})",
                    region_id,
                    "region_id",
                    line,
                )
            )
            continue
        seen[region_id] = line
        node = Node(
            region_id=region_id,
            level=RegionLevel(row["level"]),
            name=row["name"],
            parent_id=row["parent_id"] or None,
            retired=row.get("retired", "").lower() in _TRUE,
        )
        result.rows.append(CsvRow(line, node))
    return result


def _row_problems(row: dict[str, str], line: int) -> list[Violation]:
    problems = []
    if not _ID.match(row["region_id"]):
        problems.append(
            Violation(
                "malformed_row",
                "region_id must be 1-64 characters of [A-Za-z0-9_.-]",
                field="region_id",
                line=line,
            )
        )
    if row["level"] not in {lv.value for lv in RegionLevel}:
        problems.append(
            Violation(
                "malformed_row",
                f"level {row['level']!r} is not one of "
                + ", ".join(lv.value for lv in RegionLevel),
                field="level",
                line=line,
            )
        )
    if not row["name"] or len(row["name"]) > 200:
        problems.append(
            Violation("malformed_row", "name must be 1-200 characters", field="name", line=line)
        )
    if row["parent_id"] and not _ID.match(row["parent_id"]):
        problems.append(
            Violation(
                "malformed_row",
                "parent_id must be empty or 1-64 characters of [A-Za-z0-9_.-]",
                field="parent_id",
                line=line,
            )
        )
    if row.get("retired", "").lower() not in _TRUE | _FALSE:
        problems.append(
            Violation("malformed_row", "retired must be true or false", field="retired", line=line)
        )
    return problems


def check_import(rows: list[CsvRow], current: Mapping[str, Node]) -> list[Violation]:
    """Check a whole import against the tree it would produce (rows may come in any order:
    a child may precede its parent in the file). Levels of existing regions do not change."""
    tree: dict[str, Node] = dict(current)
    problems: list[Violation] = []
    for row in rows:
        old = current.get(row.node.region_id)
        if old is not None and old.level is not row.node.level:
            problems.append(
                Violation(
                    "level_change",
                    f"region {old.region_id} is a {old.level.value}; its level cannot change "
                    "(retire it and create a new region instead)",
                    old.region_id,
                    "level",
                    row.line,
                )
            )
        tree[row.node.region_id] = row.node
    for row in rows:
        for v in check_placement(row.node, tree):
            problems.append(Violation(v.rule, v.message, v.region_id, v.field, row.line))
        if row.node.retired:
            problems.extend(
                Violation(
                    "has_children",
                    f"region {row.node.region_id} cannot be retired while {child.region_id} "
                    "under it is live",
                    row.node.region_id,
                    "retired",
                    row.line,
                )
                for child in live_children(row.node.region_id, tree)
            )
    return problems


def live_children(region_id: str, tree: Mapping[str, Node]) -> list[Node]:
    return sorted(
        (n for n in tree.values() if n.parent_id == region_id and not n.retired),
        key=lambda n: n.region_id,
    )


def later_version(new: tuple[datetime, str, str], old: tuple[datetime, str, str] | None) -> bool:
    """Latest by (time, source, id) wins (docs/design.md §3.3)."""
    return old is None or new > old


@dataclass(frozen=True)
class Region:
    """A region as it is read back: its place in the tree, what the read side flags (orphan:
    its parent is unknown; misplaced: its parent is not one level up) and the version that
    defined it last (the event's time and source)."""

    region_id: str
    level: RegionLevel
    name: str
    parent_id: str | None
    retired: bool
    orphan: bool
    misplaced: bool
    defined_at: datetime
    defined_by: str


@dataclass(frozen=True)
class RegionBelow(Region):
    """A region of a subtree, `distance` levels below the subtree's root."""

    distance: int


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did (or, in a dry run, would do): rows read, regions created, updated and
    left unchanged, and the regions written, parents first."""

    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    regions: tuple[str, ...]
