"""schemathesis against every service's OpenAPI (docs/design.md §5.4): generated
requests, valid and invalid, sent to each app with its lifespan started on a real
database and a real broker, as a city admin. No answer may be a 5xx, every answer's status must
be documented and its body must match the documented schema.

Each service's schema is read from its app at import (no I/O), so pytest lists one test per
operation. The apps that answer are started once per module with real settings and served by
uvicorn on a loopback port in a thread of this process. (schemathesis's own in-process ASGI
transport ends an app's lifespan after every test item, i.e. a 5 s restart per operation, and
its `from_fixture` loader does not run on pytest 9.) Bounded for CI: a fixed seed
(derandomize), at most 25 generated examples per operation plus the coverage phase's boundary
cases, no deadline: about 6,000 requests, ~50 s on 2 cores.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from dev.embedded import EmbeddedPostgres, free_port, start_kafka
from dev.testing import ADMIN_TOKEN, TEST_TOKENS
from services.activities.main import create_app as activities_app
from services.grids.main import create_app as grids_app
from services.members.main import create_app as members_app
from services.scoring.main import create_app as scoring_app
from shared.settings import Settings

SERVICES: dict[str, Callable[..., Any]] = {
    "members": members_app,
    "grids": grids_app,
    "activities": activities_app,
    "scoring": scoring_app,
}
# schemathesis's own strategies trip this Hypothesis warning; nothing the project can change
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CONFIG = schemathesis.Config.from_dict({})  # defaults: examples, coverage and fuzzing phases
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


class Served:
    """One app served by uvicorn on a loopback port, in a thread of this process, with its
    lifespan (database, migrations, broker, relay) running on that thread's event loop."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, lifespan="on", log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        self.session = requests.Session()
        # the app serves while it joins Kafka in the background; fuzz a consuming service
        while self.session.get(f"{self.base_url}/readyz").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not become ready")
            time.sleep(0.1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.session.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def live(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Served]]:
    """`live(service)`: that service served on a loopback port, started on first use on a real
    database and the module's tansu broker; all stopped at the end of the module."""
    kafka = start_kafka(free_port(), log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    served: dict[str, Served] = {}

    def serve(service: str) -> Served:
        if service not in served:
            served[service] = Served(
                SERVICES[service](
                    Settings(
                        service_name=service,
                        kafka_bootstrap_servers=kafka.bootstrap,
                        database_url=pg_server.url,
                        database_name=f"fz_{uuid.uuid4().hex[:10]}_{service}",
                        log_json=False,
                        log_level="WARNING",
                        consumer_batch_timeout_ms=20,
                        outbox_poll_seconds=0.2,
                        topic_partitions=2,
                        api_tokens=TEST_TOKENS,
                    )
                )
            )
        return served[service]

    try:
        yield serve
    finally:
        for s in served.values():
            s.stop()
        kafka.stop()


def _fuzz_test(service: str) -> Callable[..., None]:
    spec = SERVICES[service](Settings(service_name=service)).openapi()
    schema = schemathesis.openapi.from_dict(spec, config=CONFIG)

    @schema.parametrize()
    @FUZZ
    def test(case: schemathesis.Case, live: Callable[[str], Served]) -> None:
        app = live(service)
        case.call_and_validate(
            base_url=app.base_url, session=app.session, headers=AUTH, checks=CHECKS
        )

    test.__name__ = f"test_{service}_api"
    return test


test_members_api = _fuzz_test("members")
test_grids_api = _fuzz_test("grids")
test_activities_api = _fuzz_test("activities")
test_scoring_api = _fuzz_test("scoring")
