//! The real `tipline serve` binary against the simulator: killed with SIGKILL mid-dialogue and
//! restarted, the citizen finishes the report; SIGTERM stops it within a bound; and with all
//! logging at TRACE, planted canaries (Telegram id, username, names, a phone number typed in
//! the text, the receipt) appear neither in its output nor anywhere in the SQLite files, nor in
//! what /metrics serves. And when Telegram stalls longer than the shutdown bound, SIGTERM
//! still ends long polling within the bound (status 1), with /readyz 503 while it drains.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tipline::crypto::{RecipientRole, suite};
use tipline::sim::{Content, EveryNth, Faults, ForwardOrigin, Incoming, SimUser, Simulator, Stall};
use tipline::store::Store;

const TELEGRAM_ID: u64 = 987_654_321_987;
const USERNAME: &str = "canary_user_xq";
const FIRST: &str = "Canaryfirst";
const LAST: &str = "Canarylast";
const PHONE_IN_TEXT: &str = "0905 123 987";
const CONTACT_PHONE: &str = "+84905765432";
/// A document's name on the reporter's device: never logged, never stored.
const FILE_NAME: &str = "Don_Canaryfile_Lan.pdf";

/// Kills the server if the test fails half-way, so no process outlives the test.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path, sim: &Simulator, log: &Path, ops: u16) -> Guard {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("serve")
        .env("TIPLINE_DATA_DIR", data)
        .env("TIPLINE_AUTHORITY", common::authority_pin())
        // Submission-driven metrics move once a second here (an hour by default).
        .env("TIPLINE_METRICS_PERIOD", "1")
        .env("TELEGRAM_BOT_TOKEN", sim.token())
        .env("TELEGRAM_API_URL", sim.api_url())
        // Any free port: tests run serve processes side by side.
        .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
        .env("TIPLINE_LOG", "trace")
        .env("TIPLINE_OPS_LISTEN", format!("127.0.0.1:{ops}"))
        .env("RUST_LOG", "trace")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .map(Guard)
        .unwrap()
}

async fn wait_for_polling(sim: &Simulator, after: usize) {
    let ok = sim
        .wait_until(Duration::from_secs(30), |s| {
            s.calls_to("getUpdates").len() > after
        })
        .await;
    assert!(ok, "the bot did not start polling");
}

