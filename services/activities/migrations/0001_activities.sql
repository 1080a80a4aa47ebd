-- The activities service's own tables.

-- Projections fed by consumed events. Each keeps the (time, source, id) of the event that set
-- it, so the latest event wins whatever order events arrive in.
CREATE TABLE member_projection (
    member_id     text PRIMARY KEY,
    -- latest of member.registered / member.deregistered
    status        text CHECK (status IN ('registered', 'deregistered')),
    status_time   timestamptz,
    status_source text,
    status_id     text,
    -- latest member.reported
    community_id  text,
    report_time   timestamptz,
    report_source text,
    report_id     text
);

CREATE TABLE unit_projection (
    unit_id      text PRIMARY KEY,
    name         text NOT NULL,
    community_id text NOT NULL,
    v_time       timestamptz NOT NULL,
    v_source     text NOT NULL,
    v_id         text NOT NULL
);

-- Region tree (for token scope checks: a street admin may act in the street's communities).
CREATE TABLE region_projection (
    region_id text PRIMARY KEY,
    parent_id text,
    level     text NOT NULL,
    v_time    timestamptz NOT NULL,
    v_source  text NOT NULL,
    v_id      text NOT NULL
);

-- Organised activities.
CREATE TABLE activities (
    activity_id    text PRIMARY KEY,
    activity_type  text NOT NULL,
    title          text NOT NULL,
    organiser_kind text NOT NULL CHECK (organiser_kind IN ('party_org', 'community')),
    organiser_id   text NOT NULL,
    community_id   text NOT NULL,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL CHECK (ends_at > starts_at),
    place          text NOT NULL,
    capacity       int NOT NULL CHECK (capacity >= 1),
    status         text NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,
    cancelled_at   timestamptz,
    cancel_reason  text
);
CREATE INDEX activities_community ON activities (community_id, starts_at);

-- One row per member and activity; `revision` grows when a cancelled participation is taken
-- up again, so each confirmation has its own deterministic event id.
CREATE TABLE participations (
    activity_id    text NOT NULL REFERENCES activities,
    member_id      text NOT NULL,
    revision       int NOT NULL DEFAULT 1,
    status         text NOT NULL CHECK (status IN
                       ('signed_up', 'checked_in', 'checked_out', 'confirmed', 'cancelled')),
    signed_up_at   timestamptz NOT NULL,
    checked_in_at  timestamptz,
    checked_out_at timestamptz,
    hours          numeric(4, 2) CHECK (hours > 0 AND hours <= 24),
    confirmed_at   timestamptz,
    logged_event_id text,
    cancelled_at   timestamptz,
    cancel_reason  text,
    PRIMARY KEY (activity_id, member_id)
);

-- Short-lived check-in codes shown at the venue.
CREATE TABLE checkin_codes (
    activity_id text NOT NULL REFERENCES activities,
    code        text NOT NULL,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (activity_id, code)
);

-- 微心愿: small wishes.
CREATE TABLE wishes (
    wish_id      text PRIMARY KEY,
    community_id text NOT NULL,
    title        text NOT NULL,
    description  text,
    beneficiary  text,
    posted_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('open', 'claimed', 'fulfilled', 'cancelled')),
    claimed_by   text,
    claimed_at   timestamptz,
    fulfilled_at timestamptz,
    logged_event_id text,
    cancelled_at timestamptz,
    CHECK ((status = 'open') = (claimed_by IS NULL) OR status = 'cancelled')
);
CREATE INDEX wishes_community ON wishes (community_id, posted_at);

-- 设岗定责: service posts with duties, their claims and monthly fulfilments.
CREATE TABLE service_posts (
    post_id      text PRIMARY KEY,
    community_id text NOT NULL,
    title        text NOT NULL,
    category     text NOT NULL,
    duties       text NOT NULL,
    slots        int NOT NULL CHECK (slots >= 1),
    status       text NOT NULL CHECK (status IN ('open', 'closed')),
    created_at   timestamptz NOT NULL
);
CREATE INDEX service_posts_community ON service_posts (community_id, created_at);

CREATE TABLE post_claims (
    post_id     text NOT NULL REFERENCES service_posts,
    member_id   text NOT NULL,
    claimed_at  timestamptz NOT NULL,
    released_at timestamptz,
    PRIMARY KEY (post_id, member_id)
);

CREATE TABLE post_fulfilments (
    post_id      text NOT NULL REFERENCES service_posts,
    member_id    text NOT NULL,
    month        text NOT NULL,
    confirmed_at timestamptz NOT NULL,
    logged_event_id text NOT NULL,
    PRIMARY KEY (post_id, member_id, month)
);

-- 三张清单: needs (of communities), resources (of resident units) and the co-building projects
-- that a two-way claim creates.
CREATE TABLE list_items (
    item_id      text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('need', 'resource')),
    community_id text NOT NULL,
    unit_id      text,
    title        text NOT NULL,
    description  text,
    status       text NOT NULL CHECK (status IN ('open', 'claimed', 'withdrawn')),
    created_at   timestamptz NOT NULL,
    CHECK (kind = 'need' OR unit_id IS NOT NULL)
);
CREATE INDEX list_items_community ON list_items (community_id, kind, created_at);

CREATE TABLE projects (
    project_id   text PRIMARY KEY,
    item_id      text NOT NULL UNIQUE REFERENCES list_items,
    community_id text NOT NULL,
    unit_id      text NOT NULL,
    title        text NOT NULL,
    status       text NOT NULL CHECK (status IN ('active', 'completed')),
    progress     int NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    created_at   timestamptz NOT NULL
);
CREATE INDEX projects_community ON projects (community_id, created_at);

CREATE TABLE project_updates (
    project_id text NOT NULL REFERENCES projects,
    seq        bigserial,
    progress   int NOT NULL,
    note       text,
    at         timestamptz NOT NULL,
    PRIMARY KEY (project_id, seq)
);

CREATE TABLE project_participants (
    project_id text NOT NULL REFERENCES projects,
    member_id  text NOT NULL,
    joined_at  timestamptz NOT NULL,
    PRIMARY KEY (project_id, member_id)
);

CREATE TABLE project_service (
    entry_id   text PRIMARY KEY,
    project_id text NOT NULL REFERENCES projects,
    member_id  text NOT NULL,
    hours      numeric(4, 2) NOT NULL CHECK (hours > 0 AND hours <= 24),
    served_at  timestamptz NOT NULL,
    logged_event_id text NOT NULL,
    FOREIGN KEY (project_id, member_id) REFERENCES project_participants
);
