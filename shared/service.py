"""The skeleton every service is built from: `create_service_app` wires a FastAPI app, a
FastStream broker with the service's router, the database (own database, migrations), the
inbox consumer and the outbox relay, plus /healthz, /readyz, /metrics and the service's event
contract (/asyncapi.json, /asyncapi: AsyncAPI 3 generated from the broker, see shared.asyncapi).

A service's `main.create_app()` is its explicit wiring point; nothing happens at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from faststream.kafka import KafkaBroker, KafkaRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .api import install_error_handlers, install_no_secrets_in_urls, install_request_metrics
from .asyncapi import (
    asyncapi_document,
    declare_publishers,
    document_inbox,
    published_topics,
    render_html,
)
from .audit import install_audit
from .audit_api import router as audit_router
from .auth import TokenStore
from .db import SHARED_MIGRATIONS, create_pool, ensure_database, migrate
from .deadletters_api import router as dead_letters_router
from .inbox import Apply, InboxConsumer
from .incarnation import BrokerWatch, create_topics
from .ingress import router as ingress_router
from .kafka import (
    ConsumerSlot,
    add_inbox_subscriber,
    create_broker,
    create_producer,
)
from .links import LinkSigner
from .logs import setup_logging
from .metrics import REGISTRY, SERVICE_READY
from .oidc import OidcConfig, OidcVerifier
from .outbox import OutboxRelay, kafka_batch_publisher
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ServiceDefinition:
    """What makes one service: its name, its API, what it consumes and how it applies it."""

    name: str
    title: str
    description: str
    migrations: Path
    api: Sequence[APIRouter] = ()
    consumes: Sequence[str] = ()
    # event types the service sends through its outbox (dead letters are added when it consumes)
    publishes: Sequence[str] = ()
    apply: Apply | None = None
    extra_subscribers: Callable[[KafkaRouter, Runtime], None] | None = None
    on_start: Callable[[Runtime], Awaitable[None]] | None = None
    on_stop: Callable[[Runtime], Awaitable[None]] | None = None
    # serves browser pages (the ranking board): accepts their signed links and session cookies
    pages: bool = False


@dataclass
class Runtime:
    """Everything a running service holds; `app.state.runtime`."""

    settings: Settings
    broker: KafkaBroker
    router: KafkaRouter
    slot: ConsumerSlot = field(default_factory=ConsumerSlot)
    pool: asyncpg.Pool | None = None
    relay: OutboxRelay | None = None
    producer: AIOKafkaProducer | None = None
    watch: BrokerWatch | None = None
    ready: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


def create_service_app(definition: ServiceDefinition, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service_name=definition.name)
    if settings.service_name != definition.name:
        settings = settings.model_copy(update={"service_name": definition.name})
    broker = create_broker(settings)
    router = KafkaRouter()
    runtime = Runtime(settings=settings, broker=broker, router=router)
    if definition.consumes:
        add_inbox_subscriber(router, settings, definition.consumes, runtime.slot)
        document_inbox(router.subscribers[-1])
    declare_publishers(
        router, settings.service_name, published_topics(definition.consumes, definition.publishes)
    )
    if definition.extra_subscribers:
        definition.extra_subscribers(router, runtime)
    broker.include_router(router)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        setup_logging(settings.service_name, settings.log_level, settings.log_json)
        url = settings.service_database_url
        await ensure_database(url)
        runtime.pool = await create_pool(url, max_size=settings.db_pool_max)
        await migrate(runtime.pool, SHARED_MIGRATIONS, definition.migrations)
        if definition.apply is not None:
            runtime.slot.consumer = InboxConsumer(
                runtime.pool,
                definition.apply,
                service=settings.service_name,
                source=settings.source,
            )
        if definition.on_start:
            await definition.on_start(runtime)
        # Kafka is joined in the background: the HTTP API (reads from the service's own
        # database) serves while the broker is away or the consumer group is still being
        # joined, and a service started during a broker outage waits for it instead of exiting.
        connecting = asyncio.create_task(
            connect_kafka(runtime), name=f"kafka-connect-{settings.service_name}"
        )
        log.info("%s serving on port %d; connecting to Kafka", settings.service_name, settings.port)
        try:
            yield
        finally:
            runtime.ready = False
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
            if definition.on_stop:
                await definition.on_stop(runtime)
            if runtime.watch is not None:
                await runtime.watch.stop()
            if runtime.relay is not None:
                await runtime.relay.stop()
            if runtime.producer is not None:
                await runtime.producer.stop()
            await broker.stop()
            await runtime.pool.close()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.tokens = TokenStore(settings.api_tokens, settings.api_tokens_file)
    app.state.oidc = oidc_verifier(settings)
    app.state.links = (
        LinkSigner(settings.link_secret, settings.link_minutes, settings.board_session_hours)
        if definition.pages
        else None
    )
    install_error_handlers(app)
    install_request_metrics(app, settings.service_name)
    install_no_secrets_in_urls(app)
    install_audit(app)  # outermost: it also records requests refused by the checks above

    @app.get("/healthz", tags=["operations"], summary="Alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": settings.service_name}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Connected to Kafka and the database",
        responses={503: {"description": "Not ready: the checks say what is missing."}},
    )
    async def readyz() -> JSONResponse:
        checks = await readiness(runtime)
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics(_: Request) -> Response:
        # the same checks as /readyz, so an alert sees what a load balancer sees
        SERVICE_READY.labels(settings.service_name).set(all((await readiness(runtime)).values()))
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    generated: dict[str, Any] = {}

    def contract() -> dict[str, Any]:
        # generated from the broker on first request (the broker does not change afterwards)
        if not generated:
            generated.update(asyncapi_document(app))
        return generated

    @app.get("/asyncapi.json", tags=["operations"], summary="Event contract (AsyncAPI 3)")
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(contract())

    @app.get("/asyncapi", tags=["operations"], summary="Event contract, readable page")
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(render_html(contract()))

    app.state.accepts = frozenset(definition.consumes)
    if definition.consumes:  # CloudEvents over HTTP, for the types this service consumes
        app.include_router(ingress_router)
    for api in definition.api:
        app.include_router(api)
    app.include_router(dead_letters_router)  # every service lists and re-publishes its own
    app.include_router(audit_router)  # and shows its own audit trail
    return app


def oidc_verifier(settings: Settings) -> OidcVerifier | None:
    """The identity provider's JWT verifier, or None when none is configured."""
    given = (settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url)
    if not any(given):
        return None
    if not all(given):
        raise ValueError("set all of OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL, or none")
    assert settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url
    return OidcVerifier(
        OidcConfig(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks_url=settings.oidc_jwks_url,
            role_claim=settings.oidc_role_claim,
            scope_claim=settings.oidc_scope_claim,
            name_claim=settings.oidc_name_claim,
            clock_skew_seconds=settings.oidc_clock_skew_seconds,
            jwks_cache_seconds=settings.oidc_jwks_cache_seconds,
            jwks_min_refresh_seconds=settings.oidc_jwks_min_refresh_seconds,
        )
    )


