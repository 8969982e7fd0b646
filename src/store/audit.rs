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

    pub(crate) fn chain_hash(&self, seq: i64, prev: &[u8]) -> [u8; 32] {
        crate::crypto::chain_hash(
            prev,
            &[
                &seq.to_be_bytes(),
                &self.day.0.to_be_bytes(),
                self.actor.as_bytes(),
                self.action.as_bytes(),
                self.case_code.as_deref().unwrap_or("").as_bytes(),
                &[u8::from(self.case_code.is_some())],
                self.detail.as_bytes(),
            ],
        )
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
            "INSERT INTO audit_log (seq, day, actor, action, case_code, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(entry.day.0)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(entry.case_code.as_deref())
        .bind(&entry.detail)
        .bind(&prev[..])
        .bind(&hash[..])
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
        );
        let rows: Vec<Row> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT seq, day, actor, action, case_code, detail, prev_hash, hash FROM audit_log \
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
                |(seq, day, actor, action, case_code, detail, prev_hash, hash)| AuditRecord {
                    seq,
                    entry: AuditEntry {
                        day: Day(day),
                        actor,
                        action,
                        case_code,
                        detail,
                    },
                    prev_hash,
                    hash,
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
