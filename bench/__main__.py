"""`python -m bench [--quick] [--events N] ...`: run the benchmark, print progress, the results
side by side, and last a machine-readable line of key=value figures."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time

from .run import Options, run, say, summary_line

QUICK = dict(
    events=3000,
    members=400,
    read_members=20_000,
    replay_events=3000,
    naive_events=200,
    ledger_events=20_000,
    max_records=2000,
    fresh_rate=300,
    fresh_seconds=2.0,
    read_requests=30,
    read_time_cap=10.0,
)


def parse(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--events", type=int, help="activity.logged events for ingest (300,000)")
    p.add_argument("--members", type=int, help="members the events are about (20,000)")
    p.add_argument("--read-members", type=int, help="population for the reads (1,000,000)")
    p.add_argument("--replay-events", type=int, help="activity.logged replayed (2,000,000)")
    p.add_argument("--naive-events", type=int, help="events of the naive baseline (3,000)")
    p.add_argument("--ledger-events", type=int, help="ledger the rebuild runs on (10,000,000)")
    p.add_argument("--max-records", type=int, help="CONSUMER_MAX_RECORDS (10,000)")
    p.add_argument("--read-requests", type=int, help="requests per read endpoint (300)")
    p.add_argument(
        "--phases",
        help="comma-separated subset of: ceilings,ingest,freshness,reads,replay,rebuild (default all)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run, < 60 s")
    a = p.parse_args(argv)
    opts = Options(**QUICK) if a.quick else Options()  # type: ignore[arg-type]
    for name in (
        "events",
        "members",
        "read_members",
        "replay_events",
        "naive_events",
        "ledger_events",
        "max_records",
        "read_requests",
    ):
        value = getattr(a, name)
        if value is not None:
            setattr(opts, name, value)
    if a.phases:
        opts.phases = tuple(x.strip() for x in a.phases.split(",") if x.strip())
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    say(f"bench: {opts}")
    started = time.perf_counter()
    res = asyncio.run(run(opts))
    say("")
    say(f"=== results ({os.cpu_count()} cores, {time.perf_counter() - started:.0f}s in all) ===")
    for line in res.lines:
        say(line)
    say(summary_line(res.figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
