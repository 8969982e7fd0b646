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
//! Rolling upgrades: a migration whose file name is `NNNN_additive_….sql` only adds (tables,
//! nullable columns, indexes) and promises that the previous release keeps working beside it.
//! An older binary that meets such a migration it does not know still starts and reports ready
//! ([`SchemaState::AheadAdditive`]); any other unknown migration makes it refuse to run
//! ([`StoreError::IncompatibleSchema`]) and report not ready, so replicas are replaced one by
//! one only across additive releases (deploy/README.md, "Upgrades").
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
pub mod bench;
mod cases;
mod drafts;
mod keyring;
pub(crate) mod keys;
mod migrations;
mod ops;
mod review;

pub use audit::{AuditEntry, AuditProof, AuditRecord, AuditVerifyError, ProofSigner};
pub use cases::{CaseRow, CaseStatus, ItemRow, NewCase, NewItem, Outcome, ReceiptCase};
pub use drafts::{DraftRow, DraftSave};
pub use keyring::{Keyring, KeyringChange, Recipient, StoredStatement};
pub use ops::{BackupError, ChatLock};
pub use review::{
    DisclosureDecision, DisclosureRequest, DisclosureStatus, ItemHeader, QueueCursor, QueueFilter,
    QueueViewer, TokenRole, TokenRow, VersionedItem, transition_allowed,
};

use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

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
    /// A submission's draft was changed since it was read (a second Send for the same draft,
    /// perhaps on another replica): nothing was written.
    #[error("the draft was changed concurrently; nothing was submitted")]
    StaleDraft,
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
    /// The database has a migration this version does not know and that is not marked
    /// additive: this version must not run against it.
    #[error(
        "the database has migration {0}, which this version of tipline does not know and which is not marked additive: run the newer version, or restore the backup taken before the upgrade"
    )]
    IncompatibleSchema(i64),
    /// A command that must not create a database found none at this SQLite path.
    #[error("there is no tipline database at {0}")]
    NoDatabase(String),
}

/// How the database's schema relates to the migrations embedded in this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// Every embedded migration is applied, and nothing else.
    Current,
    /// Some embedded migrations are not applied yet (or the migrations table is missing).
    Pending,
    /// Every embedded migration is applied, and newer ones that are all marked additive.
    AheadAdditive,
    /// The database has a newer migration that is not marked additive.
    Incompatible(i64),
}

/// The description prefix (`NNNN_additive_….sql`) that marks a migration additive.
const ADDITIVE_PREFIX: &str = "additive";

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
    // `dispatch!(@on backend, pool => …)`: on a given backend (the drafts' connection).
    (@on $backend:expr, $pool:ident => $body:expr) => {
        match $backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::store::dispatch!(@on &$store.backend, $pool => $body)
    };
}
pub(crate) use dispatch;

/// SQL that differs between the dialects.
pub(crate) struct Dialect {
    /// Serializes audit appends within a transaction (SQLite's `BEGIN IMMEDIATE` already does).
    pub audit_lock: &'static str,
    /// Appended to a `SELECT` whose rows the transaction goes on to change, so that concurrent
    /// transactions on PostgreSQL queue for them instead of deciding on the same old state
    /// (under `BEGIN IMMEDIATE` SQLite has one writer at a time already).
    pub for_update: &'static str,
    /// The column and the value that give a new row of a table without an integer key a
    /// random place instead of the next one: SQLite's hidden `rowid` otherwise counts up and
    /// keeps the order of inserts (of cases and receipts: the order of reports). Empty on
    /// PostgreSQL, which has no such column (its physical order is a residual risk, see
    /// docs/THREAT_MODEL.md).
    pub random_rowid: (&'static str, &'static str),
}

const SQLITE_DIALECT: Dialect = Dialect {
    audit_lock: "SELECT 1",
    for_update: "",
    random_rowid: ("rowid, ", "random() / 2, "),
};