fn kill(child: &mut Guard, signal: &str) -> Duration {
    let started = Instant::now();
    Command::new("kill")
        .args([signal, &child.0.id().to_string()])
        .status()
        .unwrap();
    let _ = child.0.wait();
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_restart_sigterm_and_no_canaries_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let data: PathBuf = tmp.path().join("data");
    let log = std::env::var("TIPLINE_DEBUG_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| tmp.path().join("serve.log"));
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["init"])
        .env("TIPLINE_DATA_DIR", &data)
        .env("TIPLINE_AUTHORITY", common::authority_pin())
        .output()
        .unwrap();
    assert!(o.status.success());

    // Without keys the bot refuses to start, clearly.
    let sim = Simulator::start().await.unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("serve")
        .env("TIPLINE_DATA_DIR", &data)
        .env("TIPLINE_AUTHORITY", common::authority_pin())
        .env("TELEGRAM_BOT_TOKEN", sim.token())
        .env("TELEGRAM_API_URL", sim.api_url())
        // Any free port: tests run serve processes side by side.
        .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no active reviewer key"));

    let url = format!("sqlite:{}", data.join("tipline.db").display());
    let store = Store::open(&url).await.unwrap();
    let reviewer = suite::generate_keypair();
    let custodian = suite::generate_keypair();
    common::register_key(&store, RecipientRole::Reviewer, "R", reviewer.1).await;
    common::register_key(&store, RecipientRole::Custodian, "C", custodian.1).await;

    let ops = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = serve(&data, &sim, &log, ops);
    wait_for_polling(&sim, 0).await;
    // The production Throttle paces each chat at one message a second.
    let c = sim
        .citizen(
            SimUser::new(TELEGRAM_ID, FIRST)
                .last_name(LAST)
                .username(USERNAME)
                .language("vi"),
        )
        .with_quiet_period(Duration::from_millis(1300))
        .with_timeout(Duration::from_secs(20));
    c.command("/start").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    c.press("Thu tiền sai quy định").await;

    // SIGKILL mid-dialogue; the draft is in the database; a new process continues.
    kill(&mut child, "-KILL");
    let polls = sim.calls_to("getUpdates").len();
    let mut child = serve(&data, &sim, &log, ops);
    wait_for_polling(&sim, polls).await;
    c.press("Y tế").await;
    c.send("Bệnh viện").await;
    c.press("Bệnh viện / Trạm y tế").await;
    c.send("Ninh Hòa").await;
    let buttons = c.last_buttons();
    c.press(&buttons[0]).await;
    c.press("Tháng này").await;
    c.press("Không biết, bỏ qua").await;
    c.send(&format!(
        "Bác sĩ đòi 500 nghìn mới cho nhập viện. Số tôi là {PHONE_IN_TEXT}."
    ))
    .await;
    c.press("📄 Có giấy tờ").await;
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/attach/report.pdf"
    ))
    .unwrap();
    c.send_document(pdf, FILE_NAME, "application/pdf").await;
    assert!(c.last_text().unwrap().contains("attachment-1.pdf"));
    c.press("Gửi xong").await;
    // The phone number typed in the story is found, listed, and removed by default.
    let review = c.last_text().unwrap();
    let (summary, findings) = review.split_once("\n\nBot thấy").unwrap();
    assert!(findings.contains(PHONE_IN_TEXT), "{review}");
    assert!(!summary.contains(PHONE_IN_TEXT), "{review}");
    c.press("✅ Gửi phản ánh").await;
    let (code, receipt) = common::bot::submitted(&c);
    c.press("🗑 Đã chép mã").await;
    c.press("Đã chép, xóa tin này").await;
    c.press("Giữ lại").await;

    // Status with the receipt, then a run of bad input.
    c.command("/status").await;
    common::bot::send_receipt(&c, &receipt).await;
    assert!(c.last_text().unwrap().contains(&code));
    c.press("Xong").await;
    c.act(Content::contact(CONTACT_PHONE, FIRST)).await;
    c.act(Content::location(12.2388, 109.1967)).await;
    c.act(
        Incoming::new(Content::text(format!("gọi {PHONE_IN_TEXT}"))).forwarded(
            ForwardOrigin::User {
                user: SimUser::new(TELEGRAM_ID + 1, "Other"),
            },
        ),
    )
    .await;
    c.send_sticker("😀").await;
    // An update teloxide cannot parse (a date that is not a number): teloxide's own error
    // path would print the raw update; it must not reach the log.
    sim.inject_raw(
        "message",
        serde_json::json!({
            "message_id": 9_999,
            "date": "not-a-date",
            "chat": { "id": TELEGRAM_ID, "type": "private", "first_name": FIRST },
            "from": { "id": TELEGRAM_ID, "is_bot": false, "first_name": FIRST, "username": USERNAME },
            "text": format!("Malformedcanary {PHONE_IN_TEXT}"),
        }),
    );
    // A receipt typed outside /status is deleted and checked, never echoed or logged.
    let typed = c.send(&receipt).await;
    c.wait_for(|s| {
        s.messages
            .iter()
            .any(|m| m.message_id == typed.message_id.unwrap() && m.deleted)
    })
    .await;
    c.settle().await;
    let group = sim.create_chat(tipline::sim::ChatKind::Group, "Nhóm");
    sim.send_message(c.user(), &group, Content::text("/start"))
        .unwrap();
    assert!(
        sim.wait_until(Duration::from_secs(10), |s| s.bot_left(group.id))
            .await
    );

    // Exactly one case, readable by the reviewer. Its audit entry is written with the day's
    // batch (after midnight), not at the moment it came.
    let submitted_now = store
        .audit_entries(1, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.entry.action == "case.submit")
        .count();
    assert_eq!(submitted_now, 0);
    store
        .audit_intake(tipline::clock::Day::today().plus(1))
        .await
        .unwrap();
    let cases = store
        .audit_entries(1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.action == "case.submit")
        .count();
    assert_eq!(cases, 1);

    // /healthz, /readyz, and /metrics without a canary (checked below with the logs).
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{ops}");
    for path in ["/healthz", "/readyz"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    // The reports counter shows only whole periods: one second here.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tipline_reports_submitted_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tipline_cases{status=\"new\"} 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("tipline_updates_total{kind=\"callback_query\"}"));
    assert!(!metrics.contains("tipline_update_duration_seconds_count 0\n"));

    // SIGTERM: the process drains and exits promptly.
    let took = kill(&mut child, "-TERM");
    assert!(took < Duration::from_secs(15), "SIGTERM took {took:?}");
    store.close().await;

    // Canaries: not in the logs, not in any database file.
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains("report submitted"),
        "the log has content-free events: {logs}"
    );
    let digits_only = PHONE_IN_TEXT.replace(' ', "");
    let canaries = [
        TELEGRAM_ID.to_string(),
        USERNAME.to_owned(),
        FIRST.to_owned(),
        LAST.to_owned(),
        PHONE_IN_TEXT.to_owned(),
        digits_only.clone(),
        CONTACT_PHONE.to_owned(),
        receipt.clone(),
        receipt.replace('-', ""),
        "Bác sĩ đòi".to_owned(),
        FILE_NAME.to_owned(),
        "Canaryfile".to_owned(),
        "Malformedcanary".to_owned(),
    ];
    for canary in &canaries {
        assert!(!logs.contains(canary.as_str()), "log contains {canary:?}");
        assert!(
            !metrics.contains(canary.as_str()),
            "/metrics contains {canary:?}"
        );
    }
    assert!(!metrics.contains(&code), "/metrics contains the case code");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("tipline.db")
        {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for canary in &canaries {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{} contains {canary:?}",
                path.display()
            );
        }
        // The id must not be there in binary form either: SQLite stores an integer of this
        // size in six big-endian bytes (record format), anything else in eight.
        let id_be = (TELEGRAM_ID as i64).to_be_bytes();
        let id_le = (TELEGRAM_ID as i64).to_le_bytes();
        assert_eq!(id_be[..2], [0, 0], "the canary id fits six bytes");
        for pattern in [&id_be[..], &id_be[2..], &id_le[..], &id_le[..6]] {
            assert!(
                !bytes.windows(pattern.len()).any(|w| w == pattern),
                "{} contains the id as an integer ({} bytes)",
                path.display(),
                pattern.len()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exit_is_bounded_when_telegram_stalls() {
    let tmp = tempfile::tempdir().unwrap();
    let data: PathBuf = tmp.path().join("data");
    let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .args(["init"])
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
    let sim = Simulator::start().await.unwrap();
    let ops = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tipline"))
        .arg("serve")
        .env("TIPLINE_DATA_DIR", &data)
        .env("TIPLINE_AUTHORITY", common::authority_pin())
        .env("TELEGRAM_BOT_TOKEN", sim.token())
        .env("TELEGRAM_API_URL", sim.api_url())
        .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
        .env("TIPLINE_OPS_LISTEN", format!("127.0.0.1:{ops}"))
        .env("TIPLINE_SHUTDOWN_SECS", "3")
        .env("TIPLINE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Guard)
        .unwrap();
    wait_for_polling(&sim, 0).await;
    let http = reqwest::Client::new();
    let readyz = format!("http://127.0.0.1:{ops}/readyz");
    assert_eq!(
        http.get(&readyz).send().await.unwrap().status().as_u16(),
        200
    );
    // Every reply is held at "Telegram" for a minute, far past the 3 s bound.
    sim.set_faults(Faults {
        stall: Some(Stall {
            delay: Duration::from_secs(60),
            every: EveryNth::new(1).only(&["sendMessage"]),
        }),
        ..Faults::default()
    });
    let c = sim.citizen(SimUser::new(5_550_303, "Stalled").language("vi"));
    c.inject(Content::text("/help")).unwrap();
    // The handler is now waiting on its sendMessage.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t0 = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = http.get(&readyz).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 503, "still ready while draining");
    assert!(r.text().await.unwrap().contains("shutting down"));
    let status = child.0.wait().unwrap();
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(3) + Duration::from_millis(2500),
        "SIGTERM took {took:?} with a 3 s bound"
    );
    assert_eq!(status.code(), Some(1), "the bound was reached: status 1");
    sim.clear_faults();
    store.close().await;
}
