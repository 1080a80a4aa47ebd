-- Rule versions are append-only: a rule revision is never updated or deleted. A version posted
-- again at the same (activity_type, effective_from) is a correction: a new revision that names
-- the one it corrects, with its note and author. The revision in force for a key is the one no
-- revision corrects; `rule_versions` becomes a view of those, so its readers keep working.
CREATE TABLE rule_revisions (
    revision_id    bigserial PRIMARY KEY,
    activity_type  text NOT NULL,
    points         numeric(10,2) NOT NULL,
    per            text NOT NULL CHECK (per IN ('event', 'hour')),
    monthly_cap    numeric(10,2),
    effective_from timestamptz NOT NULL,
    note           text,
    created_by     text DEFAULT partygrid_actor(),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    corrects       bigint UNIQUE,
    UNIQUE (revision_id, activity_type, effective_from),
    -- a correction corrects a revision of the same type and effective_from
    FOREIGN KEY (corrects, activity_type, effective_from)
        REFERENCES rule_revisions (revision_id, activity_type, effective_from)
);
-- one original per key, and (corrects UNIQUE) one correction per revision: each key is a
-- single chain, whose last revision is in force
CREATE UNIQUE INDEX rule_revisions_one_original ON rule_revisions (activity_type, effective_from)
    WHERE corrects IS NULL;
-- the version in force at an event's time is looked up by type and effective_from
CREATE INDEX rule_revisions_by_type ON rule_revisions (activity_type, effective_from);

-- The history kept so far (0004) becomes the revisions, each correction naming the previous
-- revision of its key.
INSERT INTO rule_revisions (revision_id, activity_type, points, per, monthly_cap, effective_from,
                            note, created_by, recorded_at, corrects)
SELECT seq, activity_type, points, per, monthly_cap, effective_from, note, created_by,
       recorded_at,
       lag(seq) OVER (PARTITION BY activity_type, effective_from ORDER BY seq)
FROM rule_history ORDER BY seq;
SELECT setval(pg_get_serial_sequence('rule_revisions', 'revision_id'),
              greatest((SELECT max(revision_id) FROM rule_revisions), 1));

DROP TABLE rule_versions;  -- its triggers go with it
DROP FUNCTION rule_versions_author();
DROP FUNCTION rule_versions_history();
DROP TABLE rule_history;

CREATE VIEW rule_versions AS
SELECT r.revision_id AS version_id, r.activity_type, r.points, r.per, r.monthly_cap,
       r.effective_from, r.recorded_at AS created_at, r.note, r.created_by
FROM rule_revisions r
WHERE NOT EXISTS (SELECT 1 FROM rule_revisions c WHERE c.corrects = r.revision_id);

CREATE FUNCTION rule_revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rule revisions are append-only: post a correction instead'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER rule_revisions_append_only BEFORE UPDATE OR DELETE ON rule_revisions
    FOR EACH ROW EXECUTE FUNCTION rule_revisions_append_only();
CREATE TRIGGER rule_revisions_no_truncate BEFORE TRUNCATE ON rule_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION rule_revisions_append_only();
