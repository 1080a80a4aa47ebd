-- Published results that hold: closing a period copies its figures into closed_* tables (read
-- by default for that period afterwards); what arrives later changes only the live tables and
-- is listed as an adjustment of the period, found by when it arrived.

-- When each ledger entry and revocation arrived. clock_timestamp(), not now(): a batch takes
-- the rules lock before it writes, so its rows are stamped after any close it waited for.
-- Rows written before this migration arrived "some time before": the epoch, so they are never
-- reported as adjustments (a constant default adds the column without rewriting the table).
ALTER TABLE ledger ADD COLUMN received_at timestamptz NOT NULL DEFAULT 'epoch';
ALTER TABLE ledger ALTER COLUMN received_at SET DEFAULT clock_timestamp();
ALTER TABLE revocations ADD COLUMN received_at timestamptz NOT NULL DEFAULT 'epoch';
ALTER TABLE revocations ALTER COLUMN received_at SET DEFAULT clock_timestamp();

CREATE TABLE periods (
    period    text PRIMARY KEY,
    status    text NOT NULL CHECK (status IN ('closed', 'reopened')),
    closed_at timestamptz,
    closed_by text DEFAULT partygrid_actor(),
    summary   jsonb
);

-- Every close and reopen, with who and why; never updated.
CREATE TABLE period_history (
    seq     bigserial PRIMARY KEY,
    period  text NOT NULL,
    action  text NOT NULL CHECK (action IN ('closed', 'reopened')),
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    by_name text DEFAULT partygrid_actor(),
    reason  text
);
CREATE INDEX period_history_period ON period_history (period, seq);

-- The members as they stood at the close (where they counted, their points).
CREATE TABLE closed_members (
    period       text NOT NULL,
    member_id    text NOT NULL,
    name         text,
    category     text,
    party_org_id text,
    community_id text,
    grid_id      text,
    street_id    text,
    counted      boolean NOT NULL,
    deregistered boolean NOT NULL,
    points       numeric(12,2) NOT NULL,
    org_life_missed boolean NOT NULL DEFAULT false,
    PRIMARY KEY (period, member_id)
);
CREATE INDEX closed_members_community ON closed_members (period, community_id);
CREATE INDEX closed_members_org ON closed_members (period, party_org_id);

-- Points, events and hours per member and activity type in the period, at the close.
CREATE TABLE closed_types (
    period        text NOT NULL,
    member_id     text NOT NULL,
    activity_type text NOT NULL,
    points        numeric(12,2) NOT NULL,
    events        integer NOT NULL,
    hours         numeric(10,2) NOT NULL,
    PRIMARY KEY (period, member_id, activity_type)
);

-- Communities and grids at the close (streets sum their communities).
CREATE TABLE closed_regions (
    period    text NOT NULL,
    kind      text NOT NULL,
    region_id text NOT NULL,
    name      text NOT NULL,
    parent_id text,
    members   integer NOT NULL,
    total     numeric(14,2) NOT NULL,
    positive  integer NOT NULL,
    PRIMARY KEY (period, kind, region_id)
);

-- Rule versions are never lost: every insert and every change of a row (a correction re-posted
-- at the same effective_from) is appended here with its note and author.
CREATE TABLE rule_history (
    seq            bigserial PRIMARY KEY,
    activity_type  text NOT NULL,
    points         numeric(10,2) NOT NULL,
    per            text NOT NULL,
    monthly_cap    numeric(10,2),
    effective_from timestamptz NOT NULL,
    note           text,
    created_by     text,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    correction     boolean NOT NULL
);
INSERT INTO rule_history (activity_type, points, per, monthly_cap, effective_from, note,
                          created_by, recorded_at, correction)
SELECT activity_type, points, per, monthly_cap, effective_from, note, created_by, created_at,
       false
FROM rule_versions ORDER BY created_at, version_id;
CREATE FUNCTION rule_versions_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rule_history (activity_type, points, per, monthly_cap, effective_from, note,
                              created_by, correction)
    VALUES (NEW.activity_type, NEW.points, NEW.per, NEW.monthly_cap, NEW.effective_from,
            NEW.note, NEW.created_by, TG_OP = 'UPDATE');
    RETURN NULL;
END $$;
CREATE TRIGGER rule_versions_history AFTER INSERT OR UPDATE ON rule_versions
    FOR EACH ROW EXECUTE FUNCTION rule_versions_history();

-- Follow-up talks (谈心谈话 / 批评教育) with flagged and zero-point members.
CREATE TABLE followups (
    followup_id  bigserial PRIMARY KEY,
    member_id    text NOT NULL,
    period       text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('heart_to_heart', 'criticism_education')),
    held_on      date NOT NULL,
    note         text,
    community_id text,
    recorded_by  text DEFAULT partygrid_actor(),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX followups_member ON followups (member_id, period);

-- Organisation life as a hard criterion, as the city sets it: a member misses it in a period
-- when a quarter of the period (a month: its quarter) has no organization_life, or when the
-- period has more organization_life_absent than allowed.
CREATE TABLE org_life_rule (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    every_quarter  boolean NOT NULL,
    max_absences   integer NOT NULL CHECK (max_absences >= 0),
    set_by         text DEFAULT partygrid_actor(),
    set_at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO org_life_rule (every_quarter, max_absences, set_by) VALUES (true, 0, NULL);

-- The tree of Party organisations (from partygrid.party_org.defined, latest by time, source,
-- id): the half-yearly feedback of an organisation covers its sub-organisations' members.
CREATE TABLE party_orgs (
    party_org_id text PRIMARY KEY,
    name         text NOT NULL,
    parent_id    text,
    def_time     timestamptz NOT NULL,
    def_source   text NOT NULL,
    def_id       text NOT NULL
);
CREATE INDEX party_orgs_parent ON party_orgs (parent_id);
