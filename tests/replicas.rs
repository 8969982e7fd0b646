//! Two real `tipline serve --webhook-url …` processes on one PostgreSQL database behave as one
//! bot: the simulator posts interleaved webhook updates for 50 citizens to both replicas, with
//! duplicate deliveries (concurrently to both replicas, and late, after the answer) and every
//! chat hitting both replicas. Exactly one case per citizen, every draft still readable, every
//! citizen exactly one receipt and exactly the replies of one run through the dialogue; /metrics
//! of both replicas carry no canary. Then SIGTERM while an update is in flight: the update is
//! finished and answered, and the process exits within the bound.
//!
//! A person's lock held elsewhere (a stuck replica) makes a delivery wait at most the update
//! bound and answer 503 with nothing handled; the redelivery after the lock is free is handled
//! once.
//!
//! Skips loudly without TIPLINE_TEST_POSTGRES_URL.

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;
use tipline::bot::texts::Lang;
use tipline::crypto::{ItemKind, RecipientRole, Sealed, ServerSecret, suite};
use tipline::loadtest::{Act, REPORT};
use tipline::sim::{Content, Faults, SimUser, Simulator, Stall, WebhookRouting};
use tipline::store::Store;

const CITIZENS: u64 = 50;
const FIRST_ID: u64 = 7_300_000_000;

