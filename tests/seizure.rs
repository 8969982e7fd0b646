//! Someone seizes the running server: the database, the log at the default level, metrics
//! scrapes taken after each report, and the server secret. They suspect a list of Telegram
//! accounts and want to know which of them reported, and which case is whose. Known accounts
//! report through the real bot; others abandon a draft, hit a limit, or never write. The
//! attacker then tries every channel: rows keyed by each suspect's pseudonym, the order of
//! cases, items, receipts and audit entries, log lines and metrics.

use crate::common;

use std::sync::{Arc, Mutex};

use common::bot::{Harness, Options};
use tipline::crypto::ItemKind;
use tipline::sim::{Citizen, SimUser};
use tipline::store::Store;

/// Everything the bot logs at the default level, as the seized log file would hold it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static LOG: std::sync::OnceLock<Log> = std::sync::OnceLock::new();

/// The process's log, captured at `info` (the default of `serve`) from the first call on.
fn log() -> Log {
    LOG.get_or_init(|| {
        let log = Log::default();
        let writer = log.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        log
    })
    .clone()
}

fn log_text() -> String {
    String::from_utf8_lossy(&log().0.lock().unwrap()).into_owned()
}

async fn english_report(c: &Citizen) {
    common::bot::english_report_to_review(c).await;
    c.press("✅ Send report").await;
}

/// True when `v` is in increasing or decreasing order (what a counter would give).
fn monotonic(v: &[i64]) -> bool {
    v.windows(2).all(|w| w[0] < w[1]) || v.windows(2).all(|w| w[0] > w[1])
}

const REPORTERS: u64 = 8;

/// The two backends' runs share the process's log when run in one process (`--include-ignored`):
/// one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn seizure(store: Store, raw: RawDb) {
    let _serial = SERIAL.lock().await;
    let _ = log();
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::start_on(
        store,
        Options {
            env: vec![("TIPLINE_RECEIPT_ATTEMPTS_PER_HOUR", "2")],
            ..Options::default()
        },
        dir.path(),
    )
    .await;
    let base = 8_100_000 + u64::from(rand_u16()) * 100;
    let reporters: Vec<u64> = (0..REPORTERS).map(|i| base + i).collect();
    let abandoners: Vec<u64> = (0..3).map(|i| base + 20 + i).collect();
    let limited: Vec<u64> = (0..3).map(|i| base + 40 + i).collect();
    let silent: Vec<u64> = (0..3).map(|i| base + 60 + i).collect();

    // Reports, with a metrics scrape after each (the period index tells scrapes that may
    // legitimately differ: the counter moves once an hour).
    let scrape = || {
        let now = tipline::clock::unix_now();
        let text = tipline::metrics::METRICS.render(None);
        let reports = text
            .lines()
            .find(|l| l.starts_with("tipline_reports_submitted_total "))
            .unwrap()
            .to_owned();
        (now.div_euclid(3600), reports)
    };
    let mut scrapes = vec![scrape()];
    let log_before = log_text().len();
    let mut codes = Vec::new();
    for (i, id) in reporters.iter().enumerate() {
        let c = h.citizen(SimUser::new(*id, "Reporter").language("en"));
        english_report(&c).await;
        let (code, receipt) = common::bot::submitted(&c);
        codes.push(code);
        // Some keep the receipt message a while, some press "saved" and wipe the chat, one
        // checks the status with the receipt: none of it may leave a trace either.
        match i % 3 {
            0 => {
                c.press("🗑 I've copied it").await;
                c.press("Copied, delete it").await;
                c.press("🧹 Delete the conversation").await;
            }
            1 => {
                c.command("/status").await;
                common::bot::send_receipt(&c, &receipt).await;
            }
            _ => {}
        }
        scrapes.push(scrape());
    }
    let reporting_log = log_text()[log_before..].to_owned();
    // Others: a draft left half-way, too many wrong receipts, nothing at all.
    for id in &abandoners {
        let c = h.citizen(SimUser::new(*id, "Abandoner").language("en"));
        c.command("/start").await;
        c.press("English").await;
        c.press("✅ I agree, start").await;
        c.press("Charged unlawful fees").await;
    }
    for id in &limited {
        let c = h.citizen(SimUser::new(*id, "Limited").language("en"));
        for _ in 0..3 {
            c.command("/status").await;
            c.send("ABCD-EFGH-JKMN-PQRS-TVWX").await;
        }
    }

    // ---- The seizure: the database, the log, the scrapes and the server secret. ----
    let secret = h.server_secret();
    let now = tipline::clock::unix_now();

    // 1. Who reported: rows under each suspect's pseudonym.
    for id in reporters.iter().chain(&limited).chain(&silent) {
        let p = secret.pseudonym(i64::try_from(*id).unwrap());
        assert!(
            h.store.load_draft(&p, now).await.unwrap().is_none(),
            "a draft names account {id}"
        );
    }
    // (People mid-dialogue have a draft: unavoidable while the bot holds the dialogue, and
    // written down in the threat model. It says they have not sent that report.)
    for id in &abandoners {
        let p = secret.pseudonym(i64::try_from(*id).unwrap());
        assert!(h.store.load_draft(&p, now).await.unwrap().is_some());
    }
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM rate_limits").await,
        0,
        "no per-person counter is written"
    );

    // 2. Which case is whose: nothing keeps the order in which the reports came.
    let mut summary_ids = Vec::new();
    for code in &codes {
        let case = h
            .store
            .case_by_code(&tipline::ids::CaseCode::parse(code).unwrap())
            .await
            .unwrap();
        let items = h.store.items(&case.id).await.unwrap();
        let summary = items.iter().find(|i| i.kind == ItemKind::Summary).unwrap();
        summary_ids.push(summary.id);
    }
    assert!(!monotonic(&summary_ids), "item ids follow submission order");
    if let Some(rowids) = raw.rowids(&codes).await {
        let (cases, receipts): (Vec<i64>, Vec<i64>) = rowids.into_iter().unzip();
        assert!(!monotonic(&cases), "cases.rowid follows submission order");
        assert!(
            !monotonic(&receipts),
            "receipts.rowid follows submission order"
        );
    }
    let submitted = |entries: &[tipline::store::AuditRecord]| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e.entry.action == "case.submit")
            .filter_map(|e| e.entry.case_code.clone())
            .filter(|c| codes.contains(c))
            .collect()
    };
    let log_now = h.store.audit_entries(1, 100_000).await.unwrap();
    assert!(
        submitted(&log_now).is_empty(),
        "the audit log records intake only in the day's batch"
    );
    h.store
        .audit_intake(tipline::clock::Day::today().plus(1))
        .await
        .unwrap();
    let batch = submitted(&h.store.audit_entries(1, 100_000).await.unwrap());
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(
        batch, sorted,
        "the batch is ordered by case code, not by time"
    );

    // 3. When: no log line at the default level while people reported, and no scrape moved
    //    within an hour.
    assert!(
        reporting_log.trim().is_empty(),
        "log lines while reporting: {reporting_log}"
    );
    for pair in scrapes.windows(2) {
        if pair[0].0 == pair[1].0 {
            assert_eq!(pair[0].1, pair[1].1, "a scrape moved with a report");
        }
    }
    let all = log_text();
    for code in &codes {
        assert!(!all.contains(code.as_str()), "a case code in the log");
    }
    for id in reporters.iter().chain(&abandoners).chain(&limited) {
        assert!(!all.contains(&id.to_string()), "a Telegram id in the log");
    }
    h.stop().await;
}

