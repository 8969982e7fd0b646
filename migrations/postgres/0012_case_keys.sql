-- Which keys can open which cases, where an index can answer it (issue 19). The review API
-- lists "the cases this key can open" by reading this table in queue order instead of opening
-- every case's item headers: one row per key, per role class of the items it opens (reviewer
-- kinds or custodian kinds) and per case, kept by every write that adds, re-seals or deletes an
-- item (src/store/keys.rs), with the case's day, code and status copied so that a page is one
-- range of an index. Status follows the case by the trigger below.
--
-- It is an index, not an authority: the API still checks each listed case against its items'
-- own envelope headers, so a row a database writer adds shows nothing it could not already
-- show, and a row it deletes only hides a case from a listing.
--
-- Not additive: an older release would add items without rows here. The rows are filled from
-- the existing items by the first tipline that migrates (`backfills` marks the work pending).
-- Keep in step with ../sqlite/0012_case_keys.sql.
CREATE TABLE case_keys (
    key_id TEXT NOT NULL,
    class TEXT NOT NULL CHECK (class IN ('reviewer', 'custodian')),
    created_day BIGINT NOT NULL,
    code TEXT NOT NULL,
    case_id BYTEA NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    PRIMARY KEY (key_id, class, created_day, code)
);
CREATE INDEX case_keys_by_status ON case_keys (key_id, class, status, created_day, code);
CREATE INDEX case_keys_by_case ON case_keys (case_id);

CREATE FUNCTION case_keys_follow_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_keys SET status = NEW.status WHERE case_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_keys_follow_status AFTER UPDATE OF status ON cases
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION case_keys_follow_status();

-- Work a migration leaves to the first tipline that runs it (src/store/keys.rs).
CREATE TABLE backfills (
    name TEXT PRIMARY KEY
);
INSERT INTO backfills (name) VALUES ('case_keys');

-- The queue's other filters, as partial indexes in queue order: cases with unread reporter
-- input, and cases someone holds.
CREATE INDEX cases_unread_in_order ON cases (created_day, code) WHERE unread_from_reporter;
CREATE INDEX cases_claimed ON cases (claimed_by, created_day, code) WHERE claimed_by IS NOT NULL;
CREATE INDEX cases_in_order ON cases (created_day, code);
