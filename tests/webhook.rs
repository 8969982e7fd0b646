//! `tipline serve --webhook-url …` on SQLite (one instance), the real binary against the
//! simulator: the secret token is required, a redelivered update is answered once, /readyz and
//! /metrics work, and SIGTERM with an update in flight finishes it (the reply is sent and the
//! delivery answered 200) before the process exits within the bound. Runs without PostgreSQL;
//! tests/replicas.rs covers two replicas.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secret_redelivery_and_sigterm_drain() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("init")
        .env("TIPLINE_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(o.status.success());
    let store = Store::open(&format!("sqlite:{}", data.join("tipline.db").display()))
        .await
        .unwrap();
    for role in [RecipientRole::Reviewer, RecipientRole::Custodian] {
        store
            .add_recipient(&suite::generate_keypair().1, role, "K", "test")
            .await
            .unwrap();
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
