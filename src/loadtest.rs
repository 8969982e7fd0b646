//! `tipline loadtest`: N simulated citizens make complete reports against the real `tipline
//! serve` process (a child, so its CPU time and memory are its own), through the Bot API
//! simulator with Telegram's flood limits on (1 message/s per chat, 30/s overall → 429 with
//! retry_after). Reports completed reports per minute, p50/p99 time from an update's injection
//! to the bot's first reply, the bot's CPU time per update, its peak RSS, and the 429s it got.
//! `--baseline` runs the same number of steps against a minimal teloxide dialogue bot with
//! in-memory state (`tipline loadtest-baseline-bot`), for the CPU-per-update ratio.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

use crate::crypto::{RecipientRole, ServerSecret, suite};
use crate::sim::{Content, Faults, FloodLimits, SimUser, Simulator};
use crate::store::Store;

/// One scripted step: what the citizen does and how many bot messages it waits for.
pub enum Act {
    /// Types this text (or command).
    Text(&'static str),
    /// Presses the button whose label starts with this.
    Press(&'static str),
}

/// One complete Vietnamese report, from /start to the wipe offer, with how many bot messages
/// each step brings. Shared with the replica test so both drive the same dialogue.
pub const REPORT: &[(Act, usize)] = &[
    (Act::Text("/start"), 1),
    (Act::Press("✅ Đồng ý, bắt đầu"), 1),
    (Act::Press("Đòi tiền, quà"), 1),
    (Act::Press("Giáo dục"), 1),
    (Act::Press("Trường học"), 1),
    (Act::Press("Tôi không muốn nói"), 1),
    (Act::Press("Tháng này"), 1),
    (Act::Press("Không biết, bỏ qua"), 1),
    (
        Act::Text("Giáo viên thu tiền học thêm trái phép, mỗi em 300 nghìn đồng một tháng."),
        1,
    ),
    (Act::Press("➡️ Không có, tiếp tục"), 1),
    (Act::Press("✅ Gửi phản ánh"), 1),
    (Act::Press("🗑 Đã chép mã"), 1),
    (Act::Press("Đã chép, xóa tin này"), 1),
    (Act::Press("Giữ lại"), 1),
];

/// What each citizen does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    /// The whole [`REPORT`], submission and receipt included.
    Report,
    /// The dialogue steps of [`REPORT`] up to the review screen, then `/cancel` instead of
    /// sending: the dialogue's own cost, without the submission's.
    DialogueOnly,
}

impl Script {
    /// The steps of one citizen.
    pub fn steps(self) -> Vec<(&'static Act, usize)> {
        match self {
            Script::Report => REPORT.iter().map(|(a, n)| (a, *n)).collect(),
            Script::DialogueOnly => {
                let send = REPORT
                    .iter()
                    .position(|(a, _)| matches!(a, Act::Press(l) if l.starts_with("✅ Gửi")))
                    .unwrap_or(REPORT.len());
                let mut steps: Vec<(&'static Act, usize)> =
                    REPORT[..send].iter().map(|(a, n)| (a, *n)).collect();
                steps.push((&CANCEL, 1));
                steps
            }
        }
    }

    /// Updates a submitted report adds to the dialogue's ([`Script::Report`] minus the
    /// steps before Send): Send, "I've copied it", "Copied, delete it", "Keep it".
    pub fn submission_updates() -> usize {
        REPORT.len() - (Script::DialogueOnly.steps().len() - 1)
    }
}

static CANCEL: Act = Act::Text("/cancel");

/// Which bot a run drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `tipline serve`.
    Tipline,
    /// The bare teloxide bot ([`baseline_bot`]): one short message and one button per step.
    Bare,
    /// The dialogue core in memory under teloxide ([`dialogue_baseline_bot`]).
    Dialogue,
}

/// Results of one run.
pub struct Figures {
    /// Citizens.
    pub citizens: usize,
    /// Completed scripts.
    pub completed: usize,
    /// Wall time.
    pub wall: Duration,
    /// Per-step latencies.
    pub latencies: Vec<Duration>,
    /// Bot process CPU seconds.
    pub cpu_secs: f64,
    /// Updates injected.
    pub updates: usize,
    /// Peak RSS of the bot process, KiB.
    pub peak_rss_kib: u64,
    /// 429 responses the bot received.
    pub too_many_requests: usize,
}

impl Figures {
    fn percentile(&self, p: f64) -> Duration {
        let mut v = self.latencies.clone();
        v.sort();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i.min(v.len() - 1)]
    }

