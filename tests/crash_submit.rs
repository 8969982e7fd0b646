//! Killed at any moment of a submission, the real `tipline serve` loses no receipt and makes
//! no duplicate report, on SQLite and on PostgreSQL.
//!
//! Groups of citizens reach the review screen (with an evidence file, so that the submission
//! talks to Telegram before its commit), then the binary is killed with SIGKILL at each
//! boundary of the submission, the Bot API simulator holding the process at that point:
//! - before the case commit (the evidence file is being fetched again: `getFile` stalls);
//! - after the commit, before the receipt message reaches Telegram (`sendMessage` stalls);
//! - after Telegram took the receipt message, before the bot heard so (the answer is held);
//! - after the receipt was delivered and recorded;
//! - after the whole dialogue.
//!
//! Then, with 12 citizens pressing Send at random moments, the binary is killed at random
//! moments (twice a round, several seeds). After every restart each citizen ends with exactly
//! one working receipt, for a case of their own, and there are exactly as many cases as
//! reports.

use crate::common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tipline::crypto::receipt::RECEIPT_KDF;
use tipline::crypto::{Receipt, RecipientRole, suite};
use tipline::ids::CaseCode;
use tipline::loadtest::{Act, REPORT};
use tipline::sim::{Content, EveryNth, Faults, SimUser, Simulator, Stall};
use tipline::store::Store;

/// Longer than any test: a stalled or held call never completes while it matters.
const FOREVER: Duration = Duration::from_secs(900);
const SEND: &str = "✅ Gửi phản ánh";

/// Kills the server if the test fails half-way, so no process outlives the test.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One installation of the bot: data directory, database, simulator, the running process.
struct Install {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    db: String,
    log: PathBuf,
    sim: Simulator,
    store: Store,
    child: Option<Guard>,
}

impl Install {
    async fn new(pg_url: Option<String>) -> Install {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let db = pg_url.unwrap_or_else(|| format!("sqlite:{}", data.join("tipline.db").display()));
        let o = Command::new(env!("CARGO_BIN_EXE_tipline"))
            .arg("init")
            .env("TIPLINE_DATA_DIR", &data)
            .env("TIPLINE_AUTHORITY", common::authority_pin())
            .env("TIPLINE_DATABASE_URL", &db)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let store = Store::open(&db).await.unwrap();
        for role in [RecipientRole::Reviewer, RecipientRole::Custodian] {
            let (_, public) = suite::generate_keypair();
            common::register_key(&store, role, "K", public).await;
        }
        let log = std::env::var("TIPLINE_DEBUG_LOG")
            .map(PathBuf::from)
            .unwrap_or_else(|_| tmp.path().join("serve.log"));
        Install {
            data,
            db,
            log,
            sim: Simulator::start().await.unwrap(),
            store,
            child: None,
            _tmp: tmp,
        }
    }

    /// Starts `tipline serve` and waits until it polls (after its start-up sweep).
    async fn start(&mut self) {
        let polls = self.sim.requests_received("getUpdates");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tipline"))
            .arg("serve")
            .env("TIPLINE_DATA_DIR", &self.data)
            .env("TIPLINE_AUTHORITY", common::authority_pin())
            .env("TIPLINE_DATABASE_URL", &self.db)
            .env("TELEGRAM_BOT_TOKEN", self.sim.token())
            .env("TELEGRAM_API_URL", self.sim.api_url())
            .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
            .env("TIPLINE_OPS_LISTEN", "127.0.0.1:0")
            .env("TIPLINE_REPORTS_PER_DAY", "50")
            .env("TIPLINE_UPDATES_PER_MINUTE", "1000")
            .env("TIPLINE_LOG", "debug")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(Guard(child));
        let sim = &self.sim;
        let ok = sim
            .wait_until(Duration::from_secs(60), |s| {
                s.requests_received("getUpdates") > polls
            })
            .await;
        assert!(ok, "the bot did not start polling");
    }

    /// SIGKILL.
    fn kill(&mut self) {
        if let Some(mut g) = self.child.take() {
            g.0.kill().unwrap();
            let _ = g.0.wait();
        }
    }

    async fn cases(&self) -> i64 {
        self.store
            .case_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum()
    }
}

