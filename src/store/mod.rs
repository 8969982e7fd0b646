//! Storage: one domain-level API over SQLite (the embedded default) and PostgreSQL (production
//! and replicas).
//!
//! Both backends run the same SQL text wherever the dialects agree (`$1` placeholders work in
//! both); the [`dispatch!`] macro expands a method body once per backend, so each expansion is
//! type-checked against its own driver and there is no `Any` driver with its lossy types. Where
//! the dialects differ (locking, upserts of identity columns) the method says so in SQL of its
//! own. Migrations live in `migrations/sqlite` and `migrations/postgres` and are embedded in the
//! binary.
//!
//! Invariants: the store holds no plaintext a reporter wrote — only sealed envelopes, lookup
//! ids, public keys, pseudonyms and day numbers; every multi-row change is one transaction;
//! SQLite write transactions begin IMMEDIATE so that concurrent writers queue instead of
//! failing on lock upgrade.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod audit;
mod cases;
mod drafts;
mod keyring;
mod ops;
mod review;

pub use audit::{AuditEntry, AuditRecord, AuditVerifyError};
pub use cases::{CaseRow, CaseStatus, ItemRow, NewCase, NewItem, Outcome, ReceiptCase};
pub use drafts::{DraftRow, DraftSave};
pub use keyring::{Keyring, Recipient};
pub use ops::{BackupError, ChatLock};
pub use review::{
    DisclosureDecision, DisclosureRequest, DisclosureStatus, ItemHeader, QueueFilter, TokenRole,
    TokenRow, VersionedItem, transition_allowed,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error. Callers treat this as
    /// transient ("your draft is safe, try again in a minute").
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL is not one tipline understands.
    #[error("unsupported database URL (expected sqlite:PATH or postgres://…)")]
    UnsupportedUrl,
    /// A row was changed by someone else since it was read (optimistic concurrency).
    #[error("the record was changed concurrently")]
    Conflict,
    /// The object does not exist (or is not visible to the caller; the two look the same).
    #[error("not found")]
    NotFound,
    /// The object exists already.
    #[error("already exists")]
    AlreadyExists,
    /// A stored value could not be interpreted (corruption or a newer schema).
    #[error("stored data is malformed: {0}")]
    Malformed(&'static str),
    /// The requested change is not allowed in the object's current state.
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    /// True when the error is a momentary failure of the database (worth a retry later).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Database(_))
    }
}

/// Which database a [`Store`] talks to.
#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Expands `$body` once per backend with `$pool` bound to that backend's pool.
macro_rules! dispatch {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use dispatch;

/// SQL that differs between the dialects.
pub(crate) struct Dialect {
    /// Serializes audit appends within a transaction (SQLite's `BEGIN IMMEDIATE` already does).
    pub audit_lock: &'static str,
}

const SQLITE_DIALECT: Dialect = Dialect {
    audit_lock: "SELECT 1",
};

const POSTGRES_DIALECT: Dialect = Dialect {
    // An arbitrary constant naming "the audit chain" among advisory locks.
    audit_lock: "SELECT pg_advisory_xact_lock(7428001)",
};

/// What the two pool types offer the dispatched method bodies.
pub(crate) trait PoolExt {
    type Db: sqlx::Database;
    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, `BEGIN` on PostgreSQL.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send;
    /// The dialect's differing SQL.
    fn dialect(&self) -> &'static Dialect;
}

impl PoolExt for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
    fn dialect(&self) -> &'static Dialect {
        &SQLITE_DIALECT
    }
}

impl PoolExt for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send {
        self.begin()
    }
    fn dialect(&self) -> &'static Dialect {
        &POSTGRES_DIALECT
    }
}

/// The storage handle. Cheap to clone (pools are shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.backend_name())
    }
}

impl Store {
    /// Connects to `url`: `sqlite:PATH` (created if missing, WAL) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(opts)
                .await?;
            Ok(Store {
                backend: Backend::Postgres(pool),
            })
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // A report acknowledged to a citizen must survive a power cut.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Overwrite deleted content, so purged drafts and cases do not linger in free pages.
                .pragma("secure_delete", "ON");
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Store {
                backend: Backend::Sqlite(pool),
            })
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            self.migrator().run(pool).await?;
        });
        Ok(())
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite(_) => &SQLITE_MIGRATIONS,
            Backend::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// True when every embedded migration has been applied (for readiness checks).
    pub async fn migrations_current(&self) -> Result<bool, StoreError> {
        let latest = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> = dispatch!(self, pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await?
        });
        Ok(applied == Some(latest))
    }

    /// A cheap round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes the pools (waits for connections to be returned).
    pub async fn close(&self) {
        dispatch!(self, pool => pool.close().await)
    }
}