    /// CPU milliseconds per update.
    pub fn cpu_ms_per_update(&self) -> f64 {
        self.cpu_secs * 1000.0 / self.updates.max(1) as f64
    }

    /// The CPU milliseconds one submission costs (Send, the receipt, the wipe offer and its
    /// answer): this full run's CPU less what its dialogue steps cost at `dialogue`'s rate (a
    /// [`Script::DialogueOnly`] run), per completed report.
    pub fn submission_cpu_ms(&self, dialogue: &Figures) -> f64 {
        let reports = self.completed.max(1) as f64;
        let steps = self
            .updates
            .saturating_sub(self.completed * Script::submission_updates());
        (self.cpu_secs * 1000.0 - dialogue.cpu_ms_per_update() * steps as f64) / reports
    }

    /// A one-line summary.
    pub fn line(&self, name: &str) -> String {
        format!(
            "{name}: {} citizens, {} completed in {:.1} s ({:.1} reports/min); reply p50 {} ms, p99 {} ms; CPU {:.2} ms/update ({} updates); peak RSS {} MiB; 429s received {}",
            self.citizens,
            self.completed,
            self.wall.as_secs_f64(),
            self.completed as f64 * 60.0 / self.wall.as_secs_f64().max(0.001),
            self.percentile(0.5).as_millis(),
            self.percentile(0.99).as_millis(),
            self.cpu_ms_per_update(),
            self.updates,
            self.peak_rss_kib / 1024,
            self.too_many_requests
        )
    }
}

/// CPU seconds (user + system) of a process, from /proc.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/PID/stat (indices 11 and 12 here).
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Creates the run's data directory, readable by this user only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

async fn prepare_tipline(dir: &Path) -> anyhow::Result<()> {
    private_dir(dir)?;
    let secret = ServerSecret::generate();
    crate::crypto::keyfile::write_new_private_file(
        &dir.join(crate::config::SECRET_FILE_NAME),
        secret.expose_file_text().as_bytes(),
    )?;
    let store = Store::open(&format!(
        "sqlite:{}",
        dir.join(crate::config::DATABASE_FILE_NAME).display()
    ))
    .await?;
    // The load test plays the keyring authority: it signs both keys and pins itself in the
    // data directory's configuration, where `serve` reads it.
    let authority = crate::crypto::sign::SigningKey::generate();
    for (role, name) in [
        (RecipientRole::Reviewer, "load reviewer"),
        (RecipientRole::Custodian, "load custodian"),
    ] {
        let op = crate::trust::Op::Add {
            role,
            name: name.into(),
            key: suite::generate_keypair().1,
            verify: crate::crypto::sign::SigningKey::generate().verifying_key(),
        };
        crate::trust::register(&store, &authority, op).await?;
    }
    std::fs::write(
        dir.join(crate::config::CONFIG_FILE_NAME),
        format!("[trust]\nauthority = [\"{}\"]\n", authority.verifying_key()),
    )?;
    store.close().await;
    Ok(())
}

fn spawn(args: &[&str], dir: &Path, sim: &Simulator) -> anyhow::Result<Bot> {
    let exe = std::env::current_exe().context("finding the tipline binary")?;
    let child = Command::new(exe)
        .args(args)
        .env("TIPLINE_DATA_DIR", dir)
        .env("TELEGRAM_BOT_TOKEN", sim.token())
        .env("TELEGRAM_API_URL", sim.api_url())
        .env("TIPLINE_REVIEW_LISTEN", "127.0.0.1:0")
        .env("TIPLINE_REPORTS_PER_DAY", "1000")
        .env("TIPLINE_LOG", "warn")
        // Any free port: the load test must not collide with a service on this host.
        .env("TIPLINE_OPS_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the bot process")?;
    Ok(Bot(child))
}

/// What one citizen's run gave: reply times, and how many updates it sent (all of them for a
/// completed script; fewer for one that gave up).
struct Run {
    latencies: Vec<Duration>,
    updates: usize,
    error: Option<anyhow::Error>,
}

