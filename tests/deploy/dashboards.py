"""Read the provisioned Grafana dashboards and the metric names their queries use.

docs/design.md §6 promises that every dashboard query names a metric the services really export; the
deploy tests check these names against the metric definitions, and a live test compares
`dashboard_metric_names()` with a running service's GET /metrics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = ROOT / "deploy" / "grafana" / "dashboards"
DASHBOARD_FILES = ("overview.json", "scoring.json", "members.json", "grids.json", "activities.json")

# Words of PromQL that look like identifiers but are not metric names.
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and",
     "or", "unless", "inf", "nan", "start", "end"}
)  # fmt: skip
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")
_IDENT = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?")


def metric_names_in(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (function names, keywords, label names,
    strings, durations and Grafana variables left out)."""
    text = _GRAFANA_VAR.sub(" ", expr)
    text = _STRING.sub('""', text)
    text = _MATCHERS.sub(" ", text)
    text = _BRACKETS.sub(" ", text)
    text = _LABEL_LIST.sub(" ", text)
    names: set[str] = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def load_dashboards() -> dict[str, dict[str, Any]]:
    """File name → parsed dashboard JSON, for every provisioned dashboard."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS_DIR.glob("*.json"))
    }


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def dashboard_exprs(model: dict[str, Any]) -> list[str]:
    """Every PromQL query of a dashboard: panel targets and query template variables."""
    exprs = [
        target["expr"]
        for panel in iter_panels(model.get("panels", []))
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
    for variable in model.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query" and isinstance(query, dict):
            query = query.get("query")
        if variable.get("type") == "query" and isinstance(query, str):
            exprs.append(_template_query_expr(query))
    return exprs


def _template_query_expr(query: str) -> str:
    # label_values(metric{...}, label) names a metric in its first argument only.
    match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query)
    if match:
        return match.group(1)
    match = re.fullmatch(r"\s*(?:query_result|metrics)\((.*)\)\s*", query)
    return match.group(1) if match else query


def dashboard_metrics_by_file() -> dict[str, set[str]]:
    """File name → metric names its queries use."""
    return {
        name: set().union(*(metric_names_in(e) for e in dashboard_exprs(model)))
        for name, model in load_dashboards().items()
    }


def dashboard_metric_names() -> set[str]:
    """Every metric name any provisioned dashboard query uses."""
    return set().union(*dashboard_metrics_by_file().values())


if __name__ == "__main__":
    for file_name, names in dashboard_metrics_by_file().items():
        print(file_name)
        for metric in sorted(names):
            print(f"  {metric}")
