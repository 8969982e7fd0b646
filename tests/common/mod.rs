//! Shared helpers for integration tests.
#![allow(dead_code)]

pub mod bot;
pub mod evidence;
pub mod review;

use std::io::Write;

use tipline::store::Store;

/// The environment variable naming the PostgreSQL server for tests; `.ci/run` sets it.
pub const POSTGRES_URL_VAR: &str = "TIPLINE_TEST_POSTGRES_URL";

/// Set by `.ci/run`: in CI nothing may be skipped, since a skip would pass silently.
pub const CI_VAR: &str = "TIPLINE_CI";

/// Says loudly, past the test harness's output capture, that a test was skipped; under CI
/// (`TIPLINE_CI=1`) fails the test instead, because `.ci/run` installs everything tests need.
pub fn skipped(test: &str, why: &str) {
    if std::env::var(CI_VAR).is_ok_and(|v| v == "1") {
        panic!("{test} would be skipped under CI ({why}); .ci/run must provide what it needs");
    }
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {test}: {why} ***\n");
}

/// Set in the process [`in_own_process`] starts.
const ALONE_VAR: &str = "TIPLINE_TEST_ALONE";

/// Runs `test` (an `#[ignore]`d test of this binary, by its full name) in a process of its own
/// and fails if it fails, or if it did not run: for a test that reads the whole process (its
/// log, its peak memory) while the rest of the suite runs in parallel in this one. The child's
/// output is printed (shown on failure, or with `--nocapture`); a skip is said past capture.
pub fn in_own_process(test: &str) {
    assert!(
        std::env::var_os(ALONE_VAR).is_none(),
        "{test}: in_own_process called from a process it started"
    );
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ALONE_VAR, "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    if stderr.contains("*** SKIPPED") {
        let _ = std::io::stderr().write_all(stderr.as_bytes());
    } else {
        eprint!("{stderr}");
    }
    assert!(
        out.status.success(),
        "{test} failed in its own process (output above)"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{test} did not run in its own process (output above)"
    );
}

/// The keyring authority the tests play: a fixed key (tests only), so every `serve` a test
/// starts can pin it with `TIPLINE_AUTHORITY` ([`authority_pin`]).
pub fn test_authority() -> tipline::crypto::sign::SigningKey {
    tipline::crypto::sign::SigningKey::from_seed(&[0x5A; 32])
}

/// The `tlauth1…` string of [`test_authority`].
pub fn authority_pin() -> String {
    test_authority().verifying_key().to_authority_string()
}

/// Registers `key` through a statement signed by [`test_authority`], with a verification key
/// nobody holds (for tests in which this holder signs nothing).
pub async fn register_key(
    store: &Store,
    role: tipline::crypto::RecipientRole,
    name: &str,
    key: tipline::crypto::PublicKey,
) {
    let verify = tipline::crypto::sign::SigningKey::generate().verifying_key();
    register_keys(store, role, name, key, verify).await;
}

/// Registers `key` and the holder's verification key `verify` through a statement signed by
/// [`test_authority`].
pub async fn register_keys(
    store: &Store,
    role: tipline::crypto::RecipientRole,
    name: &str,
    key: tipline::crypto::PublicKey,
    verify: tipline::crypto::sign::VerifyingKey,
) {
    tipline::trust::register(
        store,
        &test_authority(),
        tipline::trust::Op::Add {
            role,
            name: name.into(),
            key,
            verify,
        },
    )
    .await
    .unwrap();
}

/// Retires `key` through a statement signed by [`test_authority`].
pub async fn retire_key(
    store: &Store,
    role: tipline::crypto::RecipientRole,
    key: tipline::crypto::PublicKey,
) {
    tipline::trust::register(
        store,
        &test_authority(),
        tipline::trust::Op::Retire { role, key },
    )
    .await
    .unwrap();
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite_store() -> (Store, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("tipline.db").display());
    let store = Store::open(&url).await.unwrap();
    (store, dir, url)
}

/// How many tests hold a PostgreSQL database at once. Each may run one or more `tipline`
/// processes with a pool of up to 16 connections beside its own store; on a machine with many
/// cores the test threads together could otherwise pass the server's `max_connections` (100 by
/// default), and the bot would rightly answer "the system is briefly unavailable" where a test
/// waits for something else.
static PG_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(3);

/// A fresh PostgreSQL database for one test; dropped by [`PgDatabase::drop_database`]. Holds
/// one of [`PG_SLOTS`] until then (or until the test fails).
pub struct PgDatabase {
    admin_url: String,
    name: String,
    /// The URL of the fresh database.
    pub url: String,
    _slot: tokio::sync::SemaphorePermit<'static>,
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
        let slot = PG_SLOTS
            .acquire()
            .await
            .expect("the semaphore is never closed");
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
            _slot: slot,
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

/// A TCP proxy in front of a server (PostgreSQL, in the outage tests) that a test can cut —
/// every open connection is closed and new ones are refused — and restore, like a database
/// host that is briefly unreachable.
pub struct CuttableProxy {
    /// The address clients connect to.
    pub addr: std::net::SocketAddr,
    cut: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    /// Starts a proxy to `target` on a free port of 127.0.0.1.
    pub async fn start(target: std::net::SocketAddr) -> CuttableProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if *rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut cut = rx.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        CuttableProxy {
            addr,
            cut: std::sync::Arc::new(tx),
            task,
        }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `url` (postgres://user@host:port/db?…) pointed at `addr` instead of its host and port.
pub fn via(url: &str, addr: std::net::SocketAddr) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    let host_start = rest.find('@').map(|i| i + 1).unwrap_or(0);
    let host_end = rest[host_start..]
        .find(['/', '?'])
        .map(|i| i + host_start)
        .unwrap_or(rest.len());
    format!(
        "{}{}{addr}{}",
        &url[..scheme_end],
        &rest[..host_start],
        &rest[host_end..]
    )
}

/// The host:port of a postgres:// URL.
pub fn pg_addr(url: &str) -> std::net::SocketAddr {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    let host_start = rest.find('@').map(|i| i + 1).unwrap_or(0);
    let host_end = rest[host_start..]
        .find(['/', '?'])
        .map(|i| i + host_start)
        .unwrap_or(rest.len());
    let hostport = &rest[host_start..host_end];
    let hostport = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    };
    std::net::ToSocketAddrs::to_socket_addrs(&hostport)
        .unwrap()
        .next()
        .unwrap()
}
