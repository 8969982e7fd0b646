//! The audit log as its readers check it, trusting neither the server nor the database.
//!
//! The log is a hash chain ([`crate::store::AuditEntry::chain_hash`]): altering, inserting or
//! removing an entry breaks it — unless whoever did it recomputes every hash after it, which
//! anyone who can write to the database can. Two checks close that:
//!
//! - **A head each reader keeps.** A review client records the newest entry it verified (its
//!   number and hash, [`AuditHead`], in a 0600 file beside its configuration) and, on every
//!   command, checks that the server's log still holds that very entry and extends it entry by
//!   entry ([`check_extends`]). A log cut short, or rewritten and recomputed at or before the
//!   recorded head, no longer matches it. The administrator's `tipline admin audit verify`
//!   keeps one the same way in the data directory, and prints it for comparison out of band.
//! - **Signatures.** The entry of every signed act carries its proof ([`AuditProof`]): a
//!   keyring statement the authority's signatures, a disclosure request, approval, reply, note
//!   or disclosed identity its author's signature over the message it signed. The proof is
//!   covered by the entry's hash, must be of the act the entry names, and must verify against
//!   the signed keyring (the authority for statements; the actor's own key, which must be the
//!   key that signed, for the rest). From the first proof on (for a client: from the head it
//!   recorded at login), an entry of a signed act without one is refused, so a database writer
//!   can neither forge "custodian X approved" nor strip the proof from a real act.
//!
//! What remains (docs/THREAT_MODEL.md): a writer can still append unsigned entries of unsigned
//! acts (claims, status changes), and entries after a reader's head that it has not read yet can
//! be rewritten until some reader records them.

use std::collections::HashSet;

use super::{
    APPROVAL_CONTEXT, Authorities, ITEM_CONTEXT, REPLY_CONTEXT, REQUEST_CONTEXT, STATEMENT_CONTEXT,
    SignedStatement, VerifiedKeyring,
};
use crate::crypto::sign::Signature;
use crate::crypto::{PublicKey, RecipientRole};
use crate::store::{AuditEntry, AuditProof, AuditRecord, ProofSigner, Store, StoreError};

/// The newest audit entry a reader verified: its number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditHead {
    /// The entry's number (the count of entries up to it).
    pub count: i64,
    /// Its hash.
    pub hash: [u8; 32],
}

impl AuditHead {
    /// `N:HEX`, as `admin audit verify` prints it and `--head` takes it.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.count, hex::encode(self.hash))
    }

    /// Parses [`AuditHead::to_text`].
    pub fn parse(text: &str) -> Option<AuditHead> {
        let (n, h) = text.trim().split_once(':')?;
        Some(AuditHead {
            count: n.parse().ok().filter(|n| *n >= 0)?,
            hash: hex::decode(h).ok()?.try_into().ok()?,
        })
    }

    /// The head recorded in `path` (as `N HEX`), if any.
    pub fn read(path: &std::path::Path) -> Option<AuditHead> {
        super::read_head_file(path).map(|(count, hash)| AuditHead { count, hash })
    }

    /// Records this head in `path` (0600, replaced atomically).
    pub fn write(&self, path: &std::path::Path) {
        super::write_head_file(path, self.count, &self.hash);
    }
}

/// Why the audit log is not trusted. Each names the entry and what failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuditError {
    /// Fewer entries than a recorded head.
    #[error(
        "the audit log has {found} entries, fewer than the {seen} recorded before: entries were removed"
    )]
    Truncated {
        /// Entries now.
        found: i64,
        /// Entries recorded.
        seen: i64,
    },
    /// The entry at a recorded head is another one.
    #[error(
        "audit entry {0} is not the one recorded before: the log was rewritten (entries removed or altered, and the hashes after them recomputed)"
    )]
    Rewritten(i64),
    /// The chain does not link.
    #[error("the audit chain is broken at entry {0}")]
    Broken(i64),
    /// A signed act without its proof.
    #[error("audit entry {seq} ({action}) is a signed act but carries no signature")]
    Unsigned {
        /// The entry.
        seq: i64,
        /// Its action.
        action: String,
    },
    /// A proof that does not verify, or is of another act.
    #[error("audit entry {seq}: its signature does not verify against the signed keyring ({why})")]
    BadProof {
        /// The entry.
        seq: i64,
        /// What failed.
        why: String,
    },
}