struct Replica {
    child: Child,
    hook: String,
    ops: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn first_name(id: u64) -> String {
    format!("Canaryname{id}")
}

fn username(id: u64) -> String {
    format!("canary_user_{id}")
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    dir: &Path,
    db: &str,
    secret_file: &Path,
    sim: &Simulator,
    token: &str,
    log: &Path,
    extra: &[(&str, &str)],
) -> Replica {
    std::fs::create_dir_all(dir).unwrap();
    let (hook_port, ops_port) = (free_port(), free_port());
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args([
            "serve",
            "--webhook-url",
            "https://bot.example.invalid/telegram",
        ])
        .env("TIPLINE_DATA_DIR", dir)
        .env("TIPLINE_AUTHORITY", common::authority_pin())
        // Submission-driven metrics move once a second here (an hour by default).
        .env("TIPLINE_METRICS_PERIOD", "1")
        .env("TIPLINE_DATABASE_URL", db)
        .env("TIPLINE_SERVER_SECRET_FILE", secret_file)
        .env("TELEGRAM_BOT_TOKEN", sim.token())
        .env("TELEGRAM_API_URL", sim.api_url())
        .env("TIPLINE_WEBHOOK_SECRET", token)
        .env("TIPLINE_WEBHOOK_LISTEN", format!("127.0.0.1:{hook_port}"))
        .env("TIPLINE_OPS_LISTEN", format!("127.0.0.1:{ops_port}"))
        // serve also runs the review API: a free port each, so replicas do not collide.
        .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
        .env("TIPLINE_REPORTS_PER_DAY", "5")
        .env("TIPLINE_LOG", "info")
        .envs(extra.iter().copied())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    Replica {
        child,
        hook: format!("http://127.0.0.1:{hook_port}/telegram"),
        ops: format!("http://127.0.0.1:{ops_port}"),
    }
}

async fn wait_ready(http: &reqwest::Client, r: &Replica) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(resp) = http.get(format!("{}/readyz", r.ops)).send().await
            && resp.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "a replica did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Delivers update `id` to `url` and insists on a 2xx (the replica answered after handling it).
async fn deliver(sim: &Simulator, id: u32, url: &str) {
    let status = sim.redeliver(id, url).await.unwrap();
    assert_eq!(status, 200, "delivery of update {id}");
}

/// One citizen's report through both replicas. Returns how many duplicate deliveries it made.
async fn citizen(sim: Simulator, n: u64, a: String, b: String) -> usize {
    let id = FIRST_ID + n;
    let user = SimUser::new(id, first_name(id))
        .username(username(id))
        .language("vi");
    let c = sim.citizen(user.clone());
    let chat = c.chat_id();
    let mut duplicates = 0;
    for (step, (act, expect)) in REPORT.iter().enumerate() {
        let before = sim.bot_messages(chat).len();
        let injected = match act {
            Act::Text(t) => c.inject(Content::text(*t)).unwrap(),
            Act::Press(label) => {
                let msgs = sim.bot_messages(chat);
                let (mid, data) = msgs
                    .iter()
                    .rev()
                    .find_map(|m| {
                        m.inline_keyboard
                            .iter()
                            .flatten()
                            .find(|b| b.text.starts_with(label))
                            .and_then(|b| b.callback_data.clone())
                            .map(|d| (m.message_id, d))
                    })
                    .unwrap_or_else(|| panic!("citizen {n}: no button {label:?}"));
                sim.press_button(&user, chat, mid, &data).unwrap()
            }
        };
        let u = injected.update_id;
        // The chat alternates between replicas; some updates arrive twice.
        let (first, other) = if (n as usize + step).is_multiple_of(2) {
            (&a, &b)
        } else {
            (&b, &a)
        };
        match (n as usize * 7 + step) % 5 {
            // The same update to both replicas at once.
            0 => {
                tokio::join!(deliver(&sim, u, first), deliver(&sim, u, other));
                duplicates += 1;
            }
            // Delivered again to the other replica after it was answered.
            1 => {
                deliver(&sim, u, first).await;
                deliver(&sim, u, other).await;
                duplicates += 1;
            }
            // Telegram's own retry to the same replica.
            2 => {
                deliver(&sim, u, first).await;
                deliver(&sim, u, first).await;
                duplicates += 1;
            }
            _ => deliver(&sim, u, first).await,
        }
        // Every delivery returned after its update was handled: the replies are all there.
        let now = sim.bot_messages(chat).len();
        assert_eq!(
            now,
            before + expect,
            "citizen {n}, step {step}: expected {expect} new bot message(s)\n{}",
            c.transcript()
        );
    }
    duplicates
}

fn metric_sum(texts: &[String], name: &str) -> f64 {
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| l.split_once(' ').map(|(n, _)| n) == Some(name))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_behave_as_one_bot() {
    let Some(db) = common::PgDatabase::create("two_replicas_behave_as_one_bot").await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let log = std::env::var("TIPLINE_DEBUG_LOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().join("replicas.log"));
    let store = Store::open(&db.url).await.unwrap();
    let reviewer = suite::generate_keypair();
    common::register_key(&store, RecipientRole::Reviewer, "R", reviewer.1).await;
    common::register_key(
        &store,
        RecipientRole::Custodian,
        "C",
        suite::generate_keypair().1,
    )
    .await;
    let secret = ServerSecret::generate();
    let secret_file = tmp.path().join("server-secret");
    tipline::crypto::keyfile::write_new_private_file(
        &secret_file,
        secret.expose_file_text().as_bytes(),
    )
    .unwrap();
    let token = hex::encode(tipline::crypto::random_array::<24>());
    let sim = Simulator::builder()
        .record_calls(true)
        .start()
        .await
        .unwrap();

    let mut ra = spawn(
        &tmp.path().join("a"),
        &db.url,
        &secret_file,
        &sim,
        &token,
        &log,
        &[],
    );
    let rb = spawn(
        &tmp.path().join("b"),
        &db.url,
        &secret_file,
        &sim,
        &token,
        &log,
        &[],
    );
    let http = reqwest::Client::new();
    wait_ready(&http, &ra).await;
    wait_ready(&http, &rb).await;
    // Both replicas register the public URL; then the "load balancer" is the test itself.
    assert!(
        sim.wait_until(Duration::from_secs(60), |s| s.calls_to("setWebhook").len()
            >= 2)
            .await,
        "the replicas did not register the webhook"
    );
    sim.set_webhook_targets(
        vec![ra.hook.clone(), rb.hook.clone()],
        Some(token.clone()),
        WebhookRouting::Manual,
    );

    // A request without the secret token is refused and handles nothing.
    let probe = sim
        .citizen(SimUser::new(FIRST_ID - 1, "Probe"))
        .inject(Content::text("/start"))
        .unwrap();
    let resp = http
        .post(&ra.hook)
        .header("X-Telegram-Bot-Api-Secret-Token", "wrong")
        .json(&serde_json::json!({"update_id": probe.update_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);

    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..CITIZENS {
        let (sim, a, b) = (sim.clone(), ra.hook.clone(), rb.hook.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(n * 41 % 3000)).await;
            citizen(sim, n, a, b).await
        }));
    }
    let mut duplicates = 0;
    for t in tasks {
        duplicates += t.await.unwrap();
    }
    eprintln!(
        "{CITIZENS} citizens through two replicas in {:.1} s, {duplicates} duplicate deliveries",
        started.elapsed().as_secs_f64()
    );

    // Exactly one receipt per citizen, and exactly one case each, readable by the reviewer.
    let mut codes = std::collections::BTreeSet::new();
    let mut canaries: Vec<String> = Vec::new();
    for n in 0..CITIZENS {
        let id = FIRST_ID + n;
        let c = sim.citizen(SimUser::new(id, first_name(id)));
        let receipts: Vec<_> = c
            .bot_messages()
            .into_iter()
            .filter(|m| {
                m.text
                    .as_deref()
                    .is_some_and(|t| common::bot::receipt_in(t).is_some())
            })
            .collect();
        assert_eq!(receipts.len(), 1, "citizen {n}: {}", c.transcript());
        let (code, receipt) = common::bot::submitted(&c);
        assert!(codes.insert(code.clone()), "case code {code} given twice");
        let total: usize = REPORT.iter().map(|(_, e)| e).sum();
        assert_eq!(c.bot_messages().len(), total, "citizen {n}: extra replies");
        let t = c.transcript();
        for bad in [
            tipline::bot::texts::db_down(Lang::Vi),
            tipline::bot::texts::error_generic(Lang::Vi),
            tipline::bot::texts::stale_button(Lang::Vi),
        ] {
            assert!(!t.contains(bad), "citizen {n} was told {bad:?}:\n{t}");
        }
        // Nothing of the sent report is kept under the citizen's pseudonym (the draft went
        // once the receipt was delivered, whichever replica delivered it).
        let loaded = tipline::bot::draft::load(&store, &secret, id as i64)
            .await
            .unwrap_or_else(|e| panic!("citizen {n}: draft unreadable: {e}"));
        assert!(!loaded.exists, "citizen {n}: a sent report left a draft");
        canaries.extend([
            id.to_string(),
            first_name(id),
            username(id),
            receipt.clone(),
            receipt.replace('-', ""),
            code,
        ]);
    }
    // The day's batch of intake entries (serve writes it after midnight).
    store
        .audit_intake(tipline::clock::Day::today().plus(1))
        .await
        .unwrap();
    let submitted = store
        .audit_entries(1, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.action == "case.submit")
        .count();
    assert_eq!(submitted as u64, CITIZENS, "one case per citizen");
    for code in &codes {
        let case = store
            .case_by_code(&tipline::ids::CaseCode::parse(code).unwrap())
            .await
            .unwrap();
        let items = store.items(&case.id).await.unwrap();
        let summary = items.iter().find(|i| i.kind == ItemKind::Summary).unwrap();
        let s: Sealed<tipline::bot::summary::CaseSummary> =
            Sealed::from_bytes(summary.blob.clone());
        s.open(ItemKind::Summary, &case.id, &reviewer.0)
            .expect("the reviewer opens every case");
    }
    let counts = store.case_counts().await.unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>() as u64, CITIZENS);

