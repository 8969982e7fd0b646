//! A running tipline bot against the Bot API simulator, for end-to-end tests.

use std::sync::Arc;

use tipline::bot::App;
use tipline::config::{Config, Contacts, Limits, Retention};
use tipline::crypto::keyfile::KdfParams;
use tipline::crypto::receipt::ReceiptDeriver;
use tipline::crypto::{PublicKey, RecipientRole, SecretKey, ServerSecret, suite};
use tipline::sim::Simulator;
use tipline::store::Store;

/// A bot, its simulator, its store and the Inspectorate's keys.
pub struct Harness {
    pub sim: Simulator,
    pub store: Store,
    pub reviewer: (SecretKey, PublicKey),
    /// The reviewer's signing key (replies to reporters are signed with it).
    pub reviewer_signing: tipline::crypto::sign::SigningKey,
    /// The custodian's signing key (approvals are signed with it).
    pub custodian_signing: tipline::crypto::sign::SigningKey,
    pub custodian: (SecretKey, PublicKey),
    pub config: Config,
    /// The keyring authority (the harness plays it): it signed both keys.
    pub authority: tipline::crypto::sign::SigningKey,
    /// The server secret, as its file text (to restart the bot with the same one).
    secret: zeroize::Zeroizing<String>,
    kdf: KdfParams,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// Options for a harness.
pub struct Options {
    pub kdf: KdfParams,
    pub env: Vec<(&'static str, &'static str)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            env: Vec::new(),
        }
    }
}

struct VecEnv(Vec<(&'static str, &'static str)>);

impl tipline::config::Env for VecEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

impl Harness {
    /// A bot on a fresh SQLite store.
    pub async fn start() -> Harness {
        Self::start_with(Options::default()).await
    }

