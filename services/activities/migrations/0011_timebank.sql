-- The time bank (时间银行): volunteer hours banked per account and spent on services a community
-- lists for hours, or given to another account.

-- One row per account; `balance` is changed only by the statements that also write the entry,
-- under the row's lock, so the entries of an account carry a true running balance.
CREATE TABLE timebank_accounts (
    account_id   text PRIMARY KEY,
    -- a member's account opens by itself with the first hours; a resident's is opened by the
    -- community (an elderly neighbour who receives hours, a resident who volunteers)
    kind         text NOT NULL CHECK (kind IN ('member', 'resident')),
    community_id text,
    balance      numeric(12, 2) NOT NULL DEFAULT 0,
    opened_at    timestamptz NOT NULL
);

-- Every movement, with the balance after it (the statement's running balance).
CREATE TABLE timebank_entries (
    seq          bigserial PRIMARY KEY,
    entry_id     text NOT NULL UNIQUE,
    account_id   text NOT NULL REFERENCES timebank_accounts,
    kind         text NOT NULL CHECK (kind IN ('earned', 'revoked', 'redeemed', 'given', 'received')),
    hours        numeric(12, 2) NOT NULL CHECK (hours <> 0),
    balance      numeric(12, 2) NOT NULL,
    at           timestamptz NOT NULL,
    community_id text,
    offer_id     text,
    counterpart  text,
    note         text,
    -- the activity.logged behind earned / revoked hours
    logged_source text,
    logged_id     text,
    CHECK ((kind IN ('earned', 'revoked')) = (logged_id IS NOT NULL))
);
CREATE INDEX timebank_entries_account ON timebank_entries (account_id, seq);
-- one credit and at most one take-back per volunteer record
CREATE UNIQUE INDEX timebank_entries_logged ON timebank_entries (logged_source, logged_id, kind)
    WHERE logged_id IS NOT NULL;

-- Revocations seen, so a volunteer record revoked before it arrived earns nothing when it does.
CREATE TABLE timebank_revocations (
    logged_source text NOT NULL,
    logged_id     text NOT NULL,
    received_at   timestamptz NOT NULL,
    PRIMARY KEY (logged_source, logged_id)
);

-- The catalogue: services a community offers for hours.
CREATE TABLE timebank_offers (
    offer_id     text PRIMARY KEY,
    community_id text NOT NULL,
    title        text NOT NULL,
    description  text,
    hours        numeric(8, 2) NOT NULL CHECK (hours > 0),
    status       text NOT NULL CHECK (status IN ('listed', 'withdrawn')),
    created_at   timestamptz NOT NULL,
    withdrawn_at timestamptz
);
CREATE INDEX timebank_offers_community ON timebank_offers (community_id, created_at);

-- Idempotency of redemptions and gifts: a retried request (same request_id) does nothing new.
CREATE TABLE timebank_requests (
    request_id text PRIMARY KEY,
    what       text NOT NULL,   -- what was asked, to tell a retry from a reuse with other content
    entry_id   text NOT NULL
);