    // Two different updates of one person at the same moment on both replicas (a double tap):
    // the per-person lock runs them one after the other, so neither meets a save conflict.
    let mut taps = Vec::new();
    for n in 0..10 {
        let (sim, a, b) = (sim.clone(), ra.hook.clone(), rb.hook.clone());
        taps.push(tokio::spawn(async move {
            let id = FIRST_ID + n;
            let c = sim.citizen(SimUser::new(id, first_name(id)).language("vi"));
            let before = c.bot_messages().len();
            let one = c.inject(Content::text("/help")).unwrap();
            let two = c.inject(Content::text("/privacy")).unwrap();
            tokio::join!(
                deliver(&sim, one.update_id, &a),
                deliver(&sim, two.update_id, &b)
            );
            let new: Vec<String> = c.bot_messages()[before..]
                .iter()
                .filter_map(|m| m.text.clone())
                .collect();
            assert_eq!(new.len(), 2, "citizen {n}: {}", c.transcript());
            for t in &new {
                assert!(
                    !t.contains(tipline::bot::texts::db_down(Lang::Vi)),
                    "citizen {n}: a double tap met a conflict"
                );
            }
        }));
    }
    for t in taps {
        t.await.unwrap();
    }

    // Metrics of both replicas: the sums add up, and no label or value names anyone. The
    // reports counter shows only whole periods (one second here).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut texts = Vec::new();
    for r in [&ra, &rb] {
        let resp = http.get(format!("{}/metrics", r.ops)).send().await.unwrap();
        assert!(resp.status().is_success());
        texts.push(resp.text().await.unwrap());
    }
    assert_eq!(
        metric_sum(&texts, "tipline_reports_submitted_total"),
        CITIZENS as f64
    );
    assert_eq!(
        metric_sum(&texts, "tipline_duplicate_updates_total"),
        duplicates as f64
    );
    assert_eq!(metric_sum(&texts, "tipline_webhook_rejected_total"), 1.0);
    assert!(texts[0].contains("tipline_cases{status=\"new\"} 50"));
    for text in &texts {
        for canary in &canaries {
            assert!(
                !text.contains(canary.as_str()),
                "/metrics contains {canary:?}"
            );
        }
    }

