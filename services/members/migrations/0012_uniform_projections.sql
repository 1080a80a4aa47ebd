-- The region projection takes the columns every service has, so that one SQL text
-- (shared/projections.py) writes it. Version sources and ids are compared by code point, so
-- their columns are declared COLLATE "C" (the comparisons also say so).
ALTER TABLE regions
    ALTER COLUMN ev_source TYPE text COLLATE "C",
    ALTER COLUMN ev_id TYPE text COLLATE "C",
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE current_reports
    ALTER COLUMN ev_source TYPE text COLLATE "C",
    ALTER COLUMN ev_id TYPE text COLLATE "C";

ALTER TABLE members
    ALTER COLUMN reg_source TYPE text COLLATE "C",
    ALTER COLUMN reg_event_id TYPE text COLLATE "C",
    ALTER COLUMN state_source TYPE text COLLATE "C",
    ALTER COLUMN state_event_id TYPE text COLLATE "C";
