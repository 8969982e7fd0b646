//! What running several replicas and operating the service need from the store: claiming
//! update ids (a redelivered update is recognised), per-person locks across replicas, queue
//! depth for metrics, and the online SQLite backup.
//!
//! Invariants: a claim row holds an update id and a day, never a pseudonym or a chat; a chat
//! lock on PostgreSQL is a transaction-scoped advisory lock, so a crashed or cancelled holder
//! releases it with its transaction (a session lock could leak into the pool); backups are
//! written to a new file created 0600 with O_EXCL, never over an existing one.

use std::path::Path;

use super::{Backend, CaseStatus, Store, StoreError, dispatch};

/// A per-person lock across replicas, held until [`ChatLock::release`] or drop.
///
/// On PostgreSQL this is an open transaction holding `pg_advisory_xact_lock(key)`; on SQLite
/// (one process only) there is nothing to hold across processes and the caller's in-process
/// lock suffices.
pub struct ChatLock {
    tx: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

impl ChatLock {
    /// Releases the lock (ends its transaction). Dropping does the same, later.
    pub async fn release(mut self) {
        if let Some(tx) = self.tx.take() {
            // Nothing was written in this transaction: committing only ends it.
            let _ = tx.commit().await;
        }
    }
}

/// Why a backup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL: use `pg_dump` (see deploy/README.md).
    #[error("this database is PostgreSQL: back it up with pg_dump (see deploy/README.md)")]
    NotSqlite,
    /// The target exists already.
    #[error("{0} exists already; refusing to overwrite a backup")]
    Exists(String),
    /// Creating the target file failed.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The target.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Claims an update id for handling; false when it was claimed before (a redelivery).
    pub async fn claim_update(&self, update_id: u32, day: i64) -> Result<bool, StoreError> {
        let n = dispatch!(self, pool => {
            sqlx::query(
                "INSERT INTO processed_updates (update_id, day) VALUES ($1, $2) \
                 ON CONFLICT (update_id) DO NOTHING",
            )
            .bind(i64::from(update_id))
            .bind(day)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Deletes update claims from before `day`; returns how many.
    pub async fn purge_processed_updates(&self, day: i64) -> Result<u64, StoreError> {
        let n = dispatch!(self, pool => {
            sqlx::query("DELETE FROM processed_updates WHERE day < $1")
                .bind(day)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Takes the cross-replica lock for `key` (derived from a pseudonym), waiting for it.
    pub async fn lock_chat(&self, key: i64) -> Result<ChatLock, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(ChatLock { tx: None }),
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                Ok(ChatLock { tx: Some(tx) })
            }
        }
    }

    /// How many cases are in each status (every status listed, zero included).
    pub async fn case_counts(&self) -> Result<Vec<(CaseStatus, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT status, COUNT(*) FROM cases GROUP BY status")
                .fetch_all(pool)
                .await?
        });
        Ok(CaseStatus::ALL
            .iter()
            .map(|s| {
                let n = rows
                    .iter()
                    .filter(|(name, _)| name == s.as_str())
                    .map(|(_, n)| *n)
                    .sum();
                (*s, n)
            })
            .collect())
    }

    /// Writes a consistent copy of the SQLite database to `out` while the service runs
    /// (`VACUUM INTO`, which reads one snapshot and also drops free pages, so purged content
    /// is not carried over). `out` must not exist; it is created 0600 first.
    pub async fn backup_sqlite(&self, out: &Path) -> Result<u64, BackupError> {
        use std::os::unix::fs::OpenOptionsExt;
        let Backend::Sqlite(pool) = &self.backend else {
            return Err(BackupError::NotSqlite);
        };
        let shown = out.display().to_string();
        // O_EXCL: an existing file (or a symlink planted in its place) is never written through.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(out)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(BackupError::Exists(shown));
            }
            Err(source) => {
                return Err(BackupError::Create {
                    path: shown,
                    source,
                });
            }
        }
        let path = out.to_str().ok_or_else(|| BackupError::Create {
            path: shown.clone(),
            source: std::io::Error::other("the path is not valid UTF-8"),
        })?;
        // VACUUM INTO accepts an existing empty file, so the 0600 file made above is used.
        let result = sqlx::query("VACUUM INTO $1").bind(path).execute(pool).await;
        if let Err(e) = result {
            let _ = std::fs::remove_file(out);
            return Err(StoreError::from(e).into());
        }
        let len =
            std::fs::metadata(out)
                .map(|m| m.len())
                .map_err(|source| BackupError::Create {
                    path: shown,
                    source,
                })?;
        Ok(len)
    }
}