fn rand_u16() -> u16 {
    u16::from_be_bytes(tipline::crypto::random_array())
}

/// The seized database read directly, as the attacker would.
enum RawDb {
    Sqlite(String),
    Postgres(String),
}

impl RawDb {
    async fn count(&self, sql: &str) -> i64 {
        match self {
            RawDb::Sqlite(url) => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                n
            }
            RawDb::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                n
            }
        }
    }

    /// SQLite's hidden rowids of each case and its receipt (`None` on PostgreSQL, which has
    /// none; its physical row order is a residual risk in the threat model).
    async fn rowids(&self, codes: &[String]) -> Option<Vec<(i64, i64)>> {
        let RawDb::Sqlite(url) = self else {
            return None;
        };
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let mut out = Vec::new();
        for code in codes {
            let row: (i64, i64) = sqlx::query_as(
                "SELECT c.rowid, r.rowid FROM cases c JOIN receipts r ON r.case_id = c.id WHERE c.code = ?",
            )
            .bind(code)
            .fetch_one(&pool)
            .await
            .unwrap();
            out.push(row);
        }
        pool.close().await;
        Some(out)
    }
}

#[test]
fn seized_sqlite_server_links_no_one_to_a_report() {
    common::in_own_process("seizure::seized_sqlite_server_links_no_one_to_a_report_alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run in a process of its own by seized_sqlite_server_links_no_one_to_a_report"]
async fn seized_sqlite_server_links_no_one_to_a_report_alone() {
    let (store, _dir, url) = common::sqlite_store().await;
    seizure(store, RawDb::Sqlite(url)).await;
}

#[test]
fn seized_postgres_server_links_no_one_to_a_report() {
    common::in_own_process("seizure::seized_postgres_server_links_no_one_to_a_report_alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run in a process of its own by seized_postgres_server_links_no_one_to_a_report"]
async fn seized_postgres_server_links_no_one_to_a_report_alone() {
    let Some(db) =
        common::PgDatabase::create("seized_postgres_server_links_no_one_to_a_report").await
    else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    seizure(store.clone(), RawDb::Postgres(db.url.clone())).await;
    store.close().await;
    db.drop_database().await;
}