/// A scripted act of a citizen.
#[derive(Clone, Copy)]
enum Do {
    Text(&'static str),
    Press(&'static str),
    /// Sends a small PDF as evidence.
    Document,
}

/// The loadtest's report (the dialogue's own script) up to the review screen, with an
/// evidence file instead of "nothing to verify it".
fn to_review() -> Vec<(Do, usize)> {
    let mut script = Vec::new();
    for (act, n) in REPORT {
        match act {
            Act::Press(SEND) => break,
            Act::Press("➡️ Không có, tiếp tục") => {
                // The evidence prompt; the file's note, then the prompt again; done.
                script.push((Do::Press("📄 Có giấy tờ"), 1));
                script.push((Do::Document, 2));
                script.push((Do::Press("Gửi xong"), 1));
            }
            Act::Press(l) => script.push((Do::Press(l), *n)),
            Act::Text(t) => script.push((Do::Text(t), *n)),
        }
    }
    script
}

fn pdf() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/attach/report.pdf"
    ))
    .unwrap()
}

/// A simulated person, driven through the simulator directly (no panics on a dead bot).
#[derive(Clone)]
struct Person {
    user: SimUser,
}

impl Person {
    fn new(id: u64) -> Person {
        Person {
            user: SimUser::new(id, "Dân").language("vi"),
        }
    }

    fn chat(&self) -> i64 {
        i64::try_from(self.user.id).unwrap()
    }

    /// Does one act; true when the bot answered with `expect` new messages within `wait`.
    async fn act(&self, sim: &Simulator, act: Do, expect: usize, wait: Duration) -> bool {
        let before = sim.bot_message_count(self.chat());
        let injected = match act {
            Do::Text(t) => sim
                .citizen(self.user.clone())
                .inject(Content::text(t))
                .is_ok(),
            Do::Press(label) => match sim.find_button(self.chat(), label) {
                Some((mid, data)) => sim
                    .press_button(&self.user, self.chat(), mid, &data)
                    .is_ok(),
                None => false,
            },
            Do::Document => {
                let file = sim.add_file(pdf());
                sim.citizen(self.user.clone())
                    .inject(Content::Document {
                        file,
                        file_name: "don.pdf".into(),
                        mime_type: "application/pdf".into(),
                        caption: None,
                    })
                    .is_ok()
            }
        };
        if !injected {
            return false;
        }
        let deadline = Instant::now() + wait;
        while sim.bot_message_count(self.chat()) < before + expect {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the turn's trailing calls (keyboard edits, the draft's save) finish.
        tokio::time::sleep(Duration::from_millis(150)).await;
        true
    }

    /// Runs the script to the review screen (the bot is up and nothing is faulted).
    async fn reach_review(&self, sim: &Simulator) {
        for (act, n) in to_review() {
            assert!(
                self.act(sim, act, n, Duration::from_secs(30)).await,
                "citizen {} stuck before the review screen:\n{}",
                self.user.id,
                sim.transcript(self.chat())
            );
        }
        assert!(sim.find_button(self.chat(), SEND).is_some());
    }

    /// Receipt messages the bot sent here, oldest first: (message id, text).
    fn receipts(&self, sim: &Simulator) -> Vec<(i32, String)> {
        sim.bot_messages(self.chat())
            .into_iter()
            .filter_map(|m| {
                m.text
                    .filter(|t| common::bot::receipt_in(t).is_some())
                    .map(|t| (m.message_id, t))
            })
            .collect()
    }

    fn receipts_since(&self, sim: &Simulator, mark: i32) -> Vec<(i32, String)> {
        self.receipts(sim)
            .into_iter()
            .filter(|(id, _)| *id > mark)
            .collect()
    }

    fn last_message_id(&self, sim: &Simulator) -> i32 {
        sim.chat(self.chat())
            .and_then(|c| c.messages.last().map(|m| m.message_id))
            .unwrap_or(0)
    }

    /// After a restart: until a receipt has arrived since `mark`, press Send where it is
    /// offered, or write /start (which resumes the draft, or brings what is owed). Gives up
    /// (false) after `wait`, e.g. when the bot was killed again meanwhile.
    async fn recover(&self, sim: &Simulator, mark: i32, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if !self.receipts_since(sim, mark).is_empty() {
                return true;
            }
            let act = if sim.find_button(self.chat(), SEND).is_some() {
                Do::Press(SEND)
            } else {
                Do::Text("/start")
            };
            self.act(sim, act, 1, Duration::from_secs(8)).await;
            // A receipt comes after the slow derivation: give it a moment before acting again.
            let settle = Instant::now() + Duration::from_secs(3);
            while Instant::now() < settle && self.receipts_since(sim, mark).is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        !self.receipts_since(sim, mark).is_empty()
    }
}

