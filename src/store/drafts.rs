//! Drafts of reports in progress (encrypted by the bot under a server-secret-derived key and
//! keyed by pseudonym) and per-pseudonym rate-limit counters.
//!
//! Drafts carry a version for optimistic concurrency: a save names the version it read, and a
//! concurrent save from another replica makes it fail with [`StoreError::Conflict`] instead of
//! silently overwriting. Expiry times are rounded up to the hour and rate-limit windows are
//! aligned to their length, so these rows do not record when exactly someone was active.

use super::{Backend, PoolExt, Store, StoreError, dispatch};
use crate::crypto::Pseudonym;

/// A stored draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftRow {
    /// The server secret version whose key encrypted `state`.
    pub secret_version: u32,
    /// The encrypted dialogue state.
    pub state: Vec<u8>,
    /// Increases with every save.
    pub version: i64,
    /// Unix seconds after which the draft is purged.
    pub expires_at: i64,
}

/// A draft to save.
#[derive(Debug, Clone)]
pub struct DraftSave<'a> {
    /// Whose draft.
    pub pseudonym: &'a Pseudonym,
    /// The server secret version whose key encrypted `state`.
    pub secret_version: u32,
    /// The encrypted dialogue state.
    pub state: &'a [u8],
    /// The version read before this change, or `None` for a new draft.
    pub expected_version: Option<i64>,
    /// Unix seconds after which it may be purged (rounded up to the hour here).
    pub expires_at: i64,
}

pub(crate) fn round_up_to_hour(t: i64) -> i64 {
    t.div_euclid(3600) * 3600 + if t.rem_euclid(3600) == 0 { 0 } else { 3600 }
}

/// Writes a draft inside the write transaction `$tx` if nobody changed it since
/// `expected_version`: `Some(new version)`, or `None` when it was changed (nothing written).
/// Shared by [`Store::save_draft`] and the submission, which commits the case and the
/// submitted draft together.
macro_rules! write_draft {
    ($tx:expr, $d:expr) => {{
        let d: &$crate::store::DraftSave<'_> = $d;
        let expires = $crate::store::drafts::round_up_to_hour(d.expires_at);
        let sv = i64::from(d.secret_version);
        match d.expected_version {
            None => {
                // A new draft; an expired leftover with the same pseudonym is replaced.
                sqlx::query("DELETE FROM drafts WHERE pseudonym = $1 AND expires_at <= $2")
                    .bind(&d.pseudonym.0[..])
                    .bind($crate::clock::unix_now())
                    .execute(&mut *$tx)
                    .await?;
                let n = sqlx::query(
                    "INSERT INTO drafts (pseudonym, secret_version, state, version, expires_at) \
                     VALUES ($1, $2, $3, 1, $4) ON CONFLICT (pseudonym) DO NOTHING",
                )
                .bind(&d.pseudonym.0[..])
                .bind(sv)
                .bind(d.state)
                .bind(expires)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
                (n == 1).then_some(1i64)
            }
            Some(v) => {
                let n = sqlx::query(
                    "UPDATE drafts SET secret_version = $1, state = $2, version = version + 1, expires_at = $3 \
                     WHERE pseudonym = $4 AND version = $5",
                )
                .bind(sv)
                .bind(d.state)
                .bind(expires)
                .bind(&d.pseudonym.0[..])
                .bind(v)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
                (n == 1).then_some(v + 1)
            }
        }
    }};
}
pub(crate) use write_draft;

