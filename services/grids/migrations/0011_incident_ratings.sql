-- Residents' satisfaction: the rating of a closed incident, given once by the resident.
CREATE TABLE incident_ratings (
    incident_id text PRIMARY KEY REFERENCES incidents,
    grid_id     text NOT NULL,
    score       smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment     text,
    rated_at    timestamptz NOT NULL
);
CREATE INDEX incident_ratings_grid ON incident_ratings (grid_id);