/// The receipt of a receipt message.
fn receipt_of(text: &str) -> String {
    common::bot::receipt_in(text).unwrap_or_else(|| panic!("no receipt in {text}"))
}

/// The case number of a receipt message.
fn case_of(text: &str) -> String {
    common::bot::case_number_in(text).unwrap_or_else(|| panic!("no case number in {text}"))
}

/// The case a receipt opens, if any (derived as the bot does, with the production cost).
async fn opens(store: &Store, receipt: &str) -> Option<CaseCode> {
    let receipt = Receipt::parse(receipt).unwrap();
    let keys = tokio::task::spawn_blocking(move || receipt.derive_blocking(RECEIPT_KDF))
        .await
        .unwrap()
        .unwrap();
    store
        .case_by_receipt(&keys.lookup_id)
        .await
        .unwrap()
        .map(|f| f.case.code)
}

/// Every person's newest receipt opens a case whose code the same message names; no two
/// people share a case; there are exactly as many cases as people; older receipts of a
/// person open nothing; the audit chain holds.
async fn verify(inst: &Install, people: &[Person]) {
    let mut seen = HashSet::new();
    for p in people {
        let receipts = p.receipts(&inst.sim);
        let (_, newest) = receipts.last().unwrap_or_else(|| {
            panic!(
                "citizen {} holds no receipt:\n{}",
                p.user.id,
                inst.sim.transcript(p.chat())
            )
        });
        let code = case_of(newest);
        let opened = opens(&inst.store, &receipt_of(newest)).await;
        assert_eq!(
            opened.as_ref().map(|c| c.to_string()),
            Some(code.clone()),
            "citizen {}'s newest receipt must open their case:\n{}",
            p.user.id,
            inst.sim.transcript(p.chat())
        );
        assert!(seen.insert(code.clone()), "two people hold case {code}");
        for (_, older) in &receipts[..receipts.len() - 1] {
            let r = receipt_of(older);
            if r != receipt_of(newest) {
                assert_eq!(
                    opens(&inst.store, &r).await,
                    None,
                    "a replaced receipt must open nothing"
                );
            }
        }
    }
    assert_eq!(
        inst.cases().await,
        i64::try_from(people.len()).unwrap(),
        "one case per report, no orphan and no duplicate"
    );
    assert!(
        inst.store.audit_verify().await.unwrap().is_ok(),
        "the audit chain holds"
    );
}

