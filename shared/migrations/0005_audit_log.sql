-- The audit trail: one row per state-changing request, written in the transaction of the
-- change it made (outcome ok), or on its own when nothing changed (refused, failed).
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor      text NOT NULL,         -- a token's name, a JWT's sub, or anonymous
    actor_kind text NOT NULL,         -- token, jwt, link, none
    role       text,
    method     text NOT NULL,
    endpoint   text NOT NULL,         -- the route template, e.g. /v1/boards/{board_id}/publish
    resource   text NOT NULL,         -- the path asked for, e.g. /v1/boards/12/publish
    outcome    text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    status     int,                   -- the HTTP status (filled in once the answer is known)
    error      text                   -- the error code of a refused or failed request
);
CREATE INDEX audit_log_newest ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);
CREATE INDEX audit_log_resource ON audit_log (resource text_pattern_ops);

-- Who is changing things in this transaction (set by the audited request's transaction):
-- tables record their author with DEFAULT partygrid_actor() or a trigger calling it.
CREATE FUNCTION partygrid_actor() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('partygrid.actor', true), '') $$;

-- Dead-letter re-publications show who sent them again.
ALTER TABLE dead_letters ADD COLUMN republished_by text;
CREATE FUNCTION dead_letters_republished_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.republish_count IS DISTINCT FROM OLD.republish_count THEN
        NEW.republished_by := coalesce(partygrid_actor(), 'system');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER dead_letters_republished_by BEFORE UPDATE ON dead_letters
    FOR EACH ROW EXECUTE FUNCTION dead_letters_republished_by();
