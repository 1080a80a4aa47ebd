-- Residents' satisfaction: the rating of a fulfilled small wish, given once by the resident.
CREATE TABLE wish_ratings (
    wish_id      text PRIMARY KEY REFERENCES wishes,
    community_id text NOT NULL,
    score        smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      text,
    rated_at     timestamptz NOT NULL
);
CREATE INDEX wish_ratings_community ON wish_ratings (community_id);