/// Presses Send for every person at once.
async fn press_send(inst: &Install, people: &[Person]) {
    for p in people {
        let (mid, data) = inst.sim.find_button(p.chat(), SEND).unwrap();
        inst.sim
            .press_button(&p.user, p.chat(), mid, &data)
            .unwrap();
    }
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_cases(inst: &Install, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while inst.cases().await < n {
        assert!(Instant::now() < deadline, "timed out waiting for {n} cases");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn recover_all(inst: &Install, people: &[Person], marks: &[i32]) {
    let results = futures_util::future::join_all(
        people
            .iter()
            .zip(marks)
            .map(|(p, m)| p.recover(&inst.sim, *m, Duration::from_secs(90))),
    )
    .await;
    for (p, ok) in people.iter().zip(results) {
        assert!(
            ok,
            "citizen {} got no receipt after the restart:\n{}",
            p.user.id,
            inst.sim.transcript(p.chat())
        );
    }
}

const PER_GROUP: usize = 3;

/// Each person's last message id now: receipts after it are new.
fn marks_of(inst: &Install, people: &[Person]) -> Vec<i32> {
    people
        .iter()
        .map(|p| p.last_message_id(&inst.sim))
        .collect()
}

/// `method` held for longer than any test (with `stall`: before it takes effect; with
/// `hold_response`: after).
fn hold_forever(method: &str) -> Stall {
    Stall {
        delay: FOREVER,
        every: EveryNth::new(1).only(&[method]),
    }
}

async fn wait_for_receipts(inst: &Install, people: &[Person], marks: &[i32]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting: Vec<&Person> = people
            .iter()
            .zip(marks)
            .filter(|(p, m)| p.receipts_since(&inst.sim, **m).is_empty())
            .map(|(p, _)| p)
            .collect();
        if waiting.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(&inst.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "timed out waiting for every receipt message in its chat:\n{}\nthe server's log, newest first:\n{}",
                waiting
                    .iter()
                    .map(|p| inst.sim.transcript(p.chat()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn every_boundary(pg_url: Option<String>) {
    let mut inst = Install::new(pg_url).await;
    inst.start().await;
    // Five groups, one per boundary, all brought to the review screen together.
    let groups: Vec<Vec<Person>> = (0..5u64)
        .map(|g| {
            (0..PER_GROUP as u64)
                .map(|i| Person::new(700_000_000 + g * 100 + i))
                .collect()
        })
        .collect();
    futures_util::future::join_all(groups.iter().flatten().map(|p| p.reach_review(&inst.sim)))
        .await;
    let n = i64::try_from(PER_GROUP).unwrap();
    let mut expected = 0;

    // 1. Before the commit: the file is being fetched again when the process dies.
    let people = &groups[0];
    let marks = marks_of(&inst, people);
    let files = inst.sim.requests_received("getFile");
    inst.sim.set_faults(Faults {
        stall: Some(hold_forever("getFile")),
        ..Faults::default()
    });
    press_send(&inst, people).await;
    wait_for("every Send to reach getFile", || {
        inst.sim.requests_received("getFile") >= files + PER_GROUP as u64
    })
    .await;
    inst.kill();
    assert_eq!(inst.cases().await, expected, "nothing was committed");
    inst.sim.clear_faults();
    inst.start().await;
    recover_all(&inst, people, &marks).await;
    expected += n;
    assert_eq!(inst.cases().await, expected);

    // 2. After the commit, before the receipt message reaches Telegram.
    let people = &groups[1];
    let marks = marks_of(&inst, people);
    let sends = inst.sim.requests_received("sendMessage");
    inst.sim.set_faults(Faults {
        stall: Some(hold_forever("sendMessage")),
        ..Faults::default()
    });
    press_send(&inst, people).await;
    wait_for_cases(&inst, expected + n).await;
    wait_for("every receipt message to be on its way", || {
        inst.sim.requests_received("sendMessage") >= sends + PER_GROUP as u64
    })
    .await;
    inst.kill();
    expected += n;
    for (p, mark) in people.iter().zip(&marks) {
        assert!(
            p.receipts_since(&inst.sim, *mark).is_empty(),
            "nothing reached the chat"
        );
    }
    inst.sim.clear_faults();
    inst.start().await;
    // The start-up sweep delivers, unasked, the truth: the report was received, a new code.
    for (p, mark) in people.iter().zip(&marks) {
        let got = p.receipts_since(&inst.sim, *mark);
        assert_eq!(got.len(), 1, "{}", inst.sim.transcript(p.chat()));
        assert!(got[0].1.contains("đã được tiếp nhận"), "{}", got[0].1);
        assert!(got[0].1.contains(&case_of(&got[0].1)));
    }
    // Once the receipt is delivered nothing of the report is kept under the reporter's
    // pseudonym: /start now begins afresh with the notice.
    let p = &people[0];
    let before = p.last_message_id(&inst.sim);
    assert!(
        p.act(&inst.sim, Do::Text("/start"), 1, Duration::from_secs(20))
            .await
    );
    let said: Vec<String> = inst
        .sim
        .bot_messages(p.chat())
        .into_iter()
        .filter(|m| m.message_id > before)
        .filter_map(|m| m.text)
        .collect();
    assert!(
        said.iter().any(|t| t.contains("Xin chào. Đây là kênh")),
        "{said:?}"
    );

    // 3. Telegram took the receipt message; the process died before it heard so.
    let people = &groups[2];
    let marks = marks_of(&inst, people);
    inst.sim.set_faults(Faults {
        hold_response: Some(hold_forever("sendMessage")),
        ..Faults::default()
    });
    press_send(&inst, people).await;
    wait_for_receipts(&inst, people, &marks).await;
    inst.kill();
    expected += n;
    assert_eq!(inst.cases().await, expected);
    inst.sim.clear_faults();
    inst.start().await;
    for (p, mark) in people.iter().zip(&marks) {
        let got = p.receipts_since(&inst.sim, *mark);
        assert_eq!(got.len(), 2, "{}", inst.sim.transcript(p.chat()));
        assert!(got[1].1.contains("không còn dùng được"), "{}", got[1].1);
        assert_eq!(case_of(&got[0].1), case_of(&got[1].1));
    }

    // 4. The receipt was delivered and recorded; then the process died.
    let people = &groups[3];
    let marks = marks_of(&inst, people);
    press_send(&inst, people).await;
    wait_for_receipts(&inst, people, &marks).await;
    // The delivery is recorded right after Telegram's answer.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    inst.kill();
    expected += n;
    inst.start().await;
    for (p, mark) in people.iter().zip(&marks) {
        assert_eq!(
            p.receipts_since(&inst.sim, *mark).len(),
            1,
            "no second receipt"
        );
        // "I've copied it, delete this" still works after the restart.
        for (label, n) in [("🗑 Đã chép mã", 1), ("Đã chép, xóa tin này", 1)] {
            assert!(
                p.act(&inst.sim, Do::Press(label), n, Duration::from_secs(20))
                    .await
            );
        }
        let receipt_id = p.receipts_since(&inst.sim, *mark)[0].0;
        let deleted = inst
            .sim
            .bot_messages(p.chat())
            .iter()
            .any(|m| m.message_id == receipt_id && m.deleted);
        assert!(deleted, "{}", inst.sim.transcript(p.chat()));
    }

    // 5. After the whole dialogue.
    let people = &groups[4];
    let marks = marks_of(&inst, people);
    press_send(&inst, people).await;
    wait_for_receipts(&inst, people, &marks).await;
    for p in people {
        for label in ["🗑 Đã chép mã", "Đã chép, xóa tin này", "Giữ lại"] {
            assert!(
                p.act(&inst.sim, Do::Press(label), 1, Duration::from_secs(20))
                    .await
            );
        }
    }
    inst.kill();
    expected += n;
    inst.start().await;
    for (p, mark) in people.iter().zip(&marks) {
        assert_eq!(
            p.receipts_since(&inst.sim, *mark).len(),
            1,
            "no second receipt"
        );
    }

    assert_eq!(inst.cases().await, expected);
    let everyone: Vec<Person> = groups.into_iter().flatten().collect();
    verify(&inst, &everyone).await;
    inst.kill();
    inst.store.close().await;
}

/// A small deterministic generator (xorshift64*), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

const RANDOM_CITIZENS: usize = 12;

async fn random_kills(pg_url: Option<String>, seeds: &[u64]) {
    let mut inst = Install::new(pg_url).await;
    inst.start().await;
    let mut everyone = Vec::new();
    for (round, seed) in seeds.iter().enumerate() {
        let mut rng = Rng(*seed);
        let people: Vec<Person> = (0..RANDOM_CITIZENS as u64)
            .map(|i| Person::new(800_000_000 + round as u64 * 100 + i))
            .collect();
        futures_util::future::join_all(people.iter().map(|p| p.reach_review(&inst.sim))).await;
        let marks = marks_of(&inst, &people);
        // Everyone presses Send within 1.5 s; the process dies at a random moment in that
        // storm, and again at a random moment of the recovery after it.
        let delays: Vec<u64> = people.iter().map(|_| rng.below(1500)).collect();
        let first_kill = 200 + rng.below(2800);
        let second_kill = 300 + rng.below(3000);
        let started = Instant::now();
        let presses =
            futures_util::future::join_all(people.iter().zip(&delays).map(|(p, d)| async {
                tokio::time::sleep(Duration::from_millis(*d)).await;
                if let Some((mid, data)) = inst.sim.find_button(p.chat(), SEND) {
                    let _ = inst.sim.press_button(&p.user, p.chat(), mid, &data);
                }
            }));
        let killer = tokio::time::sleep(Duration::from_millis(first_kill));
        tokio::join!(presses, killer);
        inst.kill();
        eprintln!(
            "seed {seed}: killed {} ms into the submissions, {} cases",
            started.elapsed().as_millis(),
            inst.cases().await
        );
        inst.start().await;
        let recovery = futures_util::future::join_all(
            people
                .iter()
                .zip(&marks)
                .map(|(p, m)| p.recover(&inst.sim, *m, Duration::from_millis(second_kill))),
        );
        recovery.await;
        inst.kill();
        inst.start().await;
        recover_all(&inst, &people, &marks).await;
        everyone.extend(people);
        verify(&inst, &everyone).await;
    }
    inst.kill();
    inst.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_every_boundary_of_submission() {
    every_boundary(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_every_boundary_of_submission() {
    let Some(db) = common::PgDatabase::create("postgres_every_boundary_of_submission").await else {
        return;
    };
    every_boundary(Some(db.url.clone())).await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_random_kills_with_twelve_citizens() {
    random_kills(None, &[0x5EED_0001, 0x5EED_0002, 0x5EED_0003]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_random_kills_with_twelve_citizens() {
    let Some(db) = common::PgDatabase::create("postgres_random_kills_with_twelve_citizens").await
    else {
        return;
    };
    random_kills(Some(db.url.clone()), &[0x5EED_0004, 0x5EED_0005]).await;
    db.drop_database().await;
}
