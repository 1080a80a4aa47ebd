"""`python -m tools.demo`: publish the demo city, then simulate until Ctrl-C (see the package's
description, printed by --help)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from pathlib import Path

from tools import demo

from .city import MEMBERS, say
from .load import load
from .simulate import simulate


async def _main(args: argparse.Namespace, data: Path | None) -> None:
    if args.partitions:
        from shared.kafka import ensure_topics

        await ensure_topics(args.bootstrap, args.partitions)
    city = await load(args.bootstrap, data, args.members, force=args.force)
    if args.load_only:
        return
    say(f"simulating {args.rate:g} events/s; Ctrl-C to stop")
    with contextlib.suppress(asyncio.CancelledError):
        await simulate(args.bootstrap, city, args.rate)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo",
        description=demo.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--data",
        default=".data",
        help="folder for the load marker and anchor ('' for none: always load)",
    )
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--rate", type=float, default=float(os.environ.get("DEMO_RATE", "20")))
    parser.add_argument("--load-only", action="store_true", help="publish the city and stop")
    parser.add_argument("--force", action="store_true", help="load even if the marker exists")
    parser.add_argument(
        "--partitions",
        type=int,
        default=0,
        help="create missing topics with this many partitions first",
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args, Path(args.data).resolve() if args.data else None))


if __name__ == "__main__":
    main()
