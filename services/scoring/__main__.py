"""`python -m services.scoring rebuild [--check]`: recompute scoring's derived tables from the
ledger (services.scoring.rebuild), printing progress, against the database the service uses
(SCORING_DATABASE_URL, or partygrid_scoring on DATABASE_URL)."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg

from shared.settings import Settings

from .rebuild import rebuild


async def _rebuild(url: str, check_only: bool) -> int:
    conn = await asyncpg.connect(url)
    try:
        report = await rebuild(conn, check_only=check_only)
    finally:
        await conn.close()
    differ = sum(report.differences.values())
    print(
        f"rebuild {'checked' if check_only else 'done'} in {report.seconds:.1f}s; "
        f"{differ:,} rows differed from the incrementally maintained tables"
    )
    return 1 if check_only and differ else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m services.scoring", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rebuild", help="recompute buckets, totals, aggregates from the ledger")
    r.add_argument(
        "--check",
        action="store_true",
        help="compare with the current tables and roll back (exit 1 if they differ)",
    )
    r.add_argument("--database-url", help="default: the scoring service's own database")
    a = p.parse_args(argv)
    url = a.database_url or Settings(service_name="scoring").service_database_url
    return asyncio.run(_rebuild(url, a.check))


if __name__ == "__main__":
    sys.exit(main())
