-- A member's record says by what and why an entry was revoked: the revoking
-- activity.revoked's source and id and its reason (null for rows recorded before).
ALTER TABLE revocations
    ADD COLUMN by_source text,
    ADD COLUMN by_id     text,
    ADD COLUMN reason    text;
