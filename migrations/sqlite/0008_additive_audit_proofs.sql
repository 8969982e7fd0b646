-- An audit entry of a signed act (a keyring statement, a disclosure request, an approval, a
-- reply, a note, a disclosed identity) carries the signature that proves it: the signed message
-- and its signer (src/store/audit.rs, AuditProof; docs/FORMATS.md). The entry's hash covers
-- the proof, and `tipline admin audit verify` and the review clients check every proof against
-- the signed keyring. Keep in step with ../postgres/0008_additive_audit_proofs.sql.
--
-- Additive: an older release ignores the column (and writes no proof).
ALTER TABLE audit_log ADD COLUMN proof BLOB;
