//! `tipline reviewload`: the review API under a large queue (issue 19). Fills a database with
//! synthetic cases shaped like a mature install's ([`crate::store::bench`]), serves the real
//! review API on it in this process, and times its endpoints through HTTP as a reviewer's
//! client would: the first page of the queue, a filtered page, the next page by cursor, a
//! page far into the queue, claiming, one case's detail, and the detail and claim while eight
//! listings run at once. Prints medians, 99th percentiles and the process's peak memory.
//!
//! A database that already holds exactly the asked number of cases (a previous run's) is used
//! as it is; any other non-empty database is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use secrecy::ExposeSecret;

use crate::crypto::{ItemKind, RecipientRole, Sealed, suite};
use crate::ids::CaseId;
use crate::review::server::{ApiState, serve};
use crate::review::wire::{ClaimResult, PREFIX, QueuePage};
use crate::store::bench::BenchSeed;
use crate::store::{Store, TokenRole};

/// What to run.
pub struct Options {
    /// The database (a fresh one, or one a previous run filled with `cases`).
    pub database: String,
    /// Cases in the queue.
    pub cases: u64,
    /// Requests timed per operation.
    pub samples: usize,
}

/// Runs the bench and prints its table.
pub async fn run(o: &Options) -> anyhow::Result<()> {
    let store = Store::open(&o.database)
        .await
        .context("open the database")?;
    let have = store.case_count().await?;
    if have != 0 && have != o.cases as i64 {
        bail!(
            "the database holds {have} cases, not {} and not none: give reviewload an empty \
             database (it writes synthetic cases into it)",
            o.cases
        );
    }
    let ring = store.keyring().await?;
    let ring = if ring.reviewers.is_empty() {
        for (role, name) in [
            (RecipientRole::Reviewer, "bench reviewer 1"),
            (RecipientRole::Reviewer, "bench reviewer 2"),
            (RecipientRole::Reviewer, "bench reviewer 3"),
            (RecipientRole::Custodian, "bench custodian 1"),
            (RecipientRole::Custodian, "bench custodian 2"),
        ] {
            let (_, pk) = suite::generate_keypair();
            store.add_recipient(&pk, role, name, "reviewload").await?;
        }
        store.keyring().await?
    } else {
        ring
    };
    let id = CaseId::random();
    let summary = Sealed::seal(&vec![0u8; 900], ItemKind::Summary, &id, &ring.reviewers)?;
    let identity = Sealed::seal(&vec![0u8; 200], ItemKind::Identity, &id, &ring.custodians)?;
    if have == 0 {
        let seed = BenchSeed {
            summary: summary.as_bytes(),
            identity: identity.as_bytes(),
            today: crate::clock::Day::today().0,
        };
        let started = Instant::now();
        let total = o.cases;
        let mut last = Instant::now();
        store
            .seed_bench_cases(0, o.cases, &seed, &mut |done| {
                if last.elapsed() > Duration::from_secs(10) || done == total {
                    eprintln!("reviewload: {done} of {total} cases written");
                    last = Instant::now();
                }
            })
            .await?;
        eprintln!(
            "reviewload: {} cases written in {:.0} s",
            o.cases,
            started.elapsed().as_secs_f64()
        );
    }
    let reviewer = ring.reviewers[0].key_id();
    let token = crate::review::auth::issue(
        &store,
        TokenRole::Reviewer,
        Some(reviewer),
        3600,
        "reviewload",
    )
    .await?;
    let state = ApiState::new(store.clone(), 1, 180, Vec::new(), Vec::new(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}{PREFIX}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let http = Http {
        client: reqwest::Client::new(),
        base,
        bearer: format!("Bearer {}", token.token.expose_secret()),
    };
    let peak = Arc::new(AtomicU64::new(0));
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = tokio::spawn(watch_rss(peak.clone(), watching.clone()));
    let result = measure(&http, o).await;
    watching.store(false, Ordering::Relaxed);
    let _ = watcher.await;
    let _ = stop.send(());
    let _ = server.await;
    let rows = result?;
    println!(
        "\nreview API, {} cases on {}, {} requests each (ms):",
        o.cases,
        if o.database.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        o.samples
    );
    println!("{:<52} {:>8} {:>8}", "operation", "p50", "p99");
    for (name, t) in rows {
        println!("{name:<52} {:>8.2} {:>8.2}", t.p50(), t.p99());
    }
    println!(
        "peak RSS of this process (server and client) while measuring: {} MiB",
        peak.load(Ordering::Relaxed) / 1024
    );
    store.close().await;
    Ok(())
}

/// The API's address and the reviewer's token.
struct Http {
    client: reqwest::Client,
    base: String,
    bearer: String,
}

impl Http {
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("authorization", &self.bearer)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("GET {path}: {}", r.status());
        }
        Ok(r.json().await?)
    }

    async fn send(&self, method: reqwest::Method, path: &str) -> anyhow::Result<bytes::Bytes> {
        let r = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .header("authorization", &self.bearer)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("{method} {path}: {}", r.status());
        }
        Ok(r.bytes().await?)
    }
}

