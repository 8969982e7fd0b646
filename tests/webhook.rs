//! `tipline serve --webhook-url …` on SQLite (one instance), the real binary against the
//! simulator: the secret token is required, a redelivered update is answered once, /readyz and
//! /metrics work (request latency by route template), and SIGTERM with an update in flight
//! finishes it (the reply is sent and the delivery answered 200) before the process exits
//! within the bound. A delivery whose connection is dropped mid-turn still completes its turn,
//! exactly once. When Telegram stalls longer than the shutdown bound, SIGTERM still ends the
//! process within the bound (status 1), and /readyz says 503 while it drains. Runs without
//! PostgreSQL; tests/replicas.rs covers two replicas.

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tipline::crypto::{RecipientRole, suite};
use tipline::sim::{Content, EveryNth, Faults, SimUser, Simulator, Stall, WebhookRouting};
use tipline::store::Store;

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A data directory with keys, a simulator with its webhook pointed at the serve child.
struct Setup {
    _tmp: tempfile::TempDir,
    data: std::path::PathBuf,
    store: Store,
    sim: Simulator,
    token: String,
    hook_port: u16,
    ops_port: u16,
}

impl Setup {
    async fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
            .arg("init")
            .env("TIPLINE_DATA_DIR", &data)
            .env("TIPLINE_AUTHORITY", common::authority_pin())
            .output()
            .unwrap();
        assert!(o.status.success());
        let store = Store::open(&format!("sqlite:{}", data.join("tipline.db").display()))
            .await
            .unwrap();
        for role in [RecipientRole::Reviewer, RecipientRole::Custodian] {
            common::register_key(&store, role, "K", suite::generate_keypair().1).await;
        }
        let sim = Simulator::builder()
            .record_calls(true)
            .start()
            .await
            .unwrap();
        Setup {
            _tmp: tmp,
            data,
            store,
            sim,
            token: hex::encode(tipline::crypto::random_array::<20>()),
            hook_port: free_port(),
            ops_port: free_port(),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tipline"));
        c.args(["serve", "--webhook-url", "https://bot.example.invalid/hook"])
            .env("TIPLINE_DATA_DIR", &self.data)
            .env("TIPLINE_AUTHORITY", common::authority_pin())
            .env("TELEGRAM_BOT_TOKEN", self.sim.token())
            .env("TELEGRAM_API_URL", self.sim.api_url())
            .env("TIPLINE_WEBHOOK_SECRET", &self.token)
            .env(
                "TIPLINE_WEBHOOK_LISTEN",
                format!("127.0.0.1:{}", self.hook_port),
            )
            .env("TIPLINE_OPS_LISTEN", format!("127.0.0.1:{}", self.ops_port))
            .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
            .env("TIPLINE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    fn hook(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.hook_port)
    }

    fn ops(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ops_port)
    }

    /// Waits for the child to register its webhook, then routes deliveries by hand.
    async fn wait_registered(&self) {
        assert!(
            self.sim
                .wait_until(Duration::from_secs(60), |s| !s
                    .calls_to("setWebhook")
                    .is_empty())
                .await,
            "the webhook was not registered"
        );
        self.sim.set_webhook_targets(
            vec![self.hook()],
            Some(self.token.clone()),
            WebhookRouting::Manual,
        );
    }

    fn stall_sends(&self, delay: Duration) {
        self.sim.set_faults(Faults {
            stall: Some(Stall {
                delay,
                every: EveryNth::new(1).only(&["sendMessage"]),
            }),
            ..Faults::default()
        });
    }
}