/// Runs one citizen's script. A step's reply time runs from the moment the bot received the
/// update (the simulator records when getUpdates handed it over) to the moment its first
/// answer was seen in the chat (polled every 10 ms).
async fn citizen(
    sim: Simulator,
    id: u64,
    baseline: bool,
    script: Script,
    step_deadline: Duration,
    think: Duration,
) -> Run {
    let user = SimUser::new(id, "Dân").language("vi");
    let c = sim.citizen(user.clone());
    let chat = c.chat_id();
    let mut run = Run {
        latencies: Vec::with_capacity(REPORT.len()),
        updates: 0,
        error: None,
    };
    for (act, expect) in script.steps() {
        let before = sim.bot_message_count(chat);
        let injected = match (act, baseline) {
            (Act::Text(t), _) => c.inject(Content::text(*t)).map_err(|e| anyhow!("{e}")),
            (Act::Press(label), _) => {
                let label = if baseline { "Tiếp" } else { label };
                match sim.find_button(chat, label) {
                    Some((mid, data)) => sim
                        .press_button(&user, chat, mid, &data)
                        .map_err(|e| anyhow!("{e}")),
                    None => Err(anyhow!("citizen {id}: no button {label:?}")),
                }
            }
        };
        let injected = match injected {
            Ok(i) => i,
            Err(e) => {
                run.error = Some(e);
                return run;
            }
        };
        run.updates += 1;
        let sent_at = Instant::now();
        let expect = if baseline { 1 } else { expect };
        let deadline = Instant::now() + step_deadline;
        let mut first = None;
        loop {
            let n = sim.bot_message_count(chat);
            if n > before && first.is_none() {
                first = Some(tokio::time::Instant::now());
            }
            if n >= before + expect {
                break;
            }
            if Instant::now() > deadline {
                run.error = Some(anyhow!("citizen {id}: the bot did not answer in time"));
                return run;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let answered = first.unwrap_or_else(tokio::time::Instant::now);
        let latency = match sim.take_delivery_time(injected.update_id) {
            Some(delivered) => answered.saturating_duration_since(delivered),
            None => sent_at.elapsed(),
        };
        run.latencies.push(latency);
        // Reading and tapping; at the default 50 ms this also lets the turn's trailing calls
        // (edits) finish before the next step.
        tokio::time::sleep(think).await;
    }
    run
}

/// How the citizens arrive.
#[derive(Clone, Copy, Debug)]
pub enum Arrivals {
    /// All within the first five seconds (a worst-case burst).
    Burst,
    /// At this many citizens per second, evenly spaced.
    PerSecond(f64),
}

/// Runs the load test for `citizens` citizens, each following `script`, against `target`.
pub async fn run(
    citizens: usize,
    target: Target,
    arrivals: Arrivals,
    think: Duration,
    script: Script,
) -> anyhow::Result<Figures> {
    let sim = Simulator::builder()
        // Call records for 10,000 citizens would take gigabytes; 429s are counted from the
        // flood-limit counter instead.
        .record_calls(false)
        .start()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    sim.set_faults(Faults {
        flood: Some(FloodLimits::default()),
        ..Faults::default()
    });
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "tipline-load-{}",
        hex::encode(crate::crypto::random_array::<6>())
    ));
    let bot = match target {
        Target::Bare | Target::Dialogue => {
            private_dir(&dir)?;
            let cmd = if target == Target::Bare {
                "loadtest-baseline-bot"
            } else {
                "loadtest-dialogue-baseline-bot"
            };
            spawn(&[cmd], &dir, &sim)?
        }
        Target::Tipline => {
            prepare_tipline(&dir).await?;
            spawn(&["serve"], &dir, &sim)?
        }
    };
    let baseline = target == Target::Bare;
    let pid = bot.0.id();
    let polling_by = Instant::now() + Duration::from_secs(60);
    while sim.poll_count() == 0 {
        if Instant::now() > polling_by {
            bail!("the bot did not start polling");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu_before = cpu_secs(pid);
    let started = Instant::now();
    // A step may wait behind everyone else's under a burst; at a sustainable arrival rate a
    // minute is generous.
    let step_deadline = match arrivals {
        Arrivals::Burst => Duration::from_secs(300),
        Arrivals::PerSecond(_) => Duration::from_secs(120),
    };
    // Progress on stderr once a minute, so that a long run stopped early still says how far
    // it got (counts only: the figures are computed at the end).
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let progress = {
        let (finished, failed, sim) = (finished.clone(), failed.clone(), sim.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            tick.tick().await;
            loop {
                tick.tick().await;
                let cpu = cpu_secs(pid) - cpu_before;
                eprintln!(
                    "loadtest: {:.0} s: {} of {citizens} citizens done ({} lost), bot CPU {cpu:.1} s, {} 429s",
                    started.elapsed().as_secs_f64(),
                    finished.load(std::sync::atomic::Ordering::Relaxed),
                    failed.load(std::sync::atomic::Ordering::Relaxed),
                    sim.flood_rejections(),
                );
            }
        })
    };
    let mut tasks = Vec::with_capacity(citizens);
    for i in 0..citizens {
        let sim = sim.clone();
        let (finished, failed) = (finished.clone(), failed.clone());
        let delay = match arrivals {
            Arrivals::Burst => Duration::from_millis((i as u64 * 37) % 5000),
            Arrivals::PerSecond(r) => Duration::from_secs_f64(i as f64 / r.max(0.001)),
        };
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let id = 5_000_000_000 + i as u64;
            let run = citizen(sim, id, baseline, script, step_deadline, think).await;
            finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if run.error.is_some() {
                failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            run
        }));
    }
    let mut latencies = Vec::new();
    let mut completed = 0;
    let mut updates = 0;
    for t in tasks {
        match t.await {
            Ok(run) => {
                updates += run.updates;
                latencies.extend(run.latencies);
                match run.error {
                    None => completed += 1,
                    Some(e) => eprintln!("loadtest: {e}"),
                }
            }
            Err(e) => eprintln!("loadtest: a citizen task failed: {e}"),
        }
    }
    progress.abort();
    let wall = started.elapsed();
    let cpu = cpu_secs(pid) - cpu_before;
    let rss = peak_rss_kib(pid);
    let too_many = sim.flood_rejections();
    drop(bot);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Figures {
        citizens,
        completed,
        wall,
        latencies,
        cpu_secs: cpu,
        updates,
        peak_rss_kib: rss,
        too_many_requests: too_many,
    })
}