async def connect_kafka(runtime: Runtime, max_delay: float = 15.0) -> None:
    """Create the topics, start the broker (subscribers join their group), the outbox relay's
    producer and the broker watch (shared.incarnation), retrying with backoff until the broker
    answers; then mark ready."""
    settings = runtime.settings
    assert runtime.pool is not None
    delay = 0.5
    while True:
        producer = create_producer(settings)
        watch: BrokerWatch | None = None
        try:
            await create_topics(
                settings.kafka_bootstrap_servers,
                settings.topic_partitions,
                settings.topic_replication_factor,
            )
            await runtime.broker.start()
            await producer.start()
            # which broker is this? sent events it lost are marked unsent before the relay runs
            watch = BrokerWatch(
                runtime.pool,
                producer,
                bootstrap=settings.kafka_bootstrap_servers,
                partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication_factor,
                service=settings.service_name,
                consumers=lambda: [
                    c for s in runtime.broker.subscribers if (c := getattr(s, "consumer", None))
                ],
                check_seconds=settings.incarnation_check_seconds,
            )
            await watch.start()
            break
        except Exception as exc:  # unreachable or not ready yet: keep serving, try again
            log.warning(
                "Kafka at %s not reachable (%s); retrying in %.1f s",
                settings.kafka_bootstrap_servers,
                exc,
                delay,
            )
            if watch is not None:
                await watch.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await runtime.broker.stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
    runtime.producer = producer
    runtime.watch = runtime.slot.watch = watch
    runtime.relay = OutboxRelay(
        runtime.pool,
        kafka_batch_publisher(producer),
        service=settings.service_name,
        batch=settings.outbox_batch,
        poll_seconds=settings.outbox_poll_seconds,
        retention_hours=settings.outbox_retention_hours,
    )
    runtime.relay.start()
    runtime.ready = True
    log.info("%s ready: consuming and publishing", settings.service_name)


async def readiness(runtime: Runtime) -> dict[str, bool]:
    checks = {"started": runtime.ready, "database": False, "kafka": False, "outbox_relay": False}
    if runtime.pool is not None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                checks["database"] = await runtime.pool.fetchval("SELECT 1") == 1
    with contextlib.suppress(Exception):
        checks["kafka"] = bool(await runtime.broker.ping(timeout=2.0))
    checks["outbox_relay"] = runtime.relay is not None and runtime.relay.running
    subscribers = list(runtime.broker.subscribers)
    if subscribers:
        checks["consuming"] = all(getattr(s, "running", True) for s in subscribers)
    return checks
