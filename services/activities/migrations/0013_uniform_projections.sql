-- The region and member projections take the names every service uses, so that one SQL text
-- (shared/projections.py) writes them all: the region tree is `regions` with its version in
-- ev_time, ev_source, ev_id, and now keeps the region's name. Version sources and ids are
-- compared by code point, so their columns are declared COLLATE "C" (the comparisons also say
-- so). A member's report keeps its grid, as it does in the other services.
ALTER TABLE region_projection RENAME TO regions;
ALTER TABLE regions RENAME COLUMN v_time TO ev_time;
ALTER TABLE regions RENAME COLUMN v_source TO ev_source;
ALTER TABLE regions RENAME COLUMN v_id TO ev_id;
ALTER TABLE regions
    ALTER COLUMN ev_source TYPE text COLLATE "C",
    ALTER COLUMN ev_id TYPE text COLLATE "C",
    -- unknown for regions defined before this migration until their next definition
    ADD COLUMN name text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE member_projection
    ADD COLUMN grid_id text,
    ALTER COLUMN status_source TYPE text COLLATE "C",
    ALTER COLUMN status_id TYPE text COLLATE "C",
    ALTER COLUMN report_source TYPE text COLLATE "C",
    ALTER COLUMN report_id TYPE text COLLATE "C";

ALTER TABLE unit_projection
    ALTER COLUMN v_source TYPE text COLLATE "C",
    ALTER COLUMN v_id TYPE text COLLATE "C";