fn sigterm(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_does_not_cancel_the_turn() {
    let s = Setup::new().await;
    let _child = Guard(s.command().spawn().unwrap());
    s.wait_registered().await;
    let c = s
        .sim
        .citizen(SimUser::new(5_550_101, "Hangup").language("vi"));
    // The reply is held at "Telegram" for 1.5 s; the deliverer hangs up after 0.3 s, which
    // drops the request's future in the server.
    s.stall_sends(Duration::from_millis(1500));
    let start = c.inject(Content::text("/start")).unwrap();
    let hook = s.hook();
    let answered = s
        .sim
        .redeliver_and_hang_up(start.update_id, &hook, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(answered, None, "the delivery should have been cut off");
    assert!(c.bot_messages().is_empty());
    // The turn goes on without its connection: the welcome arrives.
    let chat = c.chat_id();
    assert!(
        s.sim
            .wait_until(Duration::from_secs(10), |sim| !sim
                .bot_messages(chat)
                .is_empty())
            .await,
        "the turn was cancelled with its connection"
    );
    s.sim.clear_faults();
    // Telegram delivers again (it got no answer): recognised, no second welcome.
    assert_eq!(s.sim.redeliver(start.update_id, &hook).await.unwrap(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(c.bot_messages().len(), 1, "{}", c.transcript());
    let metrics = reqwest::get(s.ops("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tipline_duplicate_updates_total 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("tipline_updates_total{kind=\"message\"} 1\n"));
    s.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exit_is_bounded_when_telegram_stalls() {
    let s = Setup::new().await;
    let mut child = Guard(
        s.command()
            .env("TIPLINE_SHUTDOWN_SECS", "3")
            .spawn()
            .unwrap(),
    );
    s.wait_registered().await;
    let http = reqwest::Client::new();
    let ready = http.get(s.ops("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    // Telegram holds every reply for a minute: far longer than the 3 s bound.
    s.stall_sends(Duration::from_secs(60));
    let c = s
        .sim
        .citizen(SimUser::new(5_550_202, "Stalled").language("vi"));
    let help = c.inject(Content::text("/help")).unwrap();
    let in_flight = {
        let (sim, hook) = (s.sim.clone(), s.hook());
        tokio::spawn(async move { sim.redeliver(help.update_id, &hook).await })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!in_flight.is_finished(), "the update should be in flight");
    let t0 = Instant::now();
    sigterm(&child.0);
    // Draining: no longer ready, at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = http.get(s.ops("/readyz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().await.unwrap().contains("shutting down"));
    let status = child.0.wait().unwrap();
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(3) + Duration::from_millis(2500),
        "SIGTERM took {took:?} with a 3 s bound"
    );
    assert_eq!(status.code(), Some(1), "the bound was reached: status 1");
    in_flight.abort();
    s.sim.clear_faults();
    s.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secret_redelivery_and_sigterm_drain() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("init")
        .env("TIPLINE_DATA_DIR", &data)
        .env("TIPLINE_AUTHORITY", common::authority_pin())
        .output()
        .unwrap();
    assert!(o.status.success());
    let store = Store::open(&format!("sqlite:{}", data.join("tipline.db").display()))
        .await
        .unwrap();
    for role in [RecipientRole::Reviewer, RecipientRole::Custodian] {
        common::register_key(&store, role, "K", suite::generate_keypair().1).await;
    }
    let sim = Simulator::builder()
        .record_calls(true)
        .start()
        .await
        .unwrap();
    let token = hex::encode(tipline::crypto::random_array::<20>());
    let (hook_port, ops_port) = (free_port(), free_port());
    let base = |secret: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tipline"));
        c.args(["serve", "--webhook-url", "https://bot.example.invalid/hook"])
            .env("TIPLINE_DATA_DIR", &data)
            .env("TIPLINE_AUTHORITY", common::authority_pin())
            .env("TELEGRAM_BOT_TOKEN", sim.token())
            .env("TELEGRAM_API_URL", sim.api_url())
            .env("TIPLINE_WEBHOOK_LISTEN", format!("127.0.0.1:{hook_port}"))
            .env("TIPLINE_OPS_LISTEN", format!("127.0.0.1:{ops_port}"))
            .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
            .env("TIPLINE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if !secret.is_empty() {
            c.env("TIPLINE_WEBHOOK_SECRET", secret);
        }
        c
    };

    // Webhook mode without a secret token refuses to start, saying why.
    let o = base("").output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("secret token"));

    let mut child = Guard(base(&token).stderr(Stdio::null()).spawn().unwrap());
    assert!(
        sim.wait_until(Duration::from_secs(60), |s| !s
            .calls_to("setWebhook")
            .is_empty())
            .await,
        "the webhook was not registered"
    );
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    sim.set_webhook_targets(
        vec![hook.clone()],
        Some(token.clone()),
        WebhookRouting::Manual,
    );
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("http://127.0.0.1:{ops_port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);

    let c = sim.citizen(SimUser::new(5_550_001, "Webhook").language("vi"));
    let start = c.inject(Content::text("/start")).unwrap();
    // Wrong and missing secrets are refused; nothing is handled.
    for secret in [Some("not-the-secret"), None] {
        let mut req = http.post(&hook).json(&serde_json::json!({"update_id": 1}));
        if let Some(s) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        assert_eq!(req.send().await.unwrap().status().as_u16(), 401);
    }
    assert!(c.bot_messages().is_empty());
    // Delivered three times: one welcome.
    for _ in 0..3 {
        assert_eq!(sim.redeliver(start.update_id, &hook).await.unwrap(), 200);
    }
    assert_eq!(c.bot_messages().len(), 1, "{}", c.transcript());
    let metrics = http
        .get(format!("http://127.0.0.1:{ops_port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tipline_duplicate_updates_total 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tipline_webhook_rejected_total 2\n"),
        "{metrics}"
    );
    assert!(metrics.contains("tipline_updates_total{kind=\"message\"} 1\n"));
    // Request latency by the route template; the three deliveries were answered 200, the
    // two refusals 401.
    assert!(
        metrics.contains(
            "tipline_http_request_duration_seconds_count{server=\"webhook\",route=\"/hook\",method=\"POST\",code=\"2xx\"} 3\n"
        ),
        "{metrics}"
    );
    assert!(metrics.contains(
        "tipline_http_request_duration_seconds_count{server=\"webhook\",route=\"/hook\",method=\"POST\",code=\"4xx\"} 2\n"
    ));

    // SIGTERM while the reply to an update is held up at "Telegram" for two seconds.
    sim.set_faults(Faults {
        stall: Some(Stall {
            delay: Duration::from_secs(2),
            every: EveryNth::new(1).only(&["sendMessage"]),
        }),
        ..Faults::default()
    });
    let help = c.inject(Content::text("/help")).unwrap();
    let in_flight = {
        let (sim, hook) = (sim.clone(), hook.clone());
        tokio::spawn(async move { sim.redeliver(help.update_id, &hook).await })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !in_flight.is_finished(),
        "the update should still be in flight"
    );
    let t0 = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();
    let took = t0.elapsed();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(25), "SIGTERM took {took:?}");
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    assert_eq!(
        c.bot_messages().len(),
        2,
        "the in-flight update was answered"
    );
    store.close().await;
}