/// A baseline's teloxide bot from the load test's environment, under teloxide's Throttle with
/// the limits tipline paces itself to.
fn throttled_bot() -> anyhow::Result<teloxide::adaptors::Throttle<teloxide::Bot>> {
    use teloxide::prelude::*;
    let token = std::env::var("TELEGRAM_BOT_TOKEN").context("TELEGRAM_BOT_TOKEN")?;
    let url = url::Url::parse(&std::env::var("TELEGRAM_API_URL").context("TELEGRAM_API_URL")?)?;
    Ok(teloxide::Bot::new(token)
        .set_api_url(url)
        .throttle(crate::bot::telegram_limits()))
}

/// The dialogue baseline: the same dialogue core ([`crate::dialogue`]) with the same texts and
/// keyboards, its drafts in memory as plain values, under teloxide's Throttle: no pseudonym, no
/// sealing, no store, no pacing of its own. What tipline costs beyond it is what tipline does
/// per step to protect the reporter (`--baseline` compares with the bare bot above, which also
/// sends far smaller messages).
pub async fn dialogue_baseline_bot() -> anyhow::Result<()> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use teloxide::prelude::*;

    use crate::dialogue::draft::Draft;
    use crate::dialogue::event::{Event, Input, from_callback};
    use crate::dialogue::machine::{self, Ctx, Decision, Turn};
    use crate::dialogue::outbox::{Out, Outbox, Persist};

    type Tg = teloxide::adaptors::Throttle<teloxide::Bot>;
    type Drafts = Arc<Mutex<HashMap<ChatId, Draft>>>;
    let config = Arc::new(crate::config::Config::load(
        None,
        None,
        &crate::config::ProcessEnv,
    )?);
    let bot = throttled_bot()?;
    let drafts: Drafts = Arc::new(Mutex::new(HashMap::new()));

    async fn step(
        bot: &Tg,
        chat: ChatId,
        event: Event,
        drafts: &Drafts,
        config: &crate::config::Config,
    ) -> Result<(), teloxide::RequestError> {
        let mut out = Outbox::new(&config.limits);
        {
            let mut map = drafts.lock().unwrap_or_else(|e| e.into_inner());
            let had = map.remove(&chat);
            let has_draft = had.is_some();
            let mut d = had.unwrap_or_default();
            let ctx = Ctx {
                has_draft,
                session: machine::Session::default(),
                limits: &config.limits,
                retention: &config.retention,
                contacts: &config.contacts,
                download_limit: crate::bot::evidence::TELEGRAM_DOWNLOAD_LIMIT,
            };
            let mut turn = Turn::default();
            // The dialogue-only script never reaches an effect (a submission, a file).
            let keep = match machine::decide(&mut d, &ctx, event, &mut out, &mut turn) {
                Decision::Done(Persist::Delete) => false,
                Decision::Done(Persist::Nothing) => has_draft,
                _ => true,
            };
            if keep {
                map.insert(chat, d);
            }
        }
        for item in out.items {
            match item {
                Out::Send { text, keyboard, .. } => {
                    let mut req = bot.send_message(chat, text);
                    if let Some(k) = keyboard {
                        req = req.reply_markup(crate::bot::send::markup(&k));
                    }
                    req.await?;
                }
                Out::EditKeyboard { msg_id, keyboard } => {
                    let req =
                        bot.edit_message_reply_markup(chat, teloxide::types::MessageId(msg_id));
                    match keyboard {
                        Some(k) => req.reply_markup(crate::bot::send::markup(&k)).await?,
                        None => req.await?,
                    };
                }
                _ => {}
            }
        }
        Ok(())
    }
    let handler = dptree::entry()
        .branch(Update::filter_message().endpoint(
            |bot: Tg, msg: Message, drafts: Drafts, config: Arc<crate::config::Config>| async move {
                let msg_id = msg.id.0;
                let event = match msg.text() {
                    Some("/start") => Event::Start { msg_id },
                    Some("/cancel") => Event::Cancel { msg_id },
                    Some(t) => Event::Input(Input::Text {
                        text: t.to_owned(),
                        msg_id,
                    }),
                    None => return Ok(()),
                };
                step(&bot, msg.chat.id, event, &drafts, &config).await
            },
        ))
        .branch(Update::filter_callback_query().endpoint(
            |bot: Tg, q: CallbackQuery, drafts: Drafts, config: Arc<crate::config::Config>| async move {
                if let Some(m) = &q.message {
                    let event = from_callback(q.data.as_deref().unwrap_or(""), m.id().0);
                    step(&bot, m.chat().id, event, &drafts, &config).await?;
                }
                bot.answer_callback_query(q.id.clone()).await?;
                Ok::<(), teloxide::RequestError>(())
            },
        ));
    Dispatcher::builder(bot, handler)
        .dependencies(dptree::deps![drafts, config])
        .default_handler(|_| async {})
        .build()
        .dispatch()
        .await;
    Ok(())
}

