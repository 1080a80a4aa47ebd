-- Re-publishing dead letters through the dead-letter API: how often a dead letter was sent
-- again and, when it was corrected, the bytes that were sent instead of the original.
ALTER TABLE dead_letters
    ADD COLUMN republish_count int NOT NULL DEFAULT 0,
    ADD COLUMN republished_value bytea;
-- The list is newest first.
CREATE INDEX dead_letters_newest ON dead_letters (rejected_at DESC, dl_id DESC);
