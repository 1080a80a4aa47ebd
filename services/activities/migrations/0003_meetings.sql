-- Organisation life (三会一课): a branch's meetings and their rolls.

CREATE TABLE meetings (
    meeting_id   text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('branch_general_meeting',
                     'branch_committee_meeting', 'party_group_meeting', 'party_lecture')),
    -- the Party branch holding it; this service knows organisations only by id
    branch_id    text NOT NULL,
    community_id text NOT NULL,
    title        text NOT NULL,
    held_at      timestamptz NOT NULL,
    place        text,
    created_at   timestamptz NOT NULL,
    -- the version of the confirmed roll; 0 while none was confirmed
    roll_version int NOT NULL DEFAULT 0
);
CREATE INDEX meetings_community ON meetings (community_id, held_at);
CREATE INDEX meetings_branch ON meetings (branch_id, held_at);

-- The roll as it stands: one line per member, the version that set its status and the
-- activity.logged standing for it (none for an excused member).
CREATE TABLE meeting_roll (
    meeting_id      text NOT NULL REFERENCES meetings,
    member_id       text NOT NULL,
    status          text NOT NULL CHECK (status IN ('present', 'excused', 'absent')),
    reason          text,
    version         int NOT NULL,
    logged_event_id text,
    PRIMARY KEY (meeting_id, member_id),
    CHECK ((status = 'excused') = (logged_event_id IS NULL)),
    CHECK (status <> 'excused' OR reason IS NOT NULL)
);

-- Every confirmed version of a roll, as sent, for the record (who was corrected when).
CREATE TABLE meeting_roll_versions (
    meeting_id   text NOT NULL REFERENCES meetings,
    version      int NOT NULL,
    confirmed_at timestamptz NOT NULL,
    confirmed_by text NOT NULL,
    entries      jsonb NOT NULL,
    revoked      int NOT NULL,
    logged       int NOT NULL,
    PRIMARY KEY (meeting_id, version)
);
