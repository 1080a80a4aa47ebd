"""The benchmark (`python -m bench`) still runs end to end: its --quick mode starts its own
PostgreSQL and broker, goes through every phase, and ends with the machine-readable line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.run import KEYS, pct, summary_line

ROOT = Path(__file__).resolve().parents[2]


def test_percentiles_and_summary_line() -> None:
    values = [float(v) for v in range(1, 101)]
    assert pct(values, 50) == 50.0
    assert pct(values, 99) == 99.0
    assert pct([], 99) == 0.0
    line = summary_line({"ingest_eps": 1234.5, "read_p99_ms": 3.25})
    assert line.startswith("ingest_eps=1234 kafka_ceiling_eps=nan")
    assert "read_p99_ms=3.2" in line


def test_quick_run_prints_every_figure() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    figures = dict(part.split("=", 1) for part in lines[-1].split())
    assert tuple(figures) == KEYS, lines[-1]
    for key, value in figures.items():
        assert float(value) > 0, f"{key}={value}"
    assert any(ln.startswith("ingest: ") for ln in lines)
    # where the set-based path's time went, from the service's own step histogram
    for phase in ("ingest", "freshness"):
        assert any(
            ln.startswith(f"{phase}: the set-based path's steps") and "propagate" in ln
            for ln in lines
        ), phase
    assert any("member's own rank" in ln for ln in lines)
