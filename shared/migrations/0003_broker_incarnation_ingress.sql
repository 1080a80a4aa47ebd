-- The broker incarnation this service last published to (the marker record of
-- shared.incarnation). When the broker it talks to turns out to be a new one (a memory broker
-- restarted, a cluster rebuilt), every outbox row still retained is sent again; epoch counts
-- those changes so a relay step that straddles one does not mark its rows sent.
CREATE TABLE broker_incarnation (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    incarnation text NOT NULL,
    epoch      bigint NOT NULL DEFAULT 0,
    seen_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO broker_incarnation (incarnation) VALUES ('');

-- CloudEvents accepted over HTTP (POST /v1/events), keyed by source + id: a repeated POST of
-- the same event is answered without a second outbox row; the same id with other content is
-- a conflict.
CREATE TABLE ingress (
    source      text NOT NULL,
    id          text NOT NULL,
    type        text NOT NULL,
    digest      bytea NOT NULL,
    publisher   text NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, id)
);