    /// A bot on a fresh SQLite store with options.
    pub async fn start_with(opts: Options) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("tipline.db").display());
        let store = Store::open(&url).await.unwrap();
        let mut h = Self::start_on(store, opts, dir.path()).await;
        h._dir = Some(dir);
        h
    }

    /// A bot on a given store.
    pub async fn start_on(store: Store, opts: Options, data_dir: &std::path::Path) -> Harness {
        // TIPLINE_TEST_LOG=debug shows the bot's (content-free) log while debugging a test.
        if let Ok(level) = std::env::var("TIPLINE_TEST_LOG") {
            tipline::telemetry::init(&level);
        }
        let reviewer = suite::generate_keypair();
        let custodian = suite::generate_keypair();
        let authority = super::test_authority();
        let reviewer_signing = tipline::crypto::sign::SigningKey::generate();
        super::register_keys(
            &store,
            RecipientRole::Reviewer,
            "Reviewer",
            reviewer.1,
            reviewer_signing.verifying_key(),
        )
        .await;
        let custodian_signing = tipline::crypto::sign::SigningKey::generate();
        super::register_keys(
            &store,
            RecipientRole::Custodian,
            "Custodian",
            custodian.1,
            custodian_signing.verifying_key(),
        )
        .await;
        let config = Config::load(Some(data_dir), None, &VecEnv(opts.env.clone())).unwrap();
        let sim = Simulator::start().await.unwrap();
        let secret = ServerSecret::generate().expose_file_text();
        let mut h = Harness {
            sim,
            store,
            reviewer,
            custodian,
            config,
            authority,
            reviewer_signing,
            custodian_signing,
            secret,
            kdf: opts.kdf,
            stop: None,
            task: None,
            _dir: None,
        };
        h.run_bot();
        h
    }

    /// Starts the bot on the harness's store and simulator.
    fn run_bot(&mut self) {
        let app = Arc::new(
            App::new(
                self.store.clone(),
                ServerSecret::parse(&self.secret).unwrap(),
                ReceiptDeriver::with_params(2, self.kdf),
                limits(&self.config.limits),
                Retention {
                    ..self.config.retention.clone()
                },
                Contacts {
                    ..self.config.contacts.clone()
                },
                Arc::new(tipline::trust::Trust::new(
                    tipline::trust::Authorities::single(self.authority.verifying_key()),
                    None,
                )),
            )
            // Telegram's per-chat pacing (1 message/s) would make every step of a scripted
            // conversation wait a second; the flood-limit behaviour is exercised separately.
            .with_pace(tipline::bot::pace::PaceLimits::NONE),
        );
        let sim = &self.sim;
        let bot = teloxide::Bot::new(sim.token()).set_api_url(sim.api_url().parse().unwrap());
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            tipline::bot::run_polling(bot, app, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        self.stop = Some(stop);
        self.task = Some(task);
    }

    /// Stores a reply to the reporter as the reviewer's client would: signed with the
    /// reviewer's key over the case, its number, the mailbox key and the envelope.
    pub async fn add_reply(
        &self,
        case_id: &tipline::ids::CaseId,
        mailbox: &PublicKey,
        blob: Vec<u8>,
    ) {
        use tipline::crypto::ItemKind;
        let seq = 1 + self
            .store
            .items(case_id)
            .await
            .unwrap()
            .iter()
            .filter(|i| i.kind == ItemKind::ToReporter)
            .count() as i64;
        let message = tipline::trust::reply_message(case_id, seq, mailbox, &blob);
        let sig = self
            .reviewer_signing
            .sign(tipline::trust::REPLY_CONTEXT, &message);
        let proof = tipline::store::AuditProof::by_key(
            tipline::trust::REPLY_CONTEXT,
            message,
            *self.reviewer.1.as_bytes(),
            *sig.as_bytes(),
        );
        self.store
            .add_item_signed(
                case_id,
                &tipline::store::NewItem {
                    kind: ItemKind::ToReporter,
                    blob,
                    author: Some(self.reviewer.1.key_id()),
                    for_key: None,
                },
                &self.reviewer.1.key_id().to_string(),
                Some((seq, &proof)),
            )
            .await
            .unwrap();
    }

    /// The pin on the harness's authority (what its bot trusts).
    pub fn authority_ring(&self) -> tipline::trust::Authorities {
        tipline::trust::Authorities::single(self.authority.verifying_key())
    }

    /// The bot's server secret, as someone who seized the server holds it.
    pub fn server_secret(&self) -> ServerSecret {
        ServerSecret::parse(&self.secret).unwrap()
    }

    /// Whether the draft of Telegram user `id` exists and opens with the bot's key.
    pub async fn draft_opens(&self, id: u64) -> bool {
        let secret = ServerSecret::parse(&self.secret).unwrap();
        let p = secret.pseudonym(i64::try_from(id).unwrap());
        match self
            .store
            .load_draft(&p, tipline::clock::unix_now())
            .await
            .unwrap()
        {
            Some(row) => tipline::bot::draft::open(&secret, &p, &row).is_ok(),
            None => false,
        }
    }

    /// Whether the bot holds a draft for Telegram user `id` (under the current secret).
    pub async fn has_draft(&self, id: u64) -> bool {
        let secret = ServerSecret::parse(&self.secret).unwrap();
        let p = secret.pseudonym(i64::try_from(id).unwrap());
        self.store
            .load_draft(&p, tipline::clock::unix_now())
            .await
            .unwrap()
            .is_some()
    }

    /// Stops the bot, then starts a new one with the same server secret on `store` (e.g. the
    /// same database opened again after an outage).
    pub async fn restart_on(&mut self, store: Store) {
        self.halt().await;
        self.store = store;
        self.run_bot();
    }

    async fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(20), t).await;
        }
    }

    /// A citizen in a private chat with the bot. The quiet period that ends each wait covers
    /// the Throttle adaptor's 250 ms batching, so a turn's messages are all in before the test
    /// reads them.
    pub fn citizen(&self, user: tipline::sim::SimUser) -> tipline::sim::Citizen {
        self.sim
            .citizen(user)
            .with_quiet_period(std::time::Duration::from_millis(400))
    }

    /// Stops the bot and waits for it to finish.
    pub async fn stop(mut self) {
        self.halt().await;
    }
}