/// The baseline: a minimal teloxide dialogue bot with in-memory state, answering every message
/// or button with one message and one button, under the same Throttle limits as tipline.
pub async fn baseline_bot() -> anyhow::Result<()> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use teloxide::prelude::*;
    use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

    let bot = throttled_bot()?;
    let state: Arc<Mutex<HashMap<ChatId, u32>>> = Arc::new(Mutex::new(HashMap::new()));
    async fn step(
        bot: &teloxide::adaptors::Throttle<teloxide::Bot>,
        chat: ChatId,
        state: &Mutex<HashMap<ChatId, u32>>,
    ) -> Result<(), teloxide::RequestError> {
        let n = {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            let e = s.entry(chat).or_insert(0);
            *e += 1;
            *e
        };
        let kb =
            InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("Tiếp", "next")]]);
        bot.send_message(chat, format!("Bước {n}"))
            .reply_markup(kb)
            .await?;
        Ok(())
    }
    let handler = dptree::entry()
        .branch(Update::filter_message().endpoint(
            |bot: teloxide::adaptors::Throttle<teloxide::Bot>,
             msg: Message,
             state: Arc<Mutex<HashMap<ChatId, u32>>>| async move {
                step(&bot, msg.chat.id, &state).await
            },
        ))
        .branch(Update::filter_callback_query().endpoint(
            |bot: teloxide::adaptors::Throttle<teloxide::Bot>,
             q: CallbackQuery,
             state: Arc<Mutex<HashMap<ChatId, u32>>>| async move {
                bot.answer_callback_query(q.id.clone()).await?;
                if let Some(m) = q.message {
                    step(&bot, m.chat().id, &state).await?;
                }
                Ok(())
            },
        ));
    Dispatcher::builder(bot, handler)
        .dependencies(dptree::deps![state])
        .default_handler(|_| async {})
        .build()
        .dispatch()
        .await;
    Ok(())
}
