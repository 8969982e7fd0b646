-- A custodian's approval of a disclosure request is signed with the custodian's Ed25519 key
-- over the request, the case, the requester's key and the reason (src/trust.rs,
-- approval_message). The custodian who re-seals the identity counts only approvals whose
-- signature the signed keyring proves, so a row written into the database approves nothing.
-- Keep in step with ../postgres/0006_additive_decision_signatures.sql.
--
-- Additive: an older release ignores the column.
ALTER TABLE disclosure_decisions ADD COLUMN signature BLOB;
