-- The city's setting of the daily visiting duty of grid workers (one row at most; no row means
-- the default: 120 minutes every day).
CREATE TABLE visit_duty_setting (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    minutes_per_day int NOT NULL CHECK (minutes_per_day BETWEEN 1 AND 1440),
    weekdays        smallint[] NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- The duty is checked over all grids for a day, week or month.
CREATE INDEX visits_time ON visits (visited_at);
