-- Members service: Party organisations, the member registry (with personal data, which never
-- leaves this database), 双报到 of members and units, co-building agreements, import jobs, and
-- a local projection of the region tree (from partygrid.region.defined).

CREATE TABLE party_orgs (
    party_org_id text PRIMARY KEY,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('organ', 'state_firm', 'school', 'hospital',
                     'non_public_firm', 'social_organisation', 'community')),
    parent_id    text REFERENCES party_orgs (party_org_id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX party_orgs_parent ON party_orgs (parent_id);

-- Projection of partygrid.region.defined; the latest event by (time, source, id) wins.
CREATE TABLE regions (
    region_id  text PRIMARY KEY,
    level      text NOT NULL,
    name       text NOT NULL,
    parent_id  text,
    retired    boolean NOT NULL DEFAULT false,
    ev_time    timestamptz NOT NULL,
    ev_source  text NOT NULL,
    ev_id      text NOT NULL
);

-- One row per member id. name IS NULL means the member is known only from a deregistration
-- that arrived before its registration (outside systems, any order).
-- reg_* is the version of the registration whose fields are held; state_* the version of the
-- latest registered/deregistered event, which decides `active`.
CREATE TABLE members (
    member_id            text PRIMARY KEY,
    name                 text,
    category             text CHECK (category IN ('in_service', 'resident', 'mobile', 'retired')),
    party_org_id         text,
    joined_on            date,
    skills               text[] NOT NULL DEFAULT '{}',
    phone                text,
    id_number            text UNIQUE,
    address_community_id text,
    active               boolean NOT NULL DEFAULT false,
    deregistered_reason  text,
    reg_time             timestamptz,
    reg_source           text,
    reg_event_id         text,
    state_time           timestamptz,
    state_source         text,
    state_event_id       text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_party_org ON members (party_org_id, category) WHERE active;
CREATE INDEX members_address ON members (address_community_id, category) WHERE active;

-- Every member.reported ever received or made: the reporting history (moves included).
CREATE TABLE member_reports (
    report_seq   bigserial PRIMARY KEY,
    member_id    text NOT NULL,
    community_id text NOT NULL,
    grid_id      text,
    skills       text[] NOT NULL DEFAULT '{}',
    ev_time      timestamptz NOT NULL,
    ev_source    text NOT NULL,
    ev_id        text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ev_source, ev_id)
);
CREATE INDEX member_reports_member ON member_reports (member_id, ev_time, ev_source, ev_id);

-- The latest report of each member by (time, source, id).
CREATE TABLE current_reports (
    member_id    text PRIMARY KEY,
    community_id text NOT NULL,
    grid_id      text,
    skills       text[] NOT NULL DEFAULT '{}',
    ev_time      timestamptz NOT NULL,
    ev_source    text NOT NULL,
    ev_id        text NOT NULL
);
CREATE INDEX current_reports_community ON current_reports (community_id);

CREATE TABLE units (
    unit_id      text PRIMARY KEY,
    name         text NOT NULL,
    party_org_id text NOT NULL REFERENCES party_orgs (party_org_id),
    address      text,
    member_count integer CHECK (member_count >= 0),
    community_id text,
    reported_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX units_community ON units (community_id);

CREATE TABLE unit_reports (
    report_seq   bigserial PRIMARY KEY,
    unit_id      text NOT NULL REFERENCES units (unit_id),
    community_id text NOT NULL,
    reported_at  timestamptz NOT NULL,
    event_id     text NOT NULL
);
CREATE INDEX unit_reports_unit ON unit_reports (unit_id, report_seq);

CREATE TABLE unit_agreements (
    agreement_id text PRIMARY KEY,
    unit_id      text NOT NULL REFERENCES units (unit_id),
    community_id text NOT NULL,
    signed_on    date NOT NULL,
    valid_until  date,
    commitments  jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unit_agreements_unit ON unit_agreements (unit_id);

CREATE TABLE import_jobs (
    job_id      uuid PRIMARY KEY,
    status      text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    encoding    text,
    total       integer NOT NULL DEFAULT 0,
    processed   integer NOT NULL DEFAULT 0,
    created     integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    unchanged   integer NOT NULL DEFAULT 0,
    errors      jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
