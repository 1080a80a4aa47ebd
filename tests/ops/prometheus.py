"""A real Prometheus (Debian's package) for the live tests: started on a free port with the
project's alert rules, scraping given targets every second, queried through its HTTP API."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from dev.embedded import free_port
from dev.monitoring import ensure_tool, prometheus_command, prometheus_config

# Grafana's interval variables, replaced by a window holding several 1 s scrapes.
GRAFANA_INTERVALS = ("$__rate_interval", "$__interval", "$__range")


@contextlib.contextmanager
def running_prometheus(targets: list[str], workdir: Path) -> Iterator[str]:
    """Start Prometheus scraping `targets` (host:port) every second, evaluating the alert rules
    every second; yield its base URL."""
    binary = ensure_tool("prometheus")
    config = workdir / "prometheus.yml"
    config.write_text(
        json.dumps(prometheus_config(targets, scrape_interval="1s", evaluation_interval="1s"))
    )
    port = free_port()
    log_path = workdir / "prometheus.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            prometheus_command(binary, config, workdir / "tsdb", port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


async def query(http: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    """The result of an instant query; raises AssertionError on a PromQL error."""
    r = await http.get("/api/v1/query", params={"query": expr})
    body = r.json()
    assert body.get("status") == "success", f"{expr}: {body.get('error', r.text)}"
    result = body["data"]["result"]
    return result if isinstance(result, list) else [result]


def grafana_expr(expr: str, window: str = "15s") -> str:
    for variable in GRAFANA_INTERVALS:
        expr = expr.replace(variable, window)
    return expr
