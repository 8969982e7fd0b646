-- A disclosure request is signed by the reviewer who makes it, over the case, the reviewer's
-- own key and the reason (src/trust.rs, request_message): a custodian approves only a request
-- that the reviewer it names signed, so a database writer cannot swap the requester for another
-- reviewer. Keep in step with ../sqlite/0007_additive_request_signatures.sql.
--
-- Additive: an older release ignores the column.
ALTER TABLE disclosure_requests ADD COLUMN signature BYTEA;
