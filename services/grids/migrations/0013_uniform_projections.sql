-- The region and member projections take the names every service uses, so that one SQL text
-- (shared/projections.py) writes them all.

-- A region's depth follows from its level; derived here, the shared upsert need not know it.
DROP VIEW regions_v;
ALTER TABLE regions DROP COLUMN depth;
ALTER TABLE regions ADD COLUMN depth smallint GENERATED ALWAYS AS (
    CASE level WHEN 'district' THEN 0 WHEN 'street' THEN 1 WHEN 'community' THEN 2
               WHEN 'grid' THEN 3 WHEN 'building' THEN 4 END) STORED;
CREATE VIEW regions_v AS
SELECT r.*,
       (r.parent_id IS NOT NULL AND p.region_id IS NULL) AS orphan,
       (p.region_id IS NOT NULL AND p.depth <> r.depth - 1)
           OR (r.depth = 0 AND r.parent_id IS NOT NULL) AS misplaced
FROM regions r LEFT JOIN regions p ON p.region_id = r.parent_id;

-- A member's report is report_*; whether the member is registered or deregistered is decided
-- by the latest of the two events by its whole version, as in the other services (the time
-- of the latest deregistration alone could not break a tie at the same instant).
ALTER TABLE grid_members RENAME COLUMN rep_time TO report_time;
ALTER TABLE grid_members RENAME COLUMN rep_source TO report_source;
ALTER TABLE grid_members RENAME COLUMN rep_id TO report_id;
ALTER TABLE grid_members
    ADD COLUMN status text CHECK (status IN ('registered', 'deregistered')),
    ADD COLUMN status_time timestamptz,
    ADD COLUMN status_source text COLLATE "C",
    ADD COLUMN status_id text COLLATE "C";
-- Rows from before: a deregistration's source and id were not kept ('' sorts first, so any
-- event at the same instant wins over it).
UPDATE grid_members SET
    status = CASE WHEN deregistered_at IS NOT NULL
                       AND (reg_time IS NULL OR deregistered_at >= reg_time)
                  THEN 'deregistered' ELSE 'registered' END,
    status_time = CASE WHEN deregistered_at IS NOT NULL
                            AND (reg_time IS NULL OR deregistered_at >= reg_time)
                       THEN deregistered_at ELSE reg_time END,
    status_source = CASE WHEN deregistered_at IS NOT NULL
                              AND (reg_time IS NULL OR deregistered_at >= reg_time)
                         THEN '' ELSE reg_source END,
    status_id = CASE WHEN deregistered_at IS NOT NULL
                          AND (reg_time IS NULL OR deregistered_at >= reg_time)
                     THEN '' ELSE reg_id END
WHERE deregistered_at IS NOT NULL OR reg_time IS NOT NULL;
ALTER TABLE grid_members DROP COLUMN deregistered_at;
