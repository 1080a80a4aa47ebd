"""The activities service the rule-per-test modules share, started once for the package: a
broker, a fresh database, the region tree, members M0-M7 and units U1 (in COMMUNITY) and U2
(elsewhere) projected. Each test acts on its own wishes, posts or projects, so the tests do
not depend on each other or on their order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dev.embedded import EmbeddedPostgres

from .helpers import COMMUNITY, TOKENS, Service, serving

MEMBERS = [f"M{i}" for i in range(8)]  # registered members M0-M7


@pytest.fixture(scope="package")
async def service(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    tmp = tmp_path_factory.mktemp("activities")
    units = {"U1": COMMUNITY, "U2": "OTHER"}
    # twelve connections: ten simultaneous requests of the time bank tests, the relay, the consumer
    async with serving(
        pg_server, tmp, *MEMBERS, units=units, api_tokens=TOKENS, db_pool_max=12
    ) as running:
        yield running
