//! Shared helpers for integration tests.
#![allow(dead_code)]

pub mod bot;
pub mod evidence;
pub mod review;

use std::io::Write;

use tipline::store::Store;

/// The environment variable naming the PostgreSQL server for tests; `.ci/run` sets it.
pub const POSTGRES_URL_VAR: &str = "TIPLINE_TEST_POSTGRES_URL";

/// Says loudly, past the test harness's output capture, that a test was skipped.
pub fn skipped(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {test}: {why} ***\n");
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite_store() -> (Store, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("tipline.db").display());
    let store = Store::open(&url).await.unwrap();
    (store, dir, url)
}

/// A fresh PostgreSQL database for one test; dropped by [`PgDatabase::drop_database`].
pub struct PgDatabase {
    admin_url: String,
    name: String,
    /// The URL of the fresh database.
    pub url: String,
}

impl PgDatabase {
    /// Creates a fresh database, or returns `None` (after saying so loudly) when
    /// `TIPLINE_TEST_POSTGRES_URL` is not set.
    pub async fn create(test: &str) -> Option<PgDatabase> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            skipped(
                test,
                &format!("{POSTGRES_URL_VAR} is not set, so the PostgreSQL variant did not run"),
            );
            return None;
        };
        let name = format!(
            "tipline_test_{}",
            hex::encode(tipline::crypto::random_array::<6>())
        );
        let pool = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect to the test PostgreSQL server");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let url = replace_database(&admin_url, &name);
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// Drops the database (after the test's pools are closed).
    pub async fn drop_database(self) {
        let pool = sqlx::PgPool::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
}

/// `postgres://user@host:port/db?x` with the database part replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
