-- The region projection takes the names every service uses, so that one SQL text
-- (shared/projections.py) writes it: its version is ev_time, ev_source, ev_id. Version
-- sources and ids are compared by code point, so their columns are declared COLLATE "C"
-- (the comparisons also say so).
ALTER TABLE regions RENAME COLUMN def_time TO ev_time;
ALTER TABLE regions RENAME COLUMN def_source TO ev_source;
ALTER TABLE regions RENAME COLUMN def_id TO ev_id;
ALTER TABLE regions
    ALTER COLUMN ev_source TYPE text COLLATE "C",
    ALTER COLUMN ev_id TYPE text COLLATE "C",
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE members
    ALTER COLUMN reg_source TYPE text COLLATE "C",
    ALTER COLUMN reg_id TYPE text COLLATE "C",
    ALTER COLUMN status_source TYPE text COLLATE "C",
    ALTER COLUMN status_id TYPE text COLLATE "C",
    ALTER COLUMN report_source TYPE text COLLATE "C",
    ALTER COLUMN report_id TYPE text COLLATE "C";
