"""A local Prometheus for `make run MONITORING=1` and the tests: find or install it, write its
configuration, build its command line.

Why here: the supervisor and the real-scrape test start the same Prometheus with the same
alert rules (deploy/prometheus/alerts.yml) the compose stack loads, so the configuration is
built in one place. Debian's `prometheus` package provides both `prometheus` and `promtool`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ALERT_RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
PROMETHEUS_PORT = 9090
JOB = "partygrid"  # the compose configuration's job name; alerts select up{job="partygrid"}


def find_tool(name: str) -> str | None:
    """`prometheus` or `promtool` on PATH or where Debian's package puts them."""
    found = shutil.which(name)
    if found:
        return found
    path = f"/usr/bin/{name}"
    return path if os.access(path, os.X_OK) else None


def ensure_tool(name: str) -> str:
    """The path of `prometheus` or `promtool`; installs Debian's `prometheus` package with
    apt-get when missing (as root), raises RuntimeError saying what to do otherwise."""
    found = find_tool(name)
    if found:
        return found
    from .testing import apt_install

    apt_install("prometheus")
    found = find_tool(name)
    if not found:
        raise RuntimeError(f"apt-get installed prometheus but no {name} binary was found")
    return found


def prometheus_config(
    targets: list[str],
    *,
    scrape_interval: str = "15s",
    evaluation_interval: str = "15s",
    rule_files: list[Path] | None = None,
) -> dict[str, Any]:
    """A Prometheus configuration scraping the services' /metrics at `targets` (host:port),
    evaluating the project's alert rules (no Alertmanager: alerts show on /alerts)."""
    return {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval if _seconds(scrape_interval) < 10 else "10s",
            "evaluation_interval": evaluation_interval,
        },
        "rule_files": [str(p) for p in (rule_files if rule_files is not None else [ALERT_RULES])],
        "scrape_configs": [
            {
                "job_name": JOB,
                "metrics_path": "/metrics",
                "scheme": "http",
                "static_configs": [{"targets": targets}],
            }
        ],
    }


def prometheus_command(binary: str, config: Path, data: Path, port: int) -> list[str]:
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if duration.endswith(suffix):
            return float(duration[: -len(suffix)]) * units[suffix]
    return float(duration)
