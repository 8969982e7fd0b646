//! The append-only, hash-chained audit log. Each row's hash covers the previous row's hash and
//! all of its own fields, so altering, inserting or deleting a row in the middle breaks the
//! chain at that row. (Cutting rows off the end is caught by comparing the head hash that
//! `tipline admin audit verify` prints with one recorded earlier.) Rows hold actors, actions,
//! case codes and short details: never content, never identity data.

use super::{PoolExt, Store, StoreError, dispatch};
use crate::clock::Day;

/// A new audit entry.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The day it happened.
    pub day: Day,
    /// Who acted: `bot`, `reporter`, `admin-cli`, or a staff key id.
    pub actor: String,
    /// What happened, as a dotted verb (`case.submit`, `recipient.add`, …).
    pub action: String,
    /// The case concerned, if any (public case code).
    pub case_code: Option<String>,
    /// A short content-free detail (a key id, a status, a count).
    pub detail: String,
    /// For a signed act, the signature that proves it ([`AuditProof`], encoded).
    pub proof: Option<Vec<u8>>,
}

impl AuditEntry {
    /// An entry for today.
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            day: Day::today(),
            actor: actor.into(),
            action: action.into(),
            case_code: None,
            detail: String::new(),
            proof: None,
        }
    }

    /// Sets the case.
    pub fn case(mut self, code: impl Into<String>) -> Self {
        self.case_code = Some(code.into());
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Sets the proof of a signed act.
    pub fn proof(mut self, proof: Option<Vec<u8>>) -> Self {
        self.proof = proof;
        self
    }

    /// The entry's hash: it covers the previous entry's hash and every field, the proof (as an
    /// eighth part) when there is one.
    pub fn chain_hash(&self, seq: i64, prev: &[u8]) -> [u8; 32] {
        let seq = seq.to_be_bytes();
        let day = self.day.0.to_be_bytes();
        let has_case = [u8::from(self.case_code.is_some())];
        let mut parts: Vec<&[u8]> = vec![
            &seq,
            &day,
            self.actor.as_bytes(),
            self.action.as_bytes(),
            self.case_code.as_deref().unwrap_or("").as_bytes(),
            &has_case,
            self.detail.as_bytes(),
        ];
        if let Some(p) = &self.proof {
            parts.push(p);
        }
        crate::crypto::chain_hash(prev, &parts)
    }
}

/// A stored audit row.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The entry.
    pub entry: AuditEntry,
    /// The previous row's hash (zeros for the first).
    pub prev_hash: Vec<u8>,
    /// This row's hash.
    pub hash: Vec<u8>,
}

/// Why verification failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuditVerifyError {
    /// The row with this sequence number does not match the chain.
    #[error("the audit chain is broken at entry {0}")]
    BrokenAt(i64),
}

/// Appends `$entry` to the audit log inside the open transaction `$tx` of pool `$pool`;
/// evaluates to the new sequence number.
macro_rules! append_audit {
    ($pool:expr, $tx:expr, $entry:expr) => {{
        let entry: &$crate::store::AuditEntry = $entry;
        sqlx::query($crate::store::PoolExt::dialect($pool).audit_lock)
            .execute(&mut *$tx)
            .await?;
        let last: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *$tx)
                .await?;
        let (seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, vec![0u8; 32]),
        };
        let hash = entry.chain_hash(seq, &prev);
        sqlx::query(
            "INSERT INTO audit_log (seq, day, actor, action, case_code, detail, prev_hash, hash, proof) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(entry.day.0)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(entry.case_code.as_deref())
        .bind(&entry.detail)
        .bind(&prev[..])
        .bind(&hash[..])
        .bind(entry.proof.as_deref())
        .execute(&mut *$tx)
        .await?;
        seq
    }};
}
pub(crate) use append_audit;