    // SIGTERM with an update in flight: it is finished and answered, then the process exits.
    sim.set_faults(Faults {
        stall: Some(Stall {
            delay: Duration::from_secs(2),
            every: tipline::sim::EveryNth::new(1).only(&["sendMessage"]),
        }),
        ..Faults::default()
    });
    let id = FIRST_ID;
    let c = sim.citizen(SimUser::new(id, first_name(id)));
    let before = c.bot_messages().len();
    let help = c.inject(Content::text("/help")).unwrap();
    let in_flight = {
        let (sim, url) = (sim.clone(), ra.hook.clone());
        tokio::spawn(async move { sim.redeliver(help.update_id, &url).await })
    };
    // The reply's sendMessage is held for 2 s: signal in the middle of it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !in_flight.is_finished(),
        "the update should still be in flight"
    );
    let t0 = Instant::now();
    Command::new("kill")
        .args(["-TERM", &ra.child.id().to_string()])
        .status()
        .unwrap();
    let status = ra.child.wait().unwrap();
    let took = t0.elapsed();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(25), "SIGTERM took {took:?}");
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    assert_eq!(
        c.bot_messages().len(),
        before + 1,
        "the in-flight update was answered"
    );
    sim.clear_faults();
    drop(ra);
    drop(rb);

    let logs = std::fs::read_to_string(&log).unwrap();
    for canary in &canaries {
        assert!(!logs.contains(canary.as_str()), "log contains {canary:?}");
    }
    store.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_person_lock_is_answered_503_and_redelivered_later() {
    let Some(db) = common::PgDatabase::create("a_held_person_lock_is_answered_503").await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&db.url).await.unwrap();
    for role in [RecipientRole::Reviewer, RecipientRole::Custodian] {
        common::register_key(&store, role, "K", suite::generate_keypair().1).await;
    }
    let secret = ServerSecret::generate();
    let secret_file = tmp.path().join("server-secret");
    tipline::crypto::keyfile::write_new_private_file(
        &secret_file,
        secret.expose_file_text().as_bytes(),
    )
    .unwrap();
    let token = hex::encode(tipline::crypto::random_array::<24>());
    let sim = Simulator::builder()
        .record_calls(true)
        .start()
        .await
        .unwrap();
    let r = spawn(
        &tmp.path().join("a"),
        &db.url,
        &secret_file,
        &sim,
        &token,
        &tmp.path().join("replica.log"),
        &[("TIPLINE_WEBHOOK_UPDATE_SECS", "2")],
    );
    let http = reqwest::Client::new();
    wait_ready(&http, &r).await;
    assert!(
        sim.wait_until(Duration::from_secs(60), |s| !s
            .calls_to("setWebhook")
            .is_empty())
            .await
    );
    sim.set_webhook_targets(
        vec![r.hook.clone()],
        Some(token.clone()),
        WebhookRouting::Manual,
    );

    // Another replica is stuck holding this person's lock (the key is the pseudonym's first
    // eight bytes, as the webhook derives it).
    let id = FIRST_ID + 900;
    let p = secret.pseudonym(id as i64);
    let key = i64::from_be_bytes(p.0[..8].try_into().unwrap());
    let mut holder = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .unwrap();

    let c = sim.citizen(SimUser::new(id, "Waiting").language("vi"));
    let help = c.inject(Content::text("/help")).unwrap();
    let t0 = Instant::now();
    let status = sim.redeliver(help.update_id, &r.hook).await.unwrap();
    let took = t0.elapsed();
    assert_eq!(
        status, 503,
        "a delivery that cannot get the lock is refused"
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "answered after {took:?} with a 2 s bound"
    );
    assert!(c.bot_messages().is_empty(), "nothing was handled");

    // The lock is free again: Telegram's redelivery is handled, once.
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .unwrap();
    assert_eq!(sim.redeliver(help.update_id, &r.hook).await.unwrap(), 200);
    assert_eq!(c.bot_messages().len(), 1, "{}", c.transcript());
    assert_eq!(sim.redeliver(help.update_id, &r.hook).await.unwrap(), 200);
    assert_eq!(c.bot_messages().len(), 1, "{}", c.transcript());
    drop(holder);
    drop(r);
    store.close().await;
    db.drop_database().await;
}
