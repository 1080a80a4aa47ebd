-- Two-way evaluation of resident units (双向考核).

-- The status of each commitment of a co-building agreement (no row: planned).
CREATE TABLE unit_commitment_status (
    agreement_id  text NOT NULL REFERENCES unit_agreements (agreement_id),
    commitment_no int NOT NULL CHECK (commitment_no >= 1),
    status        text NOT NULL CHECK (status IN ('planned', 'done', 'missed')),
    done_on       date,
    note          text,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (agreement_id, commitment_no),
    CHECK ((status = 'done') = (done_on IS NOT NULL))
);

-- A unit's yearly report back (述职) to its community or street and the evaluation it received.
CREATE TABLE unit_reviews (
    unit_id     text NOT NULL REFERENCES units (unit_id),
    year        int NOT NULL,
    region_id   text NOT NULL,
    reported_on date NOT NULL,
    evaluation  text NOT NULL CHECK (evaluation IN ('excellent', 'good', 'fair', 'poor')),
    note        text,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (unit_id, year)
);

-- Part-time committee members (兼职委员) a unit provides to a community's or street's committee.
CREATE TABLE unit_committee_members (
    unit_id   text NOT NULL REFERENCES units (unit_id),
    member_id text NOT NULL,
    region_id text NOT NULL,
    post      text NOT NULL,
    since     date NOT NULL,
    until     date,
    PRIMARY KEY (unit_id, member_id, region_id),
    CHECK (until IS NULL OR until >= since)
);

-- Each member's points per month, from scoring's points.changed (the latest event wins): the
-- participation of a unit's in-service members in community life.
CREATE TABLE member_points (
    member_id text NOT NULL,
    period    text NOT NULL,
    points    numeric(12, 2) NOT NULL,
    ev_time   timestamptz NOT NULL,
    ev_source text NOT NULL,
    ev_id     text NOT NULL,
    PRIMARY KEY (member_id, period)
);