impl Store {
    /// Appends one entry in its own transaction; returns its sequence number.
    pub async fn audit(&self, entry: AuditEntry) -> Result<i64, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let seq = append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(seq)
        })
    }

    /// The number of entries (the newest one's sequence number; 0 when empty).
    pub async fn audit_count(&self) -> Result<i64, StoreError> {
        let n: Option<i64> = dispatch!(self, pool => {
            sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
                .fetch_one(pool)
                .await?
        });
        Ok(n.unwrap_or(0))
    }

    /// Reads `limit` entries starting at sequence number `from`.
    pub async fn audit_entries(
        &self,
        from: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        type Row = (
            i64,
            i64,
            String,
            String,
            Option<String>,
            String,
            Vec<u8>,
            Vec<u8>,
            Option<Vec<u8>>,
        );
        let rows: Vec<Row> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT seq, day, actor, action, case_code, detail, prev_hash, hash, proof FROM audit_log \
                 WHERE seq >= $1 ORDER BY seq LIMIT $2",
            )
            .bind(from)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(seq, day, actor, action, case_code, detail, prev_hash, hash, proof)| {
                    AuditRecord {
                        seq,
                        entry: AuditEntry {
                            day: Day(day),
                            actor,
                            action,
                            case_code,
                            detail,
                            proof,
                        },
                        prev_hash,
                        hash,
                    }
                },
            )
            .collect())
    }

    /// Walks the whole chain. Returns the number of entries and the head hash, or the first
    /// entry that does not match.
    pub async fn audit_verify(
        &self,
    ) -> Result<Result<(i64, [u8; 32]), AuditVerifyError>, StoreError> {
        let mut expected_seq = 1i64;
        let mut prev = [0u8; 32];
        loop {
            let page = self.audit_entries(expected_seq, 1000).await?;
            if page.is_empty() {
                return Ok(Ok((expected_seq - 1, prev)));
            }
            for rec in page {
                let recomputed = rec.entry.chain_hash(rec.seq, &prev);
                if rec.seq != expected_seq
                    || rec.prev_hash[..] != prev[..]
                    || rec.hash[..] != recomputed[..]
                {
                    return Ok(Err(AuditVerifyError::BrokenAt(expected_seq.min(rec.seq))));
                }
                prev = recomputed;
                expected_seq += 1;
            }
        }
    }
}

/// The proof an audit entry of a signed act carries: what was signed, under which context, and
/// by whom. Encoded as a sequence of fields, each a 4-byte big-endian length and its bytes:
/// the magic `tipline audit proof v1`, the signing context, the signed message, the signer's
/// kind (`authority` or `key`), then for `authority` the statement's signatures as stored
/// (JSON text) and for `key` the signer's X25519 public key (32) and Ed25519 signature (64).
/// The store writes and returns proofs as bytes; [`crate::trust::audit`] checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditProof {
    /// The signing context (`keyring-statement`, `disclosure-request`, …).
    pub context: String,
    /// The signed message.
    pub message: Vec<u8>,
    /// Who signed it.
    pub signer: ProofSigner,
}

/// The signer of an [`AuditProof`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofSigner {
    /// The keyring authority (a statement): its signatures as stored.
    Authority(String),
    /// A recipient's signing key.
    Key {
        /// The recipient's X25519 public key (which names it in the keyring).
        key: [u8; 32],
        /// The Ed25519 signature.
        signature: [u8; 64],
    },
}

const PROOF_MAGIC: &[u8] = b"tipline audit proof v1";

impl AuditProof {
    /// A proof signed by a recipient key.
    pub fn by_key(context: &str, message: Vec<u8>, key: [u8; 32], signature: [u8; 64]) -> Self {
        Self {
            context: context.to_owned(),
            message,
            signer: ProofSigner::Key { key, signature },
        }
    }

    /// The signature bytes of a key-signed proof.
    pub fn signature(&self) -> Option<&[u8]> {
        match &self.signer {
            ProofSigner::Key { signature, .. } => Some(signature),
            ProofSigner::Authority(_) => None,
        }
    }

    /// The encoding stored in `audit_log.proof`.
    pub fn encode(&self) -> Vec<u8> {
        let mut fields: Vec<&[u8]> = vec![PROOF_MAGIC, self.context.as_bytes(), &self.message];
        match &self.signer {
            ProofSigner::Authority(sigs) => {
                fields.push(b"authority");
                fields.push(sigs.as_bytes());
            }
            ProofSigner::Key { key, signature } => {
                fields.push(b"key");
                fields.push(key);
                fields.push(signature);
            }
        }
        let mut out = Vec::new();
        for f in fields {
            out.extend_from_slice(&u32::try_from(f.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    /// Decodes [`AuditProof::encode`]'s bytes; `None` for anything else (trailing bytes too).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut fields = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
            if tail.len() < len {
                return None;
            }
            let (field, tail) = tail.split_at(len);
            fields.push(field);
            rest = tail;
        }
        let [magic, context, message, kind, signer @ ..] = fields.as_slice() else {
            return None;
        };
        if *magic != PROOF_MAGIC {
            return None;
        }
        let signer = match (*kind, signer) {
            (b"authority", [sigs]) => {
                ProofSigner::Authority(String::from_utf8(sigs.to_vec()).ok()?)
            }
            (b"key", [key, sig]) => ProofSigner::Key {
                key: (*key).try_into().ok()?,
                signature: (*sig).try_into().ok()?,
            },
            _ => return None,
        };
        Some(Self {
            context: String::from_utf8(context.to_vec()).ok()?,
            message: message.to_vec(),
            signer,
        })
    }
}
