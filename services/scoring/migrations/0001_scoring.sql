-- Scoring keeps a ledger of the events it was given and, derived from it and kept up to date
-- incrementally, per-bucket totals, per-member period totals and per-region aggregates, so
-- that a read never recomputes a ranking from the ledger.

-- Rule versions (docs/design.md §4.1): the version in force at an event's time scores it.
CREATE TABLE rule_versions (
    version_id     bigserial PRIMARY KEY,
    activity_type  text NOT NULL,
    points         numeric(10,2) NOT NULL,
    per            text NOT NULL CHECK (per IN ('event', 'hour')),
    monthly_cap    numeric(10,2),
    effective_from timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    note           text,
    UNIQUE (activity_type, effective_from)
);
INSERT INTO rule_versions (activity_type, points, per, monthly_cap, effective_from, note) VALUES
    ('organization_life',        5, 'event', NULL, '1970-01-01T00:00:00Z', 'default'),
    ('theme_party_day',          5, 'event', NULL, '1970-01-01T00:00:00Z', 'default'),
    ('volunteer_service',        2, 'hour',  40,   '1970-01-01T00:00:00Z', 'default'),
    ('wish_fulfilled',           5, 'event', 20,   '1970-01-01T00:00:00Z', 'default'),
    ('service_post',             3, 'event', 15,   '1970-01-01T00:00:00Z', 'default'),
    ('grid_visit',               1, 'event', 10,   '1970-01-01T00:00:00Z', 'default'),
    ('study',                    1, 'event', 10,   '1970-01-01T00:00:00Z', 'default'),
    ('organization_life_absent', -2, 'event', NULL, '1970-01-01T00:00:00Z', 'default'),
    ('member_reported',          10, 'event', NULL, '1970-01-01T00:00:00Z', 'default');

-- Every activity.logged (kind 'activity') and member.reported (kind 'reported') received.
CREATE TABLE ledger (
    source        text NOT NULL,
    id            text NOT NULL,
    member_id     text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('activity', 'reported')),
    activity_type text NOT NULL,
    time          timestamptz NOT NULL,
    month         text NOT NULL,
    hours         numeric(6,2),
    revoked       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (source, id)
);
CREATE INDEX ledger_bucket ON ledger (member_id, month, activity_type);
CREATE INDEX ledger_type_time ON ledger (activity_type, time);

-- activity.revoked: kept even when its target has not arrived yet.
CREATE TABLE revocations (
    target_source text NOT NULL,
    target_id     text NOT NULL,
    member_id     text NOT NULL,
    PRIMARY KEY (target_source, target_id)
);

-- Points per member, month and activity type, with the key of the bucket's last entry so
-- events appended in time order extend the bucket without re-reading the ledger.
CREATE TABLE buckets (
    member_id     text NOT NULL,
    month         text NOT NULL,
    activity_type text NOT NULL,
    points        numeric(12,2) NOT NULL,
    events        integer NOT NULL,
    hours         numeric(10,2) NOT NULL,
    last_time     timestamptz,
    last_source   text,
    last_id       text,
    PRIMARY KEY (member_id, month, activity_type)
);

-- A member's total per period (month, quarter, half, year).
CREATE TABLE member_points (
    member_id text NOT NULL,
    period    text NOT NULL,
    points    numeric(12,2) NOT NULL,
    PRIMARY KEY (member_id, period)
);
CREATE INDEX member_points_rank ON member_points (period, points DESC, member_id);

-- What scoring knows about each member, from member.* events (latest by time, source, id).
CREATE TABLE members (
    member_id      text PRIMARY KEY,
    name           text,
    category       text,
    party_org_id   text,
    reg_time       timestamptz,
    reg_source     text,
    reg_id         text,
    deregistered   boolean NOT NULL DEFAULT false,
    status_time    timestamptz,
    status_source  text,
    status_id      text,
    community_id   text,
    grid_id        text,
    report_time    timestamptz,
    report_source  text,
    report_id      text,
    counted        boolean GENERATED ALWAYS AS (community_id IS NOT NULL AND NOT deregistered) STORED
);
CREATE INDEX members_community ON members (community_id, member_id) WHERE counted;
CREATE INDEX members_grid ON members (grid_id, member_id) WHERE counted;
CREATE INDEX members_party_org ON members (party_org_id);

CREATE TABLE regions (
    region_id  text PRIMARY KEY,
    level      text NOT NULL,
    name       text NOT NULL,
    parent_id  text,
    retired    boolean NOT NULL DEFAULT false,
    def_time   timestamptz NOT NULL,
    def_source text NOT NULL,
    def_id     text NOT NULL
);
CREATE INDEX regions_parent ON regions (parent_id, level);

-- Counted members per community / grid, and their points per period.
CREATE TABLE region_members (
    kind      text NOT NULL CHECK (kind IN ('community', 'grid')),
    region_id text NOT NULL,
    members   integer NOT NULL,
    PRIMARY KEY (kind, region_id)
);
CREATE TABLE region_points (
    kind      text NOT NULL CHECK (kind IN ('community', 'grid')),
    region_id text NOT NULL,
    period    text NOT NULL,
    total     numeric(14,2) NOT NULL,
    positive  integer NOT NULL,
    PRIMARY KEY (kind, region_id, period)
);

-- Red and black boards (红黑榜): drafted, reviewed, then published as an immutable snapshot.
CREATE TABLE boards (
    board_id     bigserial PRIMARY KEY,
    period       text NOT NULL,
    subject      text NOT NULL CHECK (subject IN ('members', 'communities')),
    size         integer NOT NULL,
    street_id    text,
    status       text NOT NULL CHECK (status IN ('draft', 'reviewed', 'published')),
    snapshot     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    reviewed_by  text,
    reviewed_at  timestamptz,
    published_at timestamptz
);

-- Newest event time applied (freshness).
CREATE TABLE scoring_state (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    newest_event   timestamptz
);
INSERT INTO scoring_state VALUES (true, NULL);
