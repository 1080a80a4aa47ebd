"""`KAFKA_IDEMPOTENT_PRODUCER` switches the outbox relay's producer to an idempotent one
(enable_idempotence, acks=all) on a Kafka that offers it; off, the producer is the plain
acks=all one the embedded broker accepts. The setting must reach the producer itself."""

from __future__ import annotations

import pytest

from shared.kafka import create_producer
from shared.settings import Settings

ACKS_ALL = -1  # aiokafka's wire value for acks="all"


async def test_idempotent_producer_setting_reaches_the_relay_producer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_IDEMPOTENT_PRODUCER", "true")
    producer = create_producer(Settings(service_name="scoring"))
    # aiokafka keeps a transaction manager (producer id, sequence numbers) only when idempotent
    assert producer._txn_manager is not None
    assert producer._sender._acks == ACKS_ALL


async def test_producer_is_not_idempotent_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_IDEMPOTENT_PRODUCER", raising=False)
    producer = create_producer(Settings(service_name="scoring"))
    assert producer._txn_manager is None
    assert producer._sender._acks == ACKS_ALL