impl Store {
    /// Loads the draft of `pseudonym`, if any and not expired at `now`.
    pub async fn load_draft(
        &self,
        pseudonym: &Pseudonym,
        now: i64,
    ) -> Result<Option<DraftRow>, StoreError> {
        let row: Option<(i64, Vec<u8>, i64, i64)> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT secret_version, state, version, expires_at FROM drafts \
                 WHERE pseudonym = $1 AND expires_at > $2",
            )
            .bind(&pseudonym.0[..])
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(sv, state, version, expires_at)| {
            Ok(DraftRow {
                secret_version: u32::try_from(sv)
                    .map_err(|_| StoreError::Malformed("draft secret version"))?,
                state,
                version,
                expires_at,
            })
        })
        .transpose()
    }

    /// Saves a draft if nobody changed it since `expected_version`; returns the new version.
    /// Durable once it returns, power cuts included.
    pub async fn save_draft(&self, d: &DraftSave<'_>) -> Result<i64, StoreError> {
        self.write_draft_on(&self.backend, d).await
    }

    /// [`Store::save_draft`] for a step of a dialogue in progress: on SQLite through the
    /// connection whose commits are not fsynced, so a power cut may undo it (never a crash
    /// of the process); see [`Store::connect`]. A draft that owes or shows a receipt goes
    /// through [`Store::save_draft`].
    pub async fn save_draft_step(&self, d: &DraftSave<'_>) -> Result<i64, StoreError> {
        self.write_draft_on(&self.drafts, d).await
    }

    async fn write_draft_on(&self, on: &Backend, d: &DraftSave<'_>) -> Result<i64, StoreError> {
        if let Some(v) = d.expected_version {
            // One statement, atomic on its own: no transaction around it (on SQLite that
            // saves a BEGIN and a COMMIT round trip to the connection's thread every step).
            let expires = round_up_to_hour(d.expires_at);
            let n = dispatch!(@on on, pool => {
                sqlx::query(
                    "UPDATE drafts SET secret_version = $1, state = $2, version = version + 1, \
                     expires_at = $3 WHERE pseudonym = $4 AND version = $5",
                )
                .bind(i64::from(d.secret_version))
                .bind(d.state)
                .bind(expires)
                .bind(&d.pseudonym.0[..])
                .bind(v)
                .execute(pool)
                .await?
                .rows_affected()
            });
            return if n == 1 {
                Ok(v + 1)
            } else {
                Err(StoreError::Conflict)
            };
        }
        dispatch!(@on on, pool => {
            let mut tx = pool.begin_write().await?;
            let v = write_draft!(tx, d);
            tx.commit().await?;
            v.ok_or(StoreError::Conflict)
        })
    }

    /// One page of stored drafts (expired ones included), in pseudonym order after `after`:
    /// for the start-up sweep that delivers receipts a crash left owed. Only the bot's key can
    /// tell what a draft holds, so the sweep must read them all.
    pub async fn drafts_page(
        &self,
        after: Option<&Pseudonym>,
        limit: i64,
    ) -> Result<Vec<(Pseudonym, DraftRow)>, StoreError> {
        let after: Vec<u8> = after.map(|p| p.0.to_vec()).unwrap_or_default();
        /// pseudonym, secret version, state, version, expiry.
        type Row = (Vec<u8>, i64, Vec<u8>, i64, i64);
        let rows: Vec<Row> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT pseudonym, secret_version, state, version, expires_at FROM drafts \
                 WHERE pseudonym > $1 ORDER BY pseudonym LIMIT $2",
            )
            .bind(&after[..])
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(p, sv, state, version, expires_at)| {
                let p: [u8; 32] = p
                    .try_into()
                    .map_err(|_| StoreError::Malformed("draft pseudonym"))?;
                Ok((
                    Pseudonym(p),
                    DraftRow {
                        secret_version: u32::try_from(sv)
                            .map_err(|_| StoreError::Malformed("draft secret version"))?,
                        state,
                        version,
                        expires_at,
                    },
                ))
            })
            .collect()
    }

    /// Deletes the draft of `pseudonym` (finished, cancelled or wiped).
    pub async fn delete_draft(&self, pseudonym: &Pseudonym) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            sqlx::query("DELETE FROM drafts WHERE pseudonym = $1")
                .bind(&pseudonym.0[..])
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes drafts that expired before `now`; returns how many.
    pub async fn purge_expired_drafts(&self, now: i64) -> Result<u64, StoreError> {
        let n = dispatch!(self, pool => {
            sqlx::query("DELETE FROM drafts WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Counts one event for `pseudonym` in `bucket` within a window of `window_secs` seconds
    /// and says whether it is within `max` events. Denied events count too (a flood does not
    /// reset its own window).
    pub async fn rate_limit_hit(
        &self,
        pseudonym: &Pseudonym,
        bucket: &str,
        window_secs: i64,
        max: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let window_start = now - now.rem_euclid(window_secs.max(1));
        // One atomic statement, so concurrent replicas cannot both read N and both write N+1.
        let count: i64 = dispatch!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO rate_limits (pseudonym, bucket, window_start, count) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (pseudonym, bucket) DO UPDATE SET \
                 count = CASE WHEN rate_limits.window_start = excluded.window_start \
                              THEN rate_limits.count + 1 ELSE 1 END, \
                 window_start = excluded.window_start \
                 RETURNING count",
            )
            .bind(&pseudonym.0[..])
            .bind(bucket)
            .bind(window_start)
            .fetch_one(pool)
            .await?
        });
        Ok(count <= max)
    }

    /// Deletes rate-limit rows whose window started before `before`; returns how many.
    pub async fn purge_rate_limits(&self, before: i64) -> Result<u64, StoreError> {
        let n = dispatch!(self, pool => {
            sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rounding() {
        assert_eq!(super::round_up_to_hour(3600), 3600);
        assert_eq!(super::round_up_to_hour(3601), 7200);
        assert_eq!(super::round_up_to_hour(1), 3600);
    }
}
