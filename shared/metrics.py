"""Prometheus metrics: one registry per process, shared names for every service.

Label values are bounded: `type` is a known event type or "unknown", `reason` one of
`BadEvent.REASONS`, `service` one of the four services.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .events import EVENT_TYPES

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_APPLIED = Counter(
    "partygrid_events_applied_total",
    "Events applied for the first time, by type.",
    ["service", "type"],
    registry=REGISTRY,
)
EVENTS_DUPLICATE = Counter(
    "partygrid_events_duplicate_total",
    "Redelivered events (same source and id, same content) skipped, by type.",
    ["service", "type"],
    registry=REGISTRY,
)
EVENTS_DEADLETTERED = Counter(
    "partygrid_events_deadlettered_total",
    "Messages sent to the dead-letter topic, by type and reason.",
    ["service", "type", "reason"],
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "partygrid_consumer_batch_seconds",
    "Time to apply one consumed batch, database commit included.",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "partygrid_consumer_batch_size",
    "Messages per consumed batch.",
    ["service"],
    buckets=(1, 10, 50, 100, 500, 1000, 2500, 5000, 10000),
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "partygrid_consumer_lag",
    "Messages behind the partition's high watermark after the last batch.",
    ["service", "topic", "partition"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "partygrid_outbox_backlog",
    "Events recorded in the outbox and not yet published.",
    ["service"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_AGE = Gauge(
    "partygrid_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox event (0 when empty).",
    ["service"],
    registry=REGISTRY,
)
OUTBOX_PUBLISHED = Counter(
    "partygrid_outbox_published_total",
    "Events the outbox relay published, by topic.",
    ["service", "topic"],
    registry=REGISTRY,
)
# For alerting (deploy/prometheus/alerts.yml): what /readyz says, failed batches, and how fresh
# the newest applied event is.
SERVICE_READY = Gauge(
    "partygrid_service_ready",
    "1 when the service's /readyz checks pass (database, Kafka, consumer, outbox relay), else 0; "
    "evaluated at each scrape.",
    ["service"],
    registry=REGISTRY,
)
BATCH_FAILURES = Counter(
    "partygrid_consumer_batch_failures_total",
    "Consumed batches whose transaction failed: `handling` is one_by_one (retried one message "
    "per transaction) or reconsumed (database unreachable, the batch is consumed again).",
    ["service", "handling"],
    registry=REGISTRY,
)
NEWEST_APPLIED = Gauge(
    "partygrid_events_newest_applied_timestamp_seconds",
    "The CloudEvents time (Unix seconds) of the newest event this process has applied; no "
    "series before the first one.",
    ["service"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "partygrid_http_request_duration_seconds",
    "HTTP request latency by route template and status class.",
    ["service", "method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)


def type_label(event_type: str | None) -> str:
    return event_type if event_type in EVENT_TYPES else "unknown"
