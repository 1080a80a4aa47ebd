"""One scoring service for a whole test module (starting one takes seconds: its consumer
joins the broker), emptied before each test, so every test still starts from nothing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import TEST_TOKENS, running_app, settings_for_test
from services.scoring.main import create_app

from .helpers import forget_rule_revisions

ORG_TOKEN = "test-party-org-token-0001"  # a Party organisation's own reader, for ORGP
COMMUNITY_ADMIN_TOKEN = "community-admin-token-0001"  # an admin of community C1 only
TOKENS = (
    f"{TEST_TOKENS},{ORG_TOKEN}:party_org:ORGP:机关党委,{COMMUNITY_ADMIN_TOKEN}:community_admin:C1"
)
# everything events and requests write; the default rule versions are kept
_TABLES = (
    "ledger, revocations, buckets, member_points, members, regions, region_members, "
    "region_points, score_counts, boards, periods, period_history, closed_members, "
    "closed_types, closed_regions, followups, party_orgs, inbox, audit_log"
)


@dataclass
class Scoring:
    app: Any
    client: httpx.AsyncClient
    bootstrap: str

    def as_(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {token}"},
        )


@pytest.fixture(scope="module")
async def service(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scoring]:
    broker = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("kafka") / "tansu.log")
    settings = settings_for_test(pg_server.url, broker.bootstrap, "scoring", api_tokens=TOKENS)
    try:
        async with contextlib.AsyncExitStack() as stack:
            app = create_app(settings)
            client = await stack.enter_async_context(running_app(app))
            yield Scoring(app, client, broker.bootstrap)
    finally:
        broker.stop()


@pytest.fixture
async def scoring(service: Scoring) -> Scoring:
    pool = service.app.state.runtime.pool
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"TRUNCATE {_TABLES}")
        await forget_rule_revisions(conn, "note IS DISTINCT FROM 'default'")
        await conn.execute("UPDATE org_life_rule SET every_quarter = true, max_absences = 0")
    return service
