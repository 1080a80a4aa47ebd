-- Kafka headers of a message, kept so that a binary-mode CloudEvent (attributes in ce_*
-- headers, data in the value) is dead-lettered and re-published exactly as it came:
-- a JSON array of [name, base64 value] pairs in their original order; NULL when none.
ALTER TABLE dead_letters ADD COLUMN headers jsonb;
ALTER TABLE outbox ADD COLUMN headers jsonb;