/// The signing context the proof of `entry` must have, when its action is a signed act.
pub fn required_context(entry: &AuditEntry) -> Option<&'static str> {
    match entry.action.as_str() {
        "keyring.statement" => Some(STATEMENT_CONTEXT),
        "disclosure.request" => Some(REQUEST_CONTEXT),
        "disclosure.decide" if entry.detail.contains(" approve ") => Some(APPROVAL_CONTEXT),
        "disclosure.fulfil" | "disclosure.share" => Some(ITEM_CONTEXT),
        "item.add" if entry.detail.starts_with("to_reporter ") => Some(REPLY_CONTEXT),
        "item.add" if entry.detail.starts_with("note ") => Some(ITEM_CONTEXT),
        _ => None,
    }
}

/// The role whose key signs a proof of `context` (the authority signs statements).
fn signer_role(context: &str) -> Option<RecipientRole> {
    match context {
        REQUEST_CONTEXT | REPLY_CONTEXT => Some(RecipientRole::Reviewer),
        APPROVAL_CONTEXT => Some(RecipientRole::Custodian),
        _ => None,
    }
}

/// The keyring the proofs are checked against.
pub struct Keys<'a> {
    /// The pinned authorities (statements).
    pub authorities: &'a Authorities,
    /// The verified keyring (everyone else, retired keys included: they signed what they
    /// signed while active).
    pub ring: &'a VerifiedKeyring,
}

/// Checks one entry's proof: present when the act is signed (and `require` holds), of the act
/// the entry names, and valid. Returns whether it carried one.
fn check_proof(
    rec: &AuditRecord,
    keys: Option<&Keys<'_>>,
    require: bool,
    seen: &mut HashSet<[u8; 32]>,
) -> Result<bool, AuditError> {
    let seq = rec.seq;
    let bad = |why: &str| AuditError::BadProof {
        seq,
        why: why.to_owned(),
    };
    let wanted = required_context(&rec.entry);
    let Some(bytes) = &rec.entry.proof else {
        return match wanted {
            Some(_) if require => Err(AuditError::Unsigned {
                seq,
                action: rec.entry.action.clone(),
            }),
            _ => Ok(false),
        };
    };
    let proof = AuditProof::decode(bytes).ok_or_else(|| bad("malformed proof"))?;
    if wanted != Some(proof.context.as_str()) {
        return Err(bad("the proof is of another act"));
    }
    // The same signed act twice (a proof copied into a forged entry).
    if !seen.insert(crate::crypto::sha256(&[bytes])) {
        return Err(bad("the same proof appears in an earlier entry"));
    }
    let Some(keys) = keys else {
        return Err(bad("no keyring to check it against"));
    };
    match &proof.signer {
        ProofSigner::Authority(signatures) => {
            if proof.context != STATEMENT_CONTEXT {
                return Err(bad("the authority signs keyring statements only"));
            }
            let stored = crate::store::StoredStatement {
                seq,
                body: proof.message.clone(),
                signatures: signatures.clone(),
            };
            let statement =
                SignedStatement::from_stored(&stored).map_err(|e| bad(&e.to_string()))?;
            keys.authorities
                .check_signatures(&statement, seq)
                .map_err(|e| bad(&e.to_string()))?;
        }
        ProofSigner::Key { key, signature } => {
            let key = PublicKey::from_slice(key).map_err(|_| bad("malformed signer key"))?;
            let member = keys
                .ring
                .member(&key)
                .ok_or_else(|| bad("signed by a key the signed keyring never held"))?;
            if rec.entry.actor != key.key_id().to_string() {
                return Err(bad("signed by another key than the entry's actor"));
            }
            let role_ok = match signer_role(&proof.context) {
                Some(role) => member.role == role,
                // A note is a reviewer's, a disclosed identity a custodian's.
                None => match rec.entry.action.as_str() {
                    "disclosure.fulfil" | "disclosure.share" => {
                        member.role == RecipientRole::Custodian
                    }
                    _ => member.role == RecipientRole::Reviewer,
                },
            };
            if !role_ok {
                return Err(bad("signed by a key of the wrong role"));
            }
            member
                .verify
                .verify(
                    &proof.context,
                    &proof.message,
                    &Signature::from_bytes(*signature),
                )
                .map_err(|_| bad("invalid signature"))?;
        }
    }
    Ok(true)
}

/// True when checking `records` needs the keyring (some carry a proof).
pub fn needs_keys(records: &[AuditRecord]) -> bool {
    records.iter().any(|r| r.entry.proof.is_some())
}