/// Durations of one operation.
#[derive(Default)]
struct Timings(Vec<f64>);

impl Timings {
    fn push(&mut self, since: Instant) {
        self.0.push(since.elapsed().as_secs_f64() * 1000.0);
    }
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }
    fn p50(&self) -> f64 {
        self.quantile(0.50)
    }
    fn p99(&self) -> f64 {
        self.quantile(0.99)
    }
}

/// Times `path` `n` times.
async fn time_get(http: &Http, path: &str, n: usize) -> anyhow::Result<Timings> {
    let mut t = Timings::default();
    for _ in 0..n {
        let start = Instant::now();
        let _: QueuePage = http.get(path).await?;
        t.push(start);
    }
    Ok(t)
}

/// Times claiming (each claimed case released again, untimed).
async fn time_claims(http: &Http, n: usize) -> anyhow::Result<Timings> {
    let mut t = Timings::default();
    for _ in 0..n {
        let start = Instant::now();
        let got: ClaimResult =
            serde_json::from_slice(&http.send(reqwest::Method::POST, "/cases/claim").await?)?;
        t.push(start);
        if let Some(c) = got.case {
            http.send(reqwest::Method::DELETE, &format!("/cases/{}/claim", c.code))
                .await?;
        }
    }
    Ok(t)
}

/// Times one case's detail over the codes given, round and round.
async fn time_details(http: &Http, codes: &[String], n: usize) -> anyhow::Result<Timings> {
    let mut t = Timings::default();
    for i in 0..n {
        let start = Instant::now();
        http.send(
            reqwest::Method::GET,
            &format!("/cases/{}", codes[i % codes.len()]),
        )
        .await?;
        t.push(start);
    }
    Ok(t)
}

async fn measure(http: &Http, o: &Options) -> anyhow::Result<Vec<(&'static str, Timings)>> {
    let n = o.samples;
    let first: QueuePage = http.get("/cases?per_page=50").await?;
    let codes: Vec<String> = first.cases.iter().map(|c| c.code.clone()).collect();
    if codes.is_empty() {
        bail!("the queue is empty");
    }
    let next = first.next.clone().unwrap_or_default();
    // A place about half way through three years of cases.
    let middle = crate::store::QueueCursor {
        created_day: crate::clock::Day::today().0 - 547,
        code: "KH-AAAA-AAAA".into(),
    };
    let mut rows = vec![
        (
            "GET /cases (first page of 50)",
            time_get(http, "/cases?per_page=50", n).await?,
        ),
        (
            "GET /cases?status=new",
            time_get(http, "/cases?status=new&per_page=50", n).await?,
        ),
        (
            "GET /cases?unread=true",
            time_get(http, "/cases?unread=true&per_page=50", n).await?,
        ),
        (
            "GET /cases?after= (the second page)",
            time_get(http, &format!("/cases?per_page=50&after={next}"), n).await?,
        ),
        (
            "GET /cases?after= (half way through)",
            time_get(http, &format!("/cases?per_page=50&after={middle}"), n).await?,
        ),
        ("POST /cases/claim", time_claims(http, n).await?),
        ("GET /cases/{code}", time_details(http, &codes, n).await?),
    ];
    // Eight listings at once, round and round, while one client claims and reads a case.
    let busy = Arc::new(AtomicBool::new(true));
    let mut listers = Vec::new();
    for i in 0..8 {
        let busy = busy.clone();
        let http = Http {
            client: http.client.clone(),
            base: http.base.clone(),
            bearer: http.bearer.clone(),
        };
        listers.push(tokio::spawn(async move {
            let path = if i % 2 == 0 {
                "/cases?per_page=200"
            } else {
                "/cases?status=closed&per_page=200"
            };
            let mut done = 0u64;
            while busy.load(Ordering::Relaxed) {
                if http.get::<QueuePage>(path).await.is_err() {
                    break;
                }
                done += 1;
            }
            done
        }));
    }
    let claims = time_claims(http, n).await;
    let details = time_details(http, &codes, n).await;
    busy.store(false, Ordering::Relaxed);
    let mut listed = 0;
    for l in listers {
        listed += l.await.unwrap_or(0);
    }
    rows.push(("POST /cases/claim, 8 listings of 200 running", claims?));
    rows.push(("GET /cases/{code}, 8 listings of 200 running", details?));
    eprintln!("reviewload: the eight listers made {listed} listings meanwhile");
    Ok(rows)
}

/// Keeps the highest resident set size (KiB) seen in `peak` while `on`.
async fn watch_rss(peak: Arc<AtomicU64>, on: Arc<AtomicBool>) {
    while on.load(Ordering::Relaxed) {
        if let Ok(s) = std::fs::read_to_string("/proc/self/status")
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        {
            peak.fetch_max(kb, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
