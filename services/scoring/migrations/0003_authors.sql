-- Rule versions and board steps show who made them: the actor of the audited request whose
-- transaction wrote them (partygrid_actor(), shared migration 0005), set by triggers so that
-- no use case has to pass it along. NULL for rows written before this migration or by events.
ALTER TABLE rule_versions ADD COLUMN created_by text;
CREATE FUNCTION rule_versions_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_by := partygrid_actor();
    RETURN NEW;
END $$;
CREATE TRIGGER rule_versions_author BEFORE INSERT OR UPDATE ON rule_versions
    FOR EACH ROW EXECUTE FUNCTION rule_versions_author();

ALTER TABLE boards
    ADD COLUMN drafted_by text,
    ADD COLUMN review_entered_by text,
    ADD COLUMN published_by text;
CREATE FUNCTION boards_authors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.drafted_by := partygrid_actor();
    ELSIF NEW.status IS DISTINCT FROM OLD.status AND NEW.status = 'reviewed' THEN
        NEW.review_entered_by := partygrid_actor();
    ELSIF NEW.status IS DISTINCT FROM OLD.status AND NEW.status = 'published' THEN
        NEW.published_by := partygrid_actor();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER boards_authors BEFORE INSERT OR UPDATE ON boards
    FOR EACH ROW EXECUTE FUNCTION boards_authors();