/// Checks that `records` — the log as a server gives it, from the entry at `head` (or from
/// entry 1 when there is none) to its newest — still holds the entry `head` names and extends
/// it, every entry linked and hashed, every signed act after `head` carrying a valid proof.
/// `total` is the number of entries the server reported. Returns the new head.
pub fn check_extends(
    head: Option<AuditHead>,
    records: &[AuditRecord],
    total: i64,
    keys: Option<&Keys<'_>>,
) -> Result<AuditHead, AuditError> {
    let mut rest = records;
    let mut current = AuditHead {
        count: 0,
        hash: [0; 32],
    };
    if let Some(h) = head.filter(|h| h.count > 0) {
        if total < h.count || records.is_empty() {
            return Err(AuditError::Truncated {
                found: total.min(records.last().map_or(total, |r| r.seq)),
                seen: h.count,
            });
        }
        let first = &records[0];
        if first.seq != h.count
            || first.hash[..] != h.hash[..]
            || first.entry.chain_hash(first.seq, &first.prev_hash) != h.hash
        {
            return Err(AuditError::Rewritten(h.count));
        }
        current = h;
        rest = &records[1..];
    }
    let mut seen = HashSet::new();
    for rec in rest {
        link(&current, rec)?;
        check_proof(rec, keys, true, &mut seen)?;
        current = AuditHead {
            count: rec.seq,
            hash: rec.entry.chain_hash(rec.seq, &current.hash),
        };
    }
    Ok(current)
}

/// Checks that `rec` follows `prev` and that its stored hashes are the ones its fields give.
fn link(prev: &AuditHead, rec: &AuditRecord) -> Result<(), AuditError> {
    let recomputed = rec.entry.chain_hash(rec.seq, &prev.hash);
    if rec.seq != prev.count + 1 || rec.prev_hash[..] != prev.hash[..] || rec.hash[..] != recomputed
    {
        return Err(AuditError::Broken((prev.count + 1).min(rec.seq)));
    }
    Ok(())
}

/// A head taken on trust from the newest entry a server shows (a client's first login): the
/// entry's own hash must be the one its fields give. Compare it with the administrator's
/// `admin audit verify` out of band.
pub fn head_of(newest: &AuditRecord) -> Result<AuditHead, AuditError> {
    let hash = newest.entry.chain_hash(newest.seq, &newest.prev_hash);
    if newest.hash[..] != hash {
        return Err(AuditError::Broken(newest.seq));
    }
    Ok(AuditHead {
        count: newest.seq,
        hash,
    })
}

/// What a whole-log check found.
#[derive(Debug, Clone)]
pub struct LogReport {
    /// The newest entry.
    pub head: AuditHead,
    /// Entries whose signature was checked.
    pub signed: i64,
    /// The first entry carrying a signature (signed acts before it predate signing).
    pub signed_from: Option<i64>,
}

/// Checks the whole log in `store` from entry 1: every hash and link, every proof, and from
/// the first proof on every signed act carrying one; and that the log still holds every head
/// in `expected` (heads recorded before).
pub async fn verify_log(
    store: &Store,
    keys: &Keys<'_>,
    expected: &[AuditHead],
) -> Result<Result<LogReport, AuditError>, StoreError> {
    let mut current = AuditHead {
        count: 0,
        hash: [0; 32],
    };
    let mut seen = HashSet::new();
    let mut signed = 0i64;
    let mut signed_from = None;
    loop {
        let page = store.audit_entries(current.count + 1, 1000).await?;
        if page.is_empty() {
            break;
        }
        for rec in &page {
            if let Err(e) = link(&current, rec) {
                return Ok(Err(e));
            }
            match check_proof(rec, Some(keys), signed_from.is_some(), &mut seen) {
                Ok(true) => {
                    signed += 1;
                    signed_from.get_or_insert(rec.seq);
                }
                Ok(false) => {}
                Err(e) => return Ok(Err(e)),
            }
            current = AuditHead {
                count: rec.seq,
                hash: rec.entry.chain_hash(rec.seq, &current.hash),
            };
            if expected
                .iter()
                .any(|x| x.count == rec.seq && x.hash != current.hash)
            {
                return Ok(Err(AuditError::Rewritten(rec.seq)));
            }
        }
    }
    if let Some(x) = expected.iter().max_by_key(|x| x.count)
        && x.count > current.count
    {
        return Ok(Err(AuditError::Truncated {
            found: current.count,
            seen: x.count,
        }));
    }
    Ok(Ok(LogReport {
        head: current,
        signed,
        signed_from,
    }))
}
