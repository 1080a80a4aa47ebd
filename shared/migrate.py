"""Apply a service's database migrations and exit: `python -m shared.migrate [service]`.

Every service also migrates at start-up (under an advisory lock, so this is safe to run at the
same time); running it first as its own step means a new version's schema is in place before
any replica of that version takes traffic (the Kubernetes Deployments run it as an init
container). The service is the argument, else `SERVICE_NAME`; the database is the one the
service itself would use (`<SERVICE>_DATABASE_URL`, else `partygrid_<service>` on
`DATABASE_URL`). Exit status 0 when the schema is current.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
from pathlib import Path

from .db import SHARED_MIGRATIONS, create_pool, ensure_database, migrate
from .logs import setup_logging
from .settings import SERVICE_PORTS, Settings

log = logging.getLogger(__name__)


def service_migrations(service: str) -> Path:
    """The migrations folder of `service` (`services/<service>/migrations`)."""
    if service not in SERVICE_PORTS:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICE_PORTS)}")
    package = importlib.import_module(f"services.{service}")
    assert package.__file__ is not None
    return Path(package.__file__).parent / "migrations"


async def migrate_service(settings: Settings) -> list[str]:
    """Create the service's database if missing and apply its pending migrations; return the
    names applied (empty when the schema was already current)."""
    folder = service_migrations(settings.service_name)
    url = settings.service_database_url
    await ensure_database(url)
    pool = await create_pool(url, max_size=2)
    try:
        return await migrate(pool, SHARED_MIGRATIONS, folder)
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    settings = Settings(service_name=args[0]) if args else Settings()
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    try:
        applied = asyncio.run(migrate_service(settings))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    log.info("%s schema current (%d migrations applied now)", settings.service_name, len(applied))
    return 0


if __name__ == "__main__":
    sys.exit(main())
