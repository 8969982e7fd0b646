//! The ops listener's readiness on both backends, through HTTP and through the real
//! `tipline healthcheck` probe: 503 with one fixed phrase while migrations are pending, when
//! the database has a migration this version does not know (unless it is marked additive, as a
//! rolling upgrade needs), without an active reviewer or custodian key, when the database is
//! down, and as soon as shutdown begins; 200 otherwise. And admin commands refuse to create a
//! new SQLite database where the service's database was meant.

use crate::common;

use std::process::Command;

use tipline::crypto::{RecipientRole, suite};
use tipline::ops::{OpsState, router};
use tipline::store::Store;

/// The ops router on a free port; the stop flag can be raised.
struct Ops {
    url: String,
    stopping: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Ops {
    async fn start(store: &Store) -> Ops {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/readyz", listener.local_addr().unwrap());
        let (stopping, rx) = tokio::sync::watch::channel(false);
        let app = router(OpsState::new(store.clone(), rx));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Ops {
            url,
            stopping,
            task,
        }
    }

    /// The status and body of /readyz, and whether `tipline healthcheck` agreed.
    async fn readyz(&self) -> (u16, String) {
        let r = reqwest::get(&self.url).await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        let url = self.url.clone();
        let probe = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_tipline"))
                .args(["healthcheck", &url])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(
            probe.status.success(),
            status == 200,
            "healthcheck disagrees with /readyz ({status} {body})"
        );
        if status != 200 {
            let err = String::from_utf8_lossy(&probe.stderr);
            assert!(err.contains(body.trim()), "healthcheck said {err:?}");
        }
        (status, body)
    }
}

/// Runs SQL on the test's own connection (the schema table is not the store's business).
async fn exec(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

/// A migration row as sqlx writes it, for a version this binary does not have.
fn future_migration(url: &str, version: i64, description: &str) -> String {
    let checksum = if url.starts_with("sqlite:") {
        "X'00'"
    } else {
        "'\\x00'::bytea"
    };
    format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ({version}, '{description}', TRUE, {checksum}, 0)"
    )
}

async fn readiness_story(url: &str) {
    // Connected, nothing migrated.
    let store = Store::connect(url).await.unwrap();
    let ops = Ops::start(&store).await;
    assert_eq!(
        ops.readyz().await,
        (503, "not ready: database migrations pending\n".into())
    );
    store.migrate().await.unwrap();
    assert_eq!(
        ops.readyz().await,
        (503, "not ready: no active reviewer key\n".into())
    );
    store
        .add_recipient(
            &suite::generate_keypair().1,
            RecipientRole::Reviewer,
            "R",
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        ops.readyz().await,
        (503, "not ready: no active custodian key\n".into())
    );
    store
        .add_recipient(
            &suite::generate_keypair().1,
            RecipientRole::Custodian,
            "C",
            "test",
        )
        .await
        .unwrap();
    assert_eq!(ops.readyz().await, (200, "ready\n".into()));

    // A newer release applied an additive migration (a rolling upgrade in progress): this
    // version stays ready, and starts again (its migrate tolerates the unknown one).
    exec(
        url,
        &future_migration(url, 99_990_001, "additive future index"),
    )
    .await;
    assert_eq!(ops.readyz().await, (200, "ready\n".into()));
    let again = Store::open(url)
        .await
        .expect("an additive migration is tolerated");
    again.close().await;
    // A newer migration that is not additive: not ready, and this version refuses to run.
    exec(url, &future_migration(url, 99_990_002, "split items table")).await;
    assert_eq!(
        ops.readyz().await,
        (
            503,
            "not ready: the database has migrations this version does not know\n".into()
        )
    );
    let e = Store::open(url).await.unwrap_err().to_string();
    assert!(
        e.contains("migration 99990002") && e.contains("not marked additive"),
        "{e}"
    );
    exec(url, "DELETE FROM _sqlx_migrations WHERE version > 99990000").await;
    assert_eq!(ops.readyz().await, (200, "ready\n".into()));
    // Shutdown begins: not ready at once, whatever the database says.
    ops.stopping.send(true).unwrap();
    assert_eq!(
        ops.readyz().await,
        (503, "not ready: shutting down\n".into())
    );
    ops.stopping.send(false).unwrap();
    assert_eq!(ops.readyz().await.0, 200);

    // A migration of this version missing (an older database restored under a newer binary).
    exec(
        url,
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .await;
    assert_eq!(
        ops.readyz().await,
        (503, "not ready: database migrations pending\n".into())
    );

    // The database goes away.
    store.close().await;
    assert_eq!(
        ops.readyz().await,
        (503, "not ready: database unreachable\n".into())
    );
    ops.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("tipline.db").display());
    readiness_story(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_on_postgres() {
    let Some(db) = common::PgDatabase::create("readiness_on_postgres").await else {
        return;
    };
    readiness_story(&db.url).await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_database_down_from_the_start_is_not_ready() {
    // Nothing listens on this port: the probe fails fast and says why.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["healthcheck", &format!("http://127.0.0.1:{port}/readyz")])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("asking the ops listener"));
}

#[test]
fn admin_commands_never_create_a_database() {
    let tmp = tempfile::tempdir().unwrap();
    // The administrator forgot TIPLINE_DATABASE_URL_FILE on a PostgreSQL host: the default
    // SQLite path in the data directory does not exist.
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for args in [
        &["admin", "recipients", "list"][..],
        &["admin", "audit", "verify"],
        &["admin", "purge"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
            .args(args)
            .env("TIPLINE_DATA_DIR", &data)
            .env_remove("TIPLINE_DATABASE_URL")
            .env_remove("TIPLINE_DATABASE_URL_FILE")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            err.contains("admin commands never create one")
                && err.contains("TIPLINE_DATABASE_URL_FILE"),
            "{args:?}: {err}"
        );
        assert!(
            std::fs::read_dir(&data).unwrap().next().is_none(),
            "{args:?} created a file"
        );
    }
    // After `init`, the same command works.
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("init")
        .env("TIPLINE_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["admin", "recipients", "list"])
        .env("TIPLINE_DATA_DIR", &data)
        .env_remove("TIPLINE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