fn limits(l: &Limits) -> Limits {
    l.clone()
}

/// Pulls "Label: value" out of a message text.
pub fn field(text: &str, label: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.strip_prefix(label)
            .map(|rest| rest.trim_start_matches([':', ' ']).trim().to_owned())
    })
}

/// The secret lookup code in a receipt message: the line that is four groups of four.
pub fn receipt_in(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| {
            l.len() == 19 && l.split('-').count() == 4 && tipline::crypto::Receipt::parse(l).is_ok()
        })
        .map(str::to_owned)
}

/// The case number (`KH-XXXX-XXXX`) named in a message.
pub fn case_number_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '.'))
        .find(|w| w.starts_with("KH-") && tipline::ids::CaseCode::parse(w).is_some())
        .map(str::to_owned)
}

/// An English report from /start to the review screen: the English button first (the bot
/// starts in Vietnamese whatever Telegram's language), then one answer a step.
pub async fn english_report_to_review(c: &tipline::sim::Citizen) {
    c.command("/start").await;
    c.press("English").await;
    c.press("✅ I agree, start").await;
    c.press("Charged unlawful fees").await;
    c.press("Traffic police").await;
    c.press("Traffic Police").await;
    c.press("I prefer not to say").await;
    c.press("Longer ago").await;
    c.press("Don't know, skip").await;
    c.send("Officers at the checkpoint took 500,000 dong without a receipt.")
        .await;
    c.press("➡️ Nothing, continue").await;
}

/// The case number and receipt from the newest receipt message the bot sent.
pub fn submitted(c: &tipline::sim::Citizen) -> (String, String) {
    let text = c
        .snapshot()
        .messages
        .iter()
        .rev()
        .find_map(|m| m.text.clone().filter(|t| receipt_in(t).is_some()))
        .expect("a receipt message");
    let code = case_number_in(&text).expect("a case number");
    let receipt = receipt_in(&text).expect("a receipt");
    (code, receipt)
}

/// The stored summary of a case, opened with the harness's reviewer key.
pub async fn summary_of(h: &Harness, code: &str) -> tipline::bot::summary::CaseSummary {
    use tipline::crypto::{ItemKind, Sealed};
    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(code).unwrap())
        .await
        .unwrap();
    let items = h.store.items(&case.id).await.unwrap();
    let item = items.iter().find(|i| i.kind == ItemKind::Summary).unwrap();
    let s: Sealed<tipline::bot::summary::CaseSummary> = Sealed::from_bytes(item.blob.clone());
    s.open(ItemKind::Summary, &case.id, &h.reviewer.0).unwrap()
}

/// /status, then the receipt of the newest receipt message in the chat; waits for the answer.
pub async fn send_receipt_after_status(c: &tipline::sim::Citizen) {
    let receipt = c
        .bot_messages()
        .iter()
        .rev()
        .filter_map(|m| m.text.as_deref())
        .find_map(receipt_in)
        .expect("a receipt in the chat");
    c.command("/status").await;
    send_receipt(c, &receipt).await;
}

/// Types a receipt (in /status) and waits for the bot's answer to it.
///
/// The bot deletes the message holding the receipt at once and answers only after the slow
/// receipt derivation, so the ordinary "response, then a quiet period" wait could end on the
/// deletion alone when the machine is loaded. This waits for a new bot message instead.
pub async fn send_receipt(c: &tipline::sim::Citizen, receipt: &str) -> tipline::sim::Injected {
    let mark = c.mark();
    let typed = c.send(receipt).await;
    c.wait_for(|_| {
        c.bot_messages_since(mark)
            .iter()
            .any(|m| !m.deleted && m.text.is_some())
    })
    .await;
    c.settle().await;
    typed
}