const POSTGRES_DIALECT: Dialect = Dialect {
    // An arbitrary constant naming "the audit chain" among advisory locks.
    audit_lock: "SELECT pg_advisory_xact_lock(7428001)",
    for_update: " FOR UPDATE",
    random_rowid: ("", ""),
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
    /// Where drafts are written: on PostgreSQL the same pool; on SQLite one connection of its
    /// own whose commits are not fsynced ([`Store::connect`]).
    pub(crate) drafts: Backend,
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
                drafts: Backend::Postgres(pool.clone()),
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
                // A file on this machine does not go stale between uses: no ping (a round
                // trip to the connection's thread) before every query.
                .test_before_acquire(false)
                .connect_with(opts.clone())
                .await?;
            // Drafts are written on one connection whose commits are not fsynced: in WAL mode
            // a commit then survives the process's crash but not a power cut, which may undo
            // the last few seconds of dialogue steps (the person answers a question again).
            // That fsync was a fifth of a dialogue step's CPU (BENCHMARKS.md, "Load"). Cases,
            // receipts, the draft committed with a case and every review action stay on the
            // pool above, fsynced on commit; a later fsynced commit also makes the earlier
            // draft writes durable (one WAL).
            let drafts = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .connect_lazy_with(opts.synchronous(SqliteSynchronous::Normal));
            Ok(Store {
                backend: Backend::Sqlite(pool),
                drafts: Backend::Sqlite(drafts),
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

    /// Like [`Store::open`], but never creates a database: an SQLite URL whose file does not
    /// exist is [`StoreError::NoDatabase`]. For commands that work on the service's database
    /// (administration), where a new empty file would mean the wrong database was configured.
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?;
            let path = opts.get_filename();
            if !path.exists() {
                return Err(StoreError::NoDatabase(path.display().to_string()));
            }
        }
        Self::open(url).await
    }

    /// Applies pending migrations. Newer migrations that this binary does not know are
    /// tolerated when they are all additive (a rolling upgrade in progress); otherwise
    /// [`StoreError::IncompatibleSchema`].
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let unknown = match self.schema_state().await? {
            SchemaState::Incompatible(v) => return Err(StoreError::IncompatibleSchema(v)),
            SchemaState::AheadAdditive => true,
            SchemaState::Current | SchemaState::Pending => false,
        };
        if unknown {
            // sqlx refuses applied migrations it does not know unless told to ignore them;
            // only additive ones reach this point.
            let mut tolerant =
                sqlx::migrate::Migrator::with_migrations(self.migrator().iter().cloned().collect());
            tolerant.set_ignore_missing(true);
            dispatch!(self, pool => {
                tolerant.run(pool).await?;
            });
        } else {
            dispatch!(self, pool => {
                self.migrator().run(pool).await?;
            });
        }
        self.backfill_case_keys().await?;
        Ok(())
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite(_) => &SQLITE_MIGRATIONS,
            Backend::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// True when every embedded migration has been applied and nothing this binary does not
    /// know (see [`Store::schema_state`]).
    pub async fn migrations_current(&self) -> Result<bool, StoreError> {
        Ok(self.schema_state().await? == SchemaState::Current)
    }

    /// Compares the applied migrations with the embedded ones (for readiness and `migrate`).
    pub async fn schema_state(&self) -> Result<SchemaState, StoreError> {
        let exists_sql = match self.backend {
            Backend::Sqlite(_) => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres(_) => {
                "SELECT COUNT(*) FROM pg_catalog.pg_tables \
                 WHERE tablename = '_sqlx_migrations' AND schemaname = current_schema()"
            }
        };
        let exists: i64 = dispatch!(self, pool => {
            sqlx::query_scalar(exists_sql).fetch_one(pool).await?
        });
        if exists == 0 {
            return Ok(SchemaState::Pending);
        }
        let applied: Vec<(i64, String)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT version, description FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await?
        });
        Ok(compare_schema(
            self.migrator().iter().map(|m| m.version),
            &applied,
        ))
    }

    /// A cheap round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// True on SQLite.
    pub(crate) fn is_sqlite(&self) -> bool {
        matches!(self.backend, Backend::Sqlite(_))
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
        dispatch!(@on &self.drafts, pool => pool.close().await);
        dispatch!(self, pool => pool.close().await)
    }
}

/// The schema state from the embedded versions and the applied `(version, description)` rows.
fn compare_schema(known: impl Iterator<Item = i64>, applied: &[(i64, String)]) -> SchemaState {
    let known: Vec<i64> = known.collect();
    let mut ahead = false;
    for (version, description) in applied {
        if known.contains(version) {
            continue;
        }
        if !description.starts_with(ADDITIVE_PREFIX) {
            return SchemaState::Incompatible(*version);
        }
        ahead = true;
    }
    if known.iter().any(|k| !applied.iter().any(|(v, _)| v == k)) {
        SchemaState::Pending
    } else if ahead {
        SchemaState::AheadAdditive
    } else {
        SchemaState::Current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_states() {
        let row = |v: i64, d: &str| (v, d.to_owned());
        let known = || [1_i64, 2, 3].into_iter();
        let base = vec![row(1, "initial"), row(2, "review"), row(3, "webhook")];
        assert_eq!(compare_schema(known(), &base), SchemaState::Current);
        assert_eq!(compare_schema(known(), &base[..2]), SchemaState::Pending);
        let mut ahead = base.clone();
        ahead.push(row(4, "additive case tags"));
        assert_eq!(compare_schema(known(), &ahead), SchemaState::AheadAdditive);
        ahead.push(row(5, "split items"));
        assert_eq!(
            compare_schema(known(), &ahead),
            SchemaState::Incompatible(5)
        );
    }
}
