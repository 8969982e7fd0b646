//! What running several replicas and operating the service need from the store: claiming
//! update ids (a redelivered update is recognised), per-person locks across replicas, queue
//! depth for metrics, and the online SQLite backup.
//!
//! Invariants: a claim row holds an update id and a day, never a pseudonym or a chat; a chat
//! lock on PostgreSQL is a transaction-scoped advisory lock, so a crashed or cancelled holder
//! releases it with its transaction (a session lock could leak into the pool), and waiting for
//! it is bounded (`lock_timeout`); a backup is written inside a new private directory and then
//! linked into place, never over an existing file and never through a planted symlink.

use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// The target's path is not valid UTF-8 (SQLite takes a text file name).
    #[error("the backup path {0} is not valid UTF-8")]
    Path(String),
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

    /// Takes the cross-replica lock for `key` (derived from a pseudonym), waiting at most
    /// `wait` for it (PostgreSQL's `lock_timeout`; the error is then a database error, which
    /// the webhook answers 503 so that Telegram delivers again later).
    pub async fn lock_chat(&self, key: i64, wait: Duration) -> Result<ChatLock, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(ChatLock { tx: None }),
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // SET takes no bind parameters; the value is a number formatted here.
                let ms = wait.as_millis().clamp(1, i32::MAX as u128);
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SET LOCAL lock_timeout = {ms}"
                )))
                .execute(&mut *tx)
                .await?;
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

    /// Writes a consistent copy of the SQLite database to `out` while the service runs.
    ///
    /// Why `VACUUM INTO` and not SQLite's online backup API: the backup API copies pages as
    /// they are, free pages and the unused space of pages included, and restarts whenever
    /// another connection writes (under steady traffic it may never finish unless it locks
    /// writers out). `VACUUM INTO` reads one snapshot in a single read transaction (writers go
    /// on) and writes only live rows into fresh pages: no free pages, no remnants of deleted
    /// cells, so nothing purged travels in a backup, whether or not `secure_delete` was on
    /// when it was deleted.
    ///
    /// The copy is made inside a new directory (mode 0700, created fresh next to `out`), set
    /// to 0600 there, and hard-linked to `out`: `link(2)` fails if `out` exists (a file, or a
    /// symlink planted in its place), so nothing is overwritten or written through, and
    /// nobody else can open the file while SQLite writes it.
    pub async fn backup_sqlite(&self, out: &Path) -> Result<u64, BackupError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let Backend::Sqlite(pool) = &self.backend else {
            return Err(BackupError::NotSqlite);
        };
        let shown = out.display().to_string();
        let create = |source: std::io::Error| BackupError::Create {
            path: shown.clone(),
            source,
        };
        if out.symlink_metadata().is_ok() {
            return Err(BackupError::Exists(shown));
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let work = parent.join(format!(
            ".tipline-backup-{}",
            hex::encode(crate::crypto::random_array::<8>())
        ));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&work)
            .map_err(create)?;
        let tmp = work.join("backup.db");
        let result = async {
            let tmp_text = tmp
                .to_str()
                .ok_or_else(|| BackupError::Path(shown.clone()))?;
            sqlx::query("VACUUM INTO $1")
                .bind(tmp_text)
                .execute(pool)
                .await
                .map_err(StoreError::from)?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(create)?;
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(create)?;
            match std::fs::hard_link(&tmp, out) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(BackupError::Exists(shown.clone()));
                }
                Err(e) => return Err(create(e)),
            }
            std::fs::metadata(out).map(|m| m.len()).map_err(create)
        }
        .await;
        // The private directory goes in every case; `out` (if linked) keeps the data.
        let _ = std::fs::remove_dir_all(&work);
        if result.is_ok()
            && let Ok(dir) = std::fs::File::open(&parent)
        {
            // Make the new name durable (best effort: some file systems refuse a directory fsync).
            let _ = dir.sync_all();
        }
        result
    }
}
