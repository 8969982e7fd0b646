-- The review API (issue 5). Keep in step with ../sqlite/0002_review.sql.

-- Rewraps swap an item's recipient header with compare-and-swap on this version.
ALTER TABLE items ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- A purged case leaves only this: the receipt's lookup id, so that the bot can tell a reporter
-- who checks later that the case was closed and removed, and the public code. No mailbox key,
-- no items, no category, no dates other than the day of the purge.
CREATE TABLE case_tombstones (
    lookup_id BYTEA PRIMARY KEY,
    code TEXT NOT NULL,
    purged_day BIGINT NOT NULL
);

CREATE INDEX cases_by_closed ON cases (closed_day);
CREATE INDEX disclosure_by_case ON disclosure_requests (case_id, status);
