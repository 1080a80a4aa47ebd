-- Outbox: events a service decided to publish, written in the same transaction as the state
-- change that caused them; the relay publishes them in seq order and marks them sent.
CREATE TABLE outbox (
    seq        bigserial PRIMARY KEY,
    topic      text NOT NULL,
    key        bytea,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

-- Inbox: every CloudEvent (source, id) a consumer has applied, recorded in the same
-- transaction as its effect. digest tells a redelivery from a conflicting reuse of the id.
CREATE TABLE inbox (
    source      text NOT NULL,
    id          text NOT NULL,
    type        text NOT NULL,
    digest      bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, id)
);

-- Dead letters this service produced, kept for the dead-letter API (list, re-publish).
CREATE TABLE dead_letters (
    dl_id       bigserial PRIMARY KEY,
    reason      text NOT NULL,
    detail      text NOT NULL,
    topic       text NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL,
    event_type  text,
    event_source text,
    event_id    text,
    key         bytea,
    value       bytea,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    republished_at timestamptz
);
CREATE INDEX dead_letters_reason ON dead_letters (reason, dl_id);
-- A redelivered bad message is recorded once.
CREATE UNIQUE INDEX dead_letters_origin
    ON dead_letters (topic, kafka_partition, kafka_offset, md5(coalesce(value, ''::bytea)));
