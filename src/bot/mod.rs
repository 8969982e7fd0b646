//! The citizen-facing Telegram bot (teloxide).
//!
//! The handler tree is built in [`schema`]: non-private chats first (the bot says once that it
//! works only in private and leaves), then commands (so /cancel works at any step), then
//! messages by kind, button presses, edits, and a silent fallback. Every endpoint ends in
//! [`App::turn`], which loads the encrypted draft, runs [`flow`], saves, and only then speaks.
//!
//! Privacy: nothing here logs message text, names, usernames, ids or receipts; logs carry
//! case codes, pseudonym prefixes, counts and durations. teloxide's own logging, whose error
//! paths can print raw updates, is switched off in [`crate::telemetry`], and the dispatcher's
//! default update and error handlers are replaced by content-free ones.

pub mod catalog;
pub mod draft;
pub mod evidence;
pub mod flow;
pub mod limits;
pub mod outgoing;
pub mod summary;
pub mod texts;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use teloxide::RequestError;
use teloxide::dispatching::{DefaultKey, Dispatcher, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId, User,
};
use tracing::{info, warn};

use self::draft::{Draft, DraftError, Step};
use self::flow::{Input, Out, Outbox, Persist};
use self::summary::{CaseSummary, Identity, TextMessage};
use self::texts::{self as t, Lang};
use crate::clock::unix_now;
use crate::config::{Contacts, Limits, Retention};
use crate::crypto::receipt::ReceiptDeriver;
use crate::crypto::{ItemKind, Pseudonym, Receipt, Sealed, ServerSecret};
use crate::ids::CaseId;
use crate::store::{NewCase, NewItem, Store};

/// The bot type: teloxide's Bot behind the Throttle adaptor, which keeps within Telegram's
/// flood limits.
pub type TgBot = teloxide::adaptors::Throttle<Bot>;

/// Errors of one handler run. Their `Display` never contains content.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A Bot API request failed.
    #[error("telegram request failed: {0}")]
    Telegram(String),
    /// The store failed after the reporter had been answered.
    #[error("storage failed: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Sealing failed (no recipients).
    #[error("sealing failed")]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A draft could not be sealed or read.
    #[error(transparent)]
    Draft(#[from] DraftError),
    /// The signed keyring did not verify: nothing is sealed until it does.
    #[error("keyring not trusted: {0}")]
    Trust(#[from] crate::trust::TrustError),
}

impl From<RequestError> for HandlerError {
    fn from(e: RequestError) -> Self {
        HandlerError::Telegram(request_error_kind(&e))
    }
}

/// A content-free description of a Bot API error: the kind and code, never the payload.
/// (Errors are counted in [`crate::metrics`] where calls are made, in [`outgoing::deliver`].)
pub fn request_error_kind(e: &RequestError) -> String {
    match e {
        RequestError::Api(api) => {
            format!("api error {:?}", std::mem::discriminant(api)).replace("Discriminant", "")
        }
        RequestError::MigrateToChatId(_) => "migrate to chat id".into(),
        RequestError::RetryAfter(s) => format!("retry after {}s", s.seconds()),
        RequestError::Network(n) => format!(
            "network ({})",
            if n.is_timeout() {
                "timeout"
            } else {
                "connection"
            }
        ),
        RequestError::InvalidJson { .. } => "invalid json in response".into(),
        RequestError::Io(_) => "io".into(),
    }
}

/// Everything the handlers share.
pub struct App {
    /// Storage.
    pub store: Store,
    /// The server secret (pseudonyms, draft keys).
    pub secret: ServerSecret,
    /// Receipt derivation, bounded.
    pub receipts: ReceiptDeriver,
    /// Citizen limits.
    pub limits: Limits,
    /// Retention.
    pub retention: Retention,
    /// Redirect contacts.
    pub contacts: Contacts,
    /// The pinned keyring authority: new items are sealed only to keys it signed.
    pub trust: Arc<crate::trust::Trust>,
    flood: Mutex<HashMap<[u8; 8], (i64, u32, bool)>>,
    /// Reports a day and receipt attempts an hour, per person, in memory only ([`limits`]).
    limiter: limits::Limiter,
    /// Which case a person opened with /status, for the reply that may follow. Kept in memory
    /// only (ten minutes), never in the draft: a stored link from a pseudonym to a case is
    /// exactly what a seized server must not find.
    /// The whole /status conversation lives here (shown, replying), never in the draft: a
    /// draft in a status step told a seizure that its owner holds a receipt.
    status_sessions: Mutex<HashMap<[u8; 32], (CaseId, i64, bool)>>,
    /// Bounds evidence cleaning across all chats (CPU and memory).
    cleaning: tokio::sync::Semaphore,
    /// Bounds the evidence bytes held in memory across all chats ([`evidence::Budget`]).
    downloads: evidence::Budget,
    /// Receipt messages Telegram confirmed whose draft could not record it (the database
    /// failed just then): the next turn records the delivery instead of issuing a fresh
    /// receipt. Memory only; after a crash the fresh receipt is issued anyway.
    delivered_receipts: Mutex<HashMap<[u8; 32], (i32, i64)>>,
    /// People without a draft who typed /status and whose next text is their receipt. Memory
    /// only: nothing is stored about someone who has not agreed to the notice.
    expecting_receipt: Mutex<HashMap<[u8; 32], i64>>,
    /// Group and channel chats already told that the bot works in private only, so a chat the
    /// bot cannot leave is not told on every message.
    told_chats: Mutex<HashSet<i64>>,
}

/// Locks a mutex, taking the data of a poisoned one (every map here stays consistent between
/// statements, so a panic elsewhere cannot leave one half-updated).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a /status session allows a reply, in seconds.
const STATUS_SESSION_SECS: i64 = 600;

/// Telegram's limits as the Throttle adaptor should apply them: about one message a second in
/// a private chat (the per-minute figure only smooths bursts), 20 a minute in groups, 30 a
/// second overall (Bot API FAQ). teloxide's default of 20 a minute per chat would stall a
/// citizen who answers quickly.
pub fn telegram_limits() -> teloxide::adaptors::throttle::Limits {
    teloxide::adaptors::throttle::Limits {
        messages_per_sec_chat: 1,
        messages_per_min_chat: 60,
        messages_per_min_channel_or_supergroup: 20,
        messages_per_sec_overall: 30,
    }
}

impl App {
    /// Builds the shared state.
    pub fn new(
        store: Store,
        secret: ServerSecret,
        receipts: ReceiptDeriver,
        limits: Limits,
        retention: Retention,
        contacts: Contacts,
        trust: Arc<crate::trust::Trust>,
    ) -> Self {
        // Room for one whole report's files at least.
        let download_mib = evidence::DOWNLOAD_BUDGET_MIB.max(
            u32::try_from(limits.max_attachment_bytes.div_ceil(1024 * 1024)).unwrap_or(u32::MAX),
        );
        Self {
            store,
            secret,
            receipts,
            limits,
            retention,
            contacts,
            trust,
            flood: Mutex::new(HashMap::new()),
            limiter: limits::Limiter::default(),
            status_sessions: Mutex::new(HashMap::new()),
            cleaning: tokio::sync::Semaphore::new(evidence::CLEANING_AT_ONCE),
            downloads: evidence::Budget::new(download_mib),
            delivered_receipts: Mutex::new(HashMap::new()),
            expecting_receipt: Mutex::new(HashMap::new()),
            told_chats: Mutex::new(HashSet::new()),
        }
    }

    /// Saves a draft against the version it was read at, with the configured lifetime.
    async fn save_draft(
        &self,
        p: &Pseudonym,
        d: &Draft,
        version: Option<i64>,
    ) -> Result<i64, DraftError> {
        draft::save(
            &self.store,
            &self.secret,
            p,
            d,
            version,
            self.retention.draft_hours,
        )
        .await
    }

    /// Counts one event of the person in a limit bucket; false when over the limit. Memory
    /// only ([`limits`]): nothing is written that says who did it.
    fn allow(&self, user: &User, bucket: &'static str, window_secs: i64, max: i64) -> bool {
        self.limiter
            .hit(bucket, telegram_id(user), window_secs, max, unix_now())
    }

    fn open_status_session(&self, p: &Pseudonym, case: CaseId) {
        let now = unix_now();
        let mut map = self
            .status_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, exp, _)| *exp > now);
        if map.len() < 100_000 {
            map.insert(p.0, (case, now + STATUS_SESSION_SECS, false));
        }
    }

    fn status_session(&self, p: &Pseudonym) -> Option<CaseId> {
        let map = self
            .status_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.get(&p.0)
            .filter(|(_, exp, _)| *exp > unix_now())
            .map(|(c, _, _)| *c)
    }

    /// Marks the person's status session as waiting for their reply; false without one.
    fn start_status_reply(&self, p: &Pseudonym) -> bool {
        let mut map = self
            .status_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match map.get_mut(&p.0).filter(|(_, exp, _)| *exp > unix_now()) {
            Some(s) => {
                s.2 = true;
                true
            }
            None => false,
        }
    }

    /// Whether the person's next text is their reply to the Inspectorate.
    fn replying(&self, p: &Pseudonym) -> bool {
        self.status_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&p.0)
            .is_some_and(|(_, exp, r)| *r && *exp > unix_now())
    }

    fn close_status_session(&self, p: &Pseudonym) {
        self.status_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&p.0);
    }

    /// Remembers a receipt message Telegram confirmed but the draft could not record.
    fn remember_delivered(&self, p: &Pseudonym, msg_id: i32) {
        let now = unix_now();
        let mut map = lock(&self.delivered_receipts);
        map.retain(|_, (_, exp)| *exp > now);
        map.insert(p.0, (msg_id, now + STATUS_SESSION_SECS));
    }

    /// The receipt message remembered by [`App::remember_delivered`], if any (and forgets it).
    fn take_delivered(&self, p: &Pseudonym) -> Option<i32> {
        lock(&self.delivered_receipts)
            .remove(&p.0)
            .filter(|(_, exp)| *exp > unix_now())
            .map(|(id, _)| id)
    }

    /// Remembers (in memory) that this person's next text is a receipt.
    fn expect_receipt(&self, p: &Pseudonym) {
        let now = unix_now();
        let mut map = lock(&self.expecting_receipt);
        map.retain(|_, exp| *exp > now);
        if map.len() < 100_000 {
            map.insert(p.0, now + STATUS_SESSION_SECS);
        }
    }

    /// Whether this person's text is the receipt asked for (and forgets the question).
    fn take_receipt_expected(&self, p: &Pseudonym) -> bool {
        lock(&self.expecting_receipt)
            .remove(&p.0)
            .is_some_and(|exp| exp > unix_now())
    }

    /// Whether a non-private chat is to be told (once) that the bot works in private only.
    fn first_time_told(&self, chat: ChatId) -> bool {
        let mut told = lock(&self.told_chats);
        if told.len() > 10_000 {
            told.clear();
        }
        told.insert(chat.0)
    }

    /// Counts an update; `Some(true)` = over the limit and warn now, `Some(false)` = over and
    /// already warned, `None` = fine.
    fn flood_check(&self, p: &Pseudonym) -> Option<bool> {
        // A window opens with a person's first update and lasts a minute (a calendar minute
        // would let a burst across its boundary through twice).
        let now = unix_now();
        let mut key = [0u8; 8];
        key.copy_from_slice(&p.0[..8]);
        let mut map = lock(&self.flood);
        if map.len() > 100_000 {
            map.retain(|_, (start, _, _)| now - *start < 60);
        }
        let entry = map.entry(key).or_insert((now, 0, false));
        if now - entry.0 >= 60 {
            *entry = (now, 0, false);
        }
        entry.1 += 1;
        if entry.1 <= self.limits.updates_per_minute {
            return None;
        }
        let first = !entry.2;
        entry.2 = true;
        Some(first)
    }
}

/// A button under the receipt or the wipe offer that follows it. These carry what they need in
/// their callback data (`after:…`), because once the receipt is delivered nothing about the
/// report is kept under the reporter's pseudonym: no draft says they reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterReport {
    /// "I have saved the code" under the receipt message.
    Saved,
    /// "Delete the conversation": from `first` to the offer's message.
    Wipe,
    /// "Keep it".
    Keep,
}

/// Callback data of an [`AfterReport`] button: `after:saved|wipe|keep:LANG:FIRST`, where FIRST
/// is the first message of the report's dialogue.
fn after_data(what: AfterReport, lang: Lang, first: i32) -> String {
    let what = match what {
        AfterReport::Saved => "saved",
        AfterReport::Wipe => "wipe",
        AfterReport::Keep => "keep",
    };
    format!("after:{what}:{}:{first}", lang.code())
}

/// Parses [`after_data`] (after its `after:` prefix); forged data yields `None` (a forged
/// FIRST can only delete messages of the chat the button was pressed in).
fn parse_after(rest: &str) -> Option<(AfterReport, Lang, i32)> {
    let mut parts = rest.split(':');
    let what = match parts.next()? {
        "saved" => AfterReport::Saved,
        "wipe" => AfterReport::Wipe,
        "keep" => AfterReport::Keep,
        _ => return None,
    };
    let lang = match parts.next()? {
        "vi" => Lang::Vi,
        "en" => Lang::En,
        _ => return None,
    };
    let first = parts.next()?.parse::<i32>().ok().filter(|f| *f > 0)?;
    parts.next().is_none().then_some((what, lang, first))
}

/// The most messages one wipe deletes (a month of dialogue; Telegram refuses older ones anyway).
const MAX_WIPE: i32 = 1000;

/// What an endpoint hands to [`App::turn`].
enum Event {
    /// "Reply" or "Done" under a shown status, or "Cancel" under the reply prompt
    /// (`status:reply|close|cancel`): the session is in memory.
    StatusButton {
        reply: bool,
        msg_id: i32,
    },
    /// A button under the receipt or the wipe offer ([`AfterReport`]).
    After {
        what: AfterReport,
        lang: Lang,
        first: i32,
        msg_id: i32,
    },
    Consent {
        yes: bool,
        lang: Lang,
        msg_id: i32,
        asked_by: Option<i32>,
    },
    Start {
        msg_id: i32,
    },
    Report {
        msg_id: i32,
    },
    Status {
        msg_id: i32,
        receipt: Option<String>,
        /// Typed without /status and recognised by its shape.
        spotted: bool,
    },
    Cancel {
        msg_id: i32,
    },
    Wipe {
        msg_id: i32,
    },
    SwitchLang {
        msg_id: i32,
    },
    Privacy {
        msg_id: i32,
    },
    Help {
        msg_id: i32,
    },
    UnknownCommand {
        msg_id: i32,
    },
    Input(Input),
    File {
        file: evidence::Incoming,
        msg_id: i32,
        forwarded: bool,
    },
    StaleButton,
    Notice {
        text: fn(Lang) -> &'static str,
        msg_id: i32,
        delete: bool,
    },
}

/// The consent buttons. Nothing is stored before consent, so the buttons carry what the
/// bot needs afterwards: the language and the id of the command that asked (to wipe it later).
fn welcome_keyboard(lang: Lang, asked_by: i32) -> InlineKeyboardMarkup {
    let data = |answer: &str| format!("consent:{answer}:{}:{asked_by}", lang.code());
    InlineKeyboardMarkup::new(vec![vec![
        InlineKeyboardButton::callback(t::agree(lang).to_owned(), data("yes")),
        InlineKeyboardButton::callback(t::disagree(lang).to_owned(), data("no")),
    ]])
}

impl App {
    /// One turn for one person: load, decide, save, speak.
    async fn turn(
        &self,
        bot: &TgBot,
        chat: ChatId,
        user: &User,
        event: Event,
    ) -> Result<(), HandlerError> {
        let started = Instant::now();
        let tg_id = telegram_id(user);
        let p = self.secret.pseudonym(tg_id);
        let fallback_lang = Lang::from_telegram(user.language_code.as_deref());
        let mut event = event;
        // A receipt must not stay in the chat whatever happens next (a flood limit, a database
        // outage): the message holding one goes first, and it is read as a status check.
        // Whatever comes next answers a /status question, if one was asked (memory only).
        let awaited = self.take_receipt_expected(&p);
        if let Event::Input(Input::Text { text, msg_id }) = &event
            && (awaited || looks_like_receipt(text))
        {
            let (text, msg_id) = (text.clone(), *msg_id);
            delete_quietly(bot, chat, msg_id).await;
            event = Event::Status {
                msg_id,
                receipt: Some(text),
                spotted: !awaited,
            };
        }
        if let Event::Status {
            msg_id,
            receipt: Some(_),
            spotted: false,
        } = &event
        {
            delete_quietly(bot, chat, *msg_id).await;
        }
        if let Some(warn_now) = self.flood_check(&p) {
            if warn_now {
                say(bot, chat, t::flood(fallback_lang)).await;
            }
            return Ok(());
        }
        let loaded = match draft::load(&self.store, &self.secret, tg_id).await {
            Ok(l) => l,
            Err(DraftError::Unreadable) => {
                warn!("unreadable draft replaced");
                self.store.delete_draft(&p).await?;
                draft::Loaded::empty(p)
            }
            Err(DraftError::Store(e)) => {
                warn!(error = %e, "store unavailable while loading a draft");
                // The step is unknown: a receipt typed at the receipt prompt, in any form the
                // prompt accepts, must still leave the chat. Anything else stays where the
                // reporter can copy it and send it again.
                if let Event::Input(Input::Text { text, msg_id }) = &event
                    && Receipt::parse(text).is_ok()
                {
                    delete_quietly(bot, chat, *msg_id).await;
                }
                say(bot, chat, t::db_down(fallback_lang)).await;
                return Ok(());
            }
        };
        let draft::Loaded {
            pseudonym: p,
            draft: mut d,
            version,
            exists: mut has_draft,
            old_pseudonym,
        } = loaded;
        if !has_draft {
            d.lang = fallback_lang;
        }
        let mut version = version;
        if d.owed.is_some() {
            // A submission committed without its receipt confirmed (a crash, or Telegram
            // failed): that comes before anything else the person asked.
            match self.settle_owed(bot, chat, &p, &mut d, version).await {
                Ok((v, answered)) => {
                    if v != version
                        && let Some(old) = &old_pseudonym
                    {
                        self.delete_old_draft(old).await;
                    }
                    if v.is_none() {
                        // The receipt is delivered and the submitted report's draft is gone.
                        has_draft = false;
                        d = Draft {
                            lang: d.lang,
                            ..Draft::default()
                        };
                    }
                    version = v;
                    if answered {
                        return Ok(());
                    }
                }
                Err(e) => {
                    let transient = matches!(&e, HandlerError::Store(s) if s.is_transient());
                    warn!(error = %e, transient, "an owed receipt could not be issued yet");
                    say(bot, chat, t::db_down(d.lang)).await;
                    return Ok(());
                }
            }
        }
        if let Event::Input(Input::Text { msg_id, .. }) = &event
            && d.step == Some(Step::StatusReceipt)
        {
            delete_quietly(bot, chat, *msg_id).await;
        }
        let mut out = Outbox::new(self.limits.max_report_chars);
        let mut track: Vec<i32> = Vec::new();
        let ctx = TurnCtx { chat, version };
        let persist = match self
            .decide(
                bot, &mut d, has_draft, user, event, &ctx, &mut out, &mut track,
            )
            .await
        {
            Ok(p) => p,
            Err(e) => {
                let transient = matches!(&e, HandlerError::Store(s) if s.is_transient());
                warn!(error = %e, transient, "a turn failed; nothing was saved");
                let text = if transient {
                    t::db_down(d.lang)
                } else {
                    t::error_generic(d.lang)
                };
                say(bot, chat, text).await;
                return Ok(());
            }
        };
        if persist != Persist::Delete && persist != Persist::Nothing {
            d.track(track.iter().copied());
        }
        match persist {
            Persist::Save => {
                match self.save_draft(&p, &d, version).await {
                    Ok(v) => version = Some(v),
                    Err(e) => {
                        warn!(error = %e, "could not save a draft");
                        say(bot, chat, t::db_down(d.lang)).await;
                        return Ok(());
                    }
                }
                if let Some(old) = &old_pseudonym {
                    // The draft moved to the current server secret version.
                    self.delete_old_draft(old).await;
                }
            }
            Persist::Committed(v) => {
                // The submission wrote the draft with the case, in one transaction.
                version = Some(v);
                if let Some(old) = &old_pseudonym {
                    self.delete_old_draft(old).await;
                }
            }
            Persist::Delete => {
                if let Err(e) = self.store.delete_draft(&p).await {
                    warn!(error = %e, "could not delete a draft");
                }
            }
            Persist::Nothing => {}
        }
        let sent = self.send(bot, chat, &d, out).await;
        let saved = matches!(persist, Persist::Save | Persist::Committed(_));
        if saved && sent.changes_draft() {
            self.record_sent(&p, &mut d, version, &sent).await;
        }
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            failed_calls = sent.failed,
            "turn done"
        );
        Ok(())
    }

    /// Records in the draft what a turn's sending changed: message ids for /wipe, the receipt
    /// message (whose delivery settles an owed receipt), deletions. Returns the new version.
    async fn record_sent(
        &self,
        p: &Pseudonym,
        d: &mut Draft,
        version: Option<i64>,
        sent: &Sent,
    ) -> Option<i64> {
        d.track(sent.ids.iter().copied());
        if sent.receipt.is_some() && d.step == Some(Step::Submitted) {
            // Delivered: nothing is owed any more, and nothing about the report stays under
            // the reporter's pseudonym. The receipt's buttons carry what the wipe needs.
            return match self.store.delete_draft(p).await {
                Ok(()) => None,
                Err(e) => {
                    warn!(error = %e, "could not delete a submitted report's draft");
                    if let Some(r) = sent.receipt {
                        self.remember_delivered(p, r);
                    }
                    version
                }
            };
        }
        if let Some(r) = sent.receipt {
            // Delivered: nothing is owed any more. Tracked like every other message so /wipe
            // removes it too.
            d.owed = None;
            d.receipt_message = Some(r);
            d.track([r]);
        }
        for id in &sent.deleted {
            d.messages.retain(|m| m != id);
            if d.receipt_message == Some(*id) {
                d.receipt_message = None;
            }
        }
        match self.save_draft(p, d, version).await {
            Ok(v) => Some(v),
            Err(e) => {
                warn!(error = %e, "could not record message ids");
                if let Some(r) = sent.receipt {
                    self.remember_delivered(p, r);
                }
                version
            }
        }
    }

    async fn delete_old_draft(&self, old: &Pseudonym) {
        if let Err(e) = self.store.delete_draft(old).await {
            warn!(error = %e, "could not delete a draft of an older secret version");
        }
    }

    /// Settles the receipt a committed submission still owes ([`draft::OwedReceipt`]): records
    /// a delivery this process saw but could not save, or issues a fresh receipt for the case
    /// (new lookup id and mailbox key, replacing the unseen ones, audited) and sends it. The
    /// receipt itself is never stored, so a seizure finds none. Returns the draft's version
    /// afterwards and whether a receipt message answered the turn.
    async fn settle_owed(
        &self,
        bot: &TgBot,
        chat: ChatId,
        p: &Pseudonym,
        d: &mut Draft,
        version: Option<i64>,
    ) -> Result<(Option<i64>, bool), HandlerError> {
        let Some(owed) = d.owed.clone() else {
            return Ok((version, false));
        };
        if let Some(msg) = self.take_delivered(p) {
            if d.step == Some(Step::Submitted) {
                // Delivered earlier: the submitted report's draft goes now.
                self.store.delete_draft(p).await?;
                return Ok((None, false));
            }
            d.owed = None;
            d.receipt_message = Some(msg);
            d.track([msg]);
            let v = self.save_draft(p, d, version).await?;
            return Ok((Some(v), false));
        }
        let Some(case_id) = CaseId::parse(&owed.case_id) else {
            // Cannot happen with drafts this code wrote; nothing can be delivered for it.
            d.owed = None;
            let v = self.save_draft(p, d, version).await?;
            return Ok((Some(v), false));
        };
        let receipt = Receipt::generate();
        let receipt_text = receipt.expose_text();
        let keys = self.receipts.derive(receipt).await?;
        // The receipt's button must be valid once the message is in the chat.
        d.step = Some(Step::Submitted);
        d.token = d.token.wrapping_add(1);
        let sealed = draft::seal(&self.secret, p, d, version, self.retention.draft_hours)?;
        let reissued = self
            .store
            .reissue_receipt(
                &case_id,
                &keys.lookup_id,
                &keys.mailbox_public,
                &sealed.to_save(p),
            )
            .await;
        let (code, v) = match reissued {
            Ok(r) => r,
            Err(crate::store::StoreError::NotFound) => {
                // The case is gone (purged): there is nothing left to open.
                d.owed = None;
                let v = self.save_draft(p, d, version).await?;
                return Ok((Some(v), false));
            }
            Err(e) => return Err(e.into()),
        };
        // No case code and no info line: the time of a log line must not date a report.
        tracing::debug!("an owed receipt was issued again");
        let mut out = Outbox::new(self.limits.max_report_chars);
        out.items.push(Out::Receipt {
            text: t::receipt_message(d.lang, code.as_str(), &receipt_text, true),
            keyboard: saved_keyboard(d),
        });
        let sent = self.send(bot, chat, d, out).await;
        let v = if sent.changes_draft() {
            self.record_sent(p, d, Some(v), &sent).await
        } else {
            Some(v)
        };
        Ok((v, true))
    }

    /// Delivers, at start-up, the receipts that a crash left owed (see
    /// [`App::settle_owed`]), so a reporter who pressed Send just before it hears the truth
    /// without having to write again. Every stored draft is opened (only the bot's key can
    /// tell which owe one), a page at a time. Returns how many were delivered or settled.
    pub async fn deliver_owed_receipts(&self, bot: &TgBot) -> usize {
        let mut after: Option<Pseudonym> = None;
        let mut settled = 0;
        loop {
            let page = match self.store.drafts_page(after.as_ref(), 200).await {
                Ok(page) => page,
                Err(e) => {
                    warn!(error = %e, "could not look for owed receipts");
                    return settled;
                }
            };
            let Some((last, _)) = page.last() else {
                return settled;
            };
            after = Some(*last);
            let now = unix_now();
            for (p, row) in page {
                let owes = row.expires_at > now
                    && draft::open(&self.secret, &p, &row).is_ok_and(|d| d.owed.is_some());
                if owes && self.settle_owed_of(bot, &p).await {
                    settled += 1;
                }
            }
        }
    }

    /// [`App::settle_owed`] for one stored draft, under the person's cross-replica lock
    /// and on a fresh read (a replica may have served the person meanwhile).
    async fn settle_owed_of(&self, bot: &TgBot, p: &Pseudonym) -> bool {
        let mut key = [0u8; 8];
        key.copy_from_slice(&p.0[..8]);
        let lock = match self
            .store
            .lock_chat(i64::from_be_bytes(key), std::time::Duration::from_secs(5))
            .await
        {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "could not lock a draft that owes a receipt");
                return false;
            }
        };
        let loaded = self.store.load_draft(p, unix_now()).await;
        let mut done = false;
        if let Ok(Some(row)) = loaded
            && let Ok(mut d) = draft::open(&self.secret, p, &row)
            && let Some(owed) = d.owed.clone()
        {
            match self
                .settle_owed(bot, ChatId(owed.chat), p, &mut d, Some(row.version))
                .await
            {
                Ok(_) => done = true,
                Err(e) => warn!(error = %e, "an owed receipt could not be issued at start-up"),
            }
        }
        lock.release().await;
        done
    }

    #[allow(clippy::too_many_arguments)]
    async fn decide(
        &self,
        bot: &TgBot,
        d: &mut Draft,
        has_draft: bool,
        user: &User,
        event: Event,
        ctx: &TurnCtx,
        out: &mut Outbox,
        track: &mut Vec<i32>,
    ) -> Result<Persist, HandlerError> {
        let l = d.lang;
        Ok(match event {
            Event::StatusButton { reply, msg_id } => {
                let p = self.secret.pseudonym(telegram_id(user));
                out.items.push(Out::EditKeyboard {
                    msg_id,
                    keyboard: None,
                });
                if !reply {
                    self.close_status_session(&p);
                    if d.step.is_some() {
                        flow::prompt(d, out);
                    }
                } else if self.start_status_reply(&p) {
                    let kb = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
                        t::cancel(l).to_owned(),
                        "status:cancel",
                    )]]);
                    out.ask(t::ask_reply(l).to_owned(), kb);
                } else {
                    out.say(t::status_expired(l));
                    out.say(t::ask_receipt(l));
                    self.expect_receipt(&p);
                }
                Persist::Nothing
            }
            Event::Input(Input::Text { text, msg_id })
                if self.replying(&self.secret.pseudonym(telegram_id(user))) =>
            {
                if d.consented {
                    track.push(msg_id);
                }
                self.store_reply(d, &text, user, out).await?
            }
            Event::After {
                what,
                lang,
                first,
                msg_id,
            } => {
                // A report started since keeps its language; otherwise the button's.
                if !has_draft {
                    d.lang = lang;
                }
                let l = d.lang;
                match what {
                    AfterReport::Saved => {
                        out.items.push(Out::DeleteReceipt(msg_id));
                        let rows = vec![vec![
                            InlineKeyboardButton::callback(
                                t::wipe_yes(l).to_owned(),
                                after_data(AfterReport::Wipe, l, first),
                            ),
                            InlineKeyboardButton::callback(
                                t::wipe_no(l).to_owned(),
                                after_data(AfterReport::Keep, l, first),
                            ),
                        ]];
                        out.items.push(Out::Send {
                            text: t::receipt_deleted(l).to_owned(),
                            keyboard: Some(InlineKeyboardMarkup::new(rows)),
                            protect: false,
                        });
                    }
                    AfterReport::Wipe => {
                        // Every message of the report's dialogue up to this offer, both sides
                        // (message ids of a private chat are consecutive).
                        let from = first.max(msg_id.saturating_sub(MAX_WIPE));
                        out.items.push(Out::Wipe((from..=msg_id).collect()));
                    }
                    AfterReport::Keep => {
                        out.say(t::kept(l));
                        out.items.push(Out::EditKeyboard {
                            msg_id,
                            keyboard: None,
                        });
                    }
                }
                // Nothing is stored: a report in progress since stays as it was.
                Persist::Nothing
            }
            Event::Start { msg_id } | Event::Report { msg_id }
                if !has_draft || d.step.is_none() || !d.consented =>
            {
                track.push(msg_id);
                if has_draft && d.consented {
                    d.step = Some(Step::Category);
                    flow::prompt(d, out);
                    Persist::Save
                } else {
                    out.items.push(Out::Send {
                        text: t::welcome(l, &self.retention),
                        keyboard: Some(welcome_keyboard(l, msg_id)),
                        protect: false,
                    });
                    Persist::Nothing
                }
            }
            Event::Start { msg_id } | Event::Report { msg_id } => {
                track.push(msg_id);
                if matches!(
                    d.step,
                    Some(
                        Step::Submitted
                            | Step::WipeOffer
                            | Step::StatusReceipt
                            | Step::StatusReply
                            | Step::StatusShown
                    )
                ) {
                    if matches!(d.step, Some(Step::Submitted | Step::WipeOffer)) {
                        // Never a fresh report without a word about the one just sent.
                        out.say(t::previous_report_sent(l));
                    }
                    flow::clear_report(d);
                    d.step = Some(Step::Category);
                } else {
                    out.say(t::resume(l));
                }
                flow::prompt(d, out);
                Persist::Save
            }
            Event::Consent { yes: false, .. } if has_draft && d.consented => {
                // An old welcome's "I do not agree" must not throw away a report in progress.
                out.say(t::stale_button(l));
                flow::prompt(d, out);
                Persist::Save
            }
            Event::Consent {
                yes: false, lang, ..
            } => {
                out.say(t::declined(lang));
                if has_draft {
                    // "Nothing was stored": not even the message ids for /wipe.
                    Persist::Delete
                } else {
                    Persist::Nothing
                }
            }
            Event::Consent {
                yes: true,
                lang,
                msg_id,
                asked_by,
            } => {
                if !has_draft {
                    d.lang = lang;
                }
                track.extend(asked_by);
                track.push(msg_id);
                if d.step.is_none() || !d.consented {
                    d.step = Some(Step::Category);
                }
                d.consented = true;
                flow::prompt(d, out);
                Persist::Save
            }
            Event::Cancel { msg_id } => {
                if has_draft && d.step.is_some() {
                    if matches!(
                        d.step,
                        Some(Step::StatusReceipt | Step::StatusReply | Step::StatusShown)
                    ) && d.return_step.is_some()
                    {
                        d.step = d.return_step.take();
                        track.push(msg_id);
                        flow::prompt(d, out);
                        return Ok(Persist::Save);
                    }
                    out.say(t::cancelled(l));
                    let persist = flow::forget_report(d);
                    if persist == Persist::Save {
                        track.push(msg_id);
                    }
                    persist
                } else {
                    out.say(t::nothing_to_cancel(l));
                    Persist::Nothing
                }
            }
            Event::Wipe { msg_id } => {
                if has_draft && !d.messages.is_empty() {
                    let mut ids = std::mem::take(&mut d.messages);
                    ids.push(msg_id);
                    out.items.push(Out::Wipe(ids));
                    Persist::Delete
                } else {
                    out.say(t::nothing_to_wipe(l));
                    Persist::Nothing
                }
            }
            Event::SwitchLang { msg_id } => {
                d.lang = l.other();
                out.say(t::lang_switched(d.lang));
                if has_draft {
                    track.push(msg_id);
                    flow::prompt(d, out);
                    Persist::Save
                } else {
                    out.items.push(Out::Send {
                        text: t::welcome(d.lang, &self.retention),
                        keyboard: Some(welcome_keyboard(d.lang, msg_id)),
                        protect: false,
                    });
                    Persist::Nothing
                }
            }
            Event::Privacy { msg_id }
            | Event::Help { msg_id }
            | Event::UnknownCommand { msg_id } => {
                let text = match event {
                    Event::Privacy { .. } => t::welcome(l, &self.retention)
                        .split("\n\n📄")
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    Event::Help { .. } => t::help(l).to_owned(),
                    _ => t::unknown_command(l).to_owned(),
                };
                out.say(text);
                if has_draft {
                    track.push(msg_id);
                    flow::prompt(d, out);
                    Persist::Save
                } else {
                    Persist::Nothing
                }
            }
            Event::Status {
                msg_id,
                receipt,
                spotted,
            } => {
                let at_prompt = d.step == Some(Step::StatusReceipt);
                if d.step.is_some()
                    && !matches!(
                        d.step,
                        Some(
                            Step::Submitted
                                | Step::WipeOffer
                                | Step::StatusReceipt
                                | Step::StatusReply
                                | Step::StatusShown
                        )
                    )
                {
                    d.return_step = d.step;
                }
                let p = self.secret.pseudonym(telegram_id(user));
                match receipt {
                    Some(text) => {
                        if spotted && !at_prompt {
                            out.say(t::receipt_typed_elsewhere(l));
                        }
                        d.step = Some(Step::StatusReceipt);
                        let retry = !spotted || at_prompt;
                        let persist = self.check_receipt(d, &text, user, retry, out).await?;
                        if !has_draft {
                            // Nothing is stored about someone without a report in progress:
                            // neither that they have shown no receipt (the bot waits for it
                            // in memory) nor that they have (the session is in memory).
                            if d.step == Some(Step::StatusReceipt) {
                                self.expect_receipt(&p);
                            }
                            return Ok(Persist::Nothing);
                        }
                        return Ok(persist);
                    }
                    None => {
                        flow::goto(d, Step::StatusReceipt, out);
                        if !has_draft {
                            self.expect_receipt(&p);
                            return Ok(Persist::Nothing);
                        }
                        track.push(msg_id);
                    }
                }
                Persist::Save
            }
            Event::StaleButton => {
                if has_draft && d.step.is_some() {
                    out.say(t::stale_button(l));
                    flow::prompt(d, out);
                    Persist::Save
                } else {
                    out.say(t::need_consent_first(l));
                    Persist::Nothing
                }
            }
            Event::Notice {
                text,
                msg_id,
                delete,
            } => {
                out.say(text(l));
                if delete {
                    out.items.push(Out::Delete(vec![msg_id]));
                } else {
                    track.push(msg_id);
                }
                if has_draft && d.step.is_some() {
                    flow::prompt(d, out);
                    Persist::Save
                } else {
                    Persist::Nothing
                }
            }
            Event::Input(input) => {
                if !has_draft || d.step.is_none() {
                    out.say(t::need_consent_first(l));
                    return Ok(Persist::Nothing);
                }
                self.on_input(bot, d, user, input, ctx, out, track).await?
            }
            Event::File {
                file,
                msg_id,
                forwarded,
            } => {
                if !has_draft || d.step.is_none() {
                    out.say(t::need_consent_first(l));
                    return Ok(Persist::Nothing);
                }
                track.push(msg_id);
                if d.step.is_some_and(flow::takes_files) {
                    if forwarded {
                        out.say(t::forwarded_file_taken(l));
                    }
                    self.add_attachment(bot, d, file, out).await;
                } else {
                    out.say(t::files_not_now(l));
                    flow::prompt(d, out);
                }
                Persist::Save
            }
        })
    }

    /// A file arrived during a report: check limits, fetch it, see what cleaning will do,
    /// and tell the reporter, with the warning that fits the kind of file.
    async fn add_attachment(
        &self,
        bot: &TgBot,
        d: &mut Draft,
        file: evidence::Incoming,
        out: &mut Outbox,
    ) {
        let l = d.lang;
        let used: u64 = d.attachments.iter().map(|a| a.size).sum();
        let refusal = if d.attachments.len() >= self.limits.max_attachments {
            Some(t::too_many_files(l).replace("{n}", &self.limits.max_attachments.to_string()))
        } else if file.size > evidence::TELEGRAM_DOWNLOAD_LIMIT {
            Some(t::file_too_big(l).to_owned())
        } else if used + file.size > self.limits.max_attachment_bytes {
            Some(t::files_too_large_total(l).replace(
                "{n}",
                &(self.limits.max_attachment_bytes / 1_000_000).to_string(),
            ))
        } else {
            None
        };
        if let Some(text) = refusal {
            out.say(text);
            flow::prompt(d, out);
            return;
        }
        let checked = match evidence::fetch(bot, Some(&self.downloads), &file.file_id).await {
            Ok((bytes, _)) if used + bytes.len() as u64 > self.limits.max_attachment_bytes => {
                Err(evidence::FetchError::TooBig)
            }
            // The admission is held until the file is checked and its bytes dropped.
            Ok((bytes, _admitted)) => evidence::check(&self.cleaning, &file, bytes).await,
            Err(e) => Err(e),
        };
        let a = match checked {
            Ok(a) => a,
            Err(evidence::FetchError::TooBig) => {
                out.say(t::file_too_big(l));
                flow::prompt(d, out);
                return;
            }
            Err(e) => {
                warn!(error = %e, "an evidence file could not be fetched");
                out.say(t::file_fetch_failed(l));
                flow::prompt(d, out);
                return;
            }
        };
        info!(
            format = a.format.as_str(),
            cleanable = a.cleanable,
            "evidence file checked"
        );
        let index = d.attachments.len();
        let note = summary::AttachmentNote::of(index, &a);
        let warning = evidence::warning(&a, l);
        let mut text = format!(
            "{} {}: {}\n\n{warning}",
            t::file_received(l),
            index + 1,
            note.render(l)
        );
        if !a.cleanable {
            text.push_str("\n\n");
            text.push_str(t::file_not_cleanable(l));
        }
        d.attachments.push(a);
        if let Some(caption) = file
            .caption
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let total: usize =
                d.story.iter().map(|s| s.chars().count()).sum::<usize>() + caption.chars().count();
            if total <= self.limits.max_report_chars {
                d.story.push(caption.to_owned());
                text.push_str("\n\n");
                text.push_str(t::caption_added(l));
                if matches!(d.step, Some(Step::Findings | Step::Review | Step::EditMenu)) {
                    d.step = Some(flow::towards_review(d));
                }
            } else {
                text.push_str("\n\n");
                text.push_str(t::too_long(l));
            }
        }
        out.say(text);
        flow::prompt(d, out);
    }

    #[allow(clippy::too_many_arguments)]
    async fn on_input(
        &self,
        bot: &TgBot,
        d: &mut Draft,
        user: &User,
        input: Input,
        ctx: &TurnCtx,
        out: &mut Outbox,
        track: &mut Vec<i32>,
    ) -> Result<Persist, HandlerError> {
        let l = d.lang;
        match input {
            Input::Text { text, msg_id } => {
                match d.step {
                    Some(Step::StatusReceipt) => {
                        return self.check_receipt(d, &text, user, true, out).await;
                    }
                    Some(Step::StatusReply) => {
                        track.push(msg_id);
                        return self.store_reply(d, &text, user, out).await;
                    }
                    _ => {}
                }
                track.push(msg_id);
                if !flow::on_text(d, &text, self.limits.max_report_chars, out) {
                    out.say(match l {
                        Lang::Vi => "Hãy chọn bằng các nút bên dưới.",
                        Lang::En => "Please use the buttons below.",
                    });
                    flow::prompt(d, out);
                }
                Ok(Persist::Save)
            }
            Input::Button { action, msg_id } => match (d.step, action.as_str()) {
                (Some(Step::Review), "send") => self.submit(bot, d, user, ctx, out).await,
                (Some(Step::Submitted), "saved") => {
                    // Untracked only once Telegram confirms the deletion (see `turn`).
                    if let Some(r) = d.receipt_message {
                        out.items.push(Out::DeleteReceipt(r));
                    }
                    flow::goto(d, Step::WipeOffer, out);
                    Ok(Persist::Save)
                }
                (Some(Step::WipeOffer), "wipe:yes") => {
                    let ids = std::mem::take(&mut d.messages);
                    out.items.push(Out::Wipe(ids));
                    Ok(Persist::Delete)
                }
                (Some(Step::WipeOffer), "wipe:no") => {
                    out.say(t::kept(l));
                    d.step = None;
                    Ok(Persist::Save)
                }
                (Some(Step::StatusShown), "reply") => {
                    flow::goto(d, Step::StatusReply, out);
                    Ok(Persist::Save)
                }
                (Some(Step::StatusShown), "close") => {
                    d.step = d.return_step.take();
                    flow::prompt(d, out);
                    Ok(if d.step.is_none() && d.messages.is_empty() {
                        Persist::Delete
                    } else {
                        Persist::Save
                    })
                }
                _ => match flow::on_button(d, &action, msg_id, &self.contacts, out) {
                    Some(p) => Ok(p),
                    None => {
                        out.say(t::stale_button(l));
                        flow::prompt(d, out);
                        Ok(Persist::Save)
                    }
                },
            },
        }
    }

    /// Seals and stores the report. The case, its items, its receipt lookup and the draft's
    /// new state ("submitted, receipt owed") commit in one transaction against the draft's
    /// version, so a crash leaves either nothing or a case whose receipt the next update (or
    /// the start-up sweep) delivers, and a second Send for the same draft submits nothing.
    async fn submit(
        &self,
        bot: &TgBot,
        d: &mut Draft,
        user: &User,
        ctx: &TurnCtx,
        out: &mut Outbox,
    ) -> Result<Persist, HandlerError> {
        let l = d.lang;
        let Some(summary) = CaseSummary::from_draft(d) else {
            flow::prompt(d, out);
            return Ok(Persist::Save);
        };
        let p = self.secret.pseudonym(telegram_id(user));
        if !self.allow(user, "reports", 86_400, self.limits.reports_per_day) {
            out.say(t::daily_limit(l));
            return Ok(Persist::Save);
        }
        let identity = Identity {
            telegram_user_id: telegram_id(user),
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            language_code: user.language_code.clone(),
            contact: d.contact.clone(),
        };
        // Fetch and clean every file again before anything is committed: a failure leaves
        // the draft as it was, and the reporter can press Send again. The whole report's
        // bytes are admitted at once and held until they are sealed.
        let _admitted = if d.attachments.is_empty() {
            None
        } else {
            let total = d.attachments.iter().map(|a| a.size).sum();
            Some(self.downloads.admit(total).await)
        };
        let mut files = Vec::with_capacity(d.attachments.len());
        for (i, a) in d.attachments.iter().enumerate() {
            match evidence::prepare(
                bot,
                &self.cleaning,
                i,
                a,
                self.limits.keep_original_attachments,
            )
            .await
            {
                Ok(p) => files.push(p),
                Err(e) => {
                    warn!(error = %e, "an evidence file could not be prepared; nothing submitted");
                    out.say(t::file_refetch_failed(l).replace("{n}", &(i + 1).to_string()));
                    flow::prompt(d, out);
                    return Ok(Persist::Save);
                }
            }
        }
        let files = Arc::new(files);
        let receipt = Receipt::generate();
        let receipt_text = receipt.expose_text();
        let keys = self.receipts.derive(receipt).await?;
        // Seal to the keyring as it is now; if it changes before the commit, seal again.
        let mut attempt = 0;
        let (code, after, version) = loop {
            attempt += 1;
            let ring = self.trust.sealing_keyring(&self.store).await?;
            let case_id = CaseId::random();
            let sealed_summary =
                Sealed::seal(&summary, ItemKind::Summary, &case_id, &ring.reviewers)?;
            // k custodians open the identity together; none alone once there are two.
            let sealed_identity = Sealed::seal_threshold(
                &identity,
                ItemKind::Identity,
                &case_id,
                &ring.custodians,
                ring.threshold,
            )?;
            let mut items = vec![
                NewItem::from_bot(ItemKind::Summary, sealed_summary.into_bytes()),
                NewItem::from_bot(ItemKind::Identity, sealed_identity.into_bytes()),
            ];
            if !files.is_empty() {
                items.extend(
                    evidence::seal_all(
                        Arc::clone(&files),
                        case_id,
                        ring.reviewers.clone(),
                        ring.custodians.clone(),
                        ring.threshold,
                    )
                    .await?,
                );
            }
            // The draft as it stands once the case is in: the report gone, the receipt owed
            // until Telegram confirms its message.
            let mut after = d.clone();
            flow::clear_report(&mut after);
            after.step = Some(Step::Submitted);
            after.token = after.token.wrapping_add(1);
            after.owed = Some(draft::OwedReceipt {
                case_id: case_id.to_string(),
                chat: ctx.chat.0,
            });
            let sealed_draft = draft::seal(
                &self.secret,
                &p,
                &after,
                ctx.version,
                self.retention.draft_hours,
            )?;
            let result = self
                .store
                .submit_case_with_draft(
                    &NewCase {
                        id: case_id,
                        category: summary.category.clone(),
                        epoch: ring.epoch,
                        items,
                        lookup_id: keys.lookup_id,
                        mailbox_public: keys.mailbox_public,
                    },
                    &sealed_draft.to_save(&p),
                )
                .await;
            match result {
                Err(crate::store::StoreError::Conflict) if attempt < 3 => continue,
                Err(crate::store::StoreError::StaleDraft) => {
                    // Another turn (a second Send, perhaps on another replica) changed the
                    // draft first: it submitted, or the report moved on. Nothing was written.
                    out.say(t::already_sent(l));
                    return Ok(Persist::Nothing);
                }
                Ok((code, version)) => break (code, after, version),
                Err(e) => return Err(e.into()),
            }
        };
        // No case code and no info line here: a log line has a precise time, the database
        // only the day.
        tracing::debug!("report submitted");
        crate::metrics::METRICS.report_submitted();
        *d = after;
        // Confirmation and receipt in one message: one delivery to confirm, not two.
        out.items.push(Out::Receipt {
            text: t::receipt_message(l, code.as_str(), &receipt_text, false),
            keyboard: saved_keyboard(d),
        });
        // The draft row was written with the case, at `version`.
        Ok(Persist::Committed(version))
    }

    /// Checks a receipt and shows the case. When it opens nothing, `retry` keeps the
    /// reporter at the receipt prompt (they asked for /status); otherwise (a receipt spotted
    /// elsewhere, or too many attempts) they go back to where they were.
    async fn check_receipt(
        &self,
        d: &mut Draft,
        text: &str,
        user: &User,
        retry: bool,
        out: &mut Outbox,
    ) -> Result<Persist, HandlerError> {
        let l = d.lang;
        let p = self.secret.pseudonym(telegram_id(user));
        let back = |d: &mut Draft, out: &mut Outbox, retry: bool| {
            if !retry {
                d.step = d.return_step.take();
            }
            flow::prompt(d, out);
            Ok(Persist::Save)
        };
        if !self.allow(user, "receipt", 3600, self.limits.receipt_attempts_per_hour) {
            out.say(t::too_many_attempts(l));
            return back(d, out, false);
        }
        let Ok(receipt) = Receipt::parse(text) else {
            out.say(t::receipt_bad_format(l));
            return back(d, out, retry);
        };
        let keys = self.receipts.derive(receipt).await?;
        let Some(found) = self.store.case_by_receipt(&keys.lookup_id).await? else {
            // A case purged after retention leaves a tombstone: say so rather than "not found".
            if let Some(code) = self.store.tombstone(&keys.lookup_id).await? {
                out.say(format!("{code}: {}", t::case_purged(l)));
                d.step = d.return_step.take();
                flow::prompt(d, out);
                return Ok(Persist::Save);
            }
            out.say(t::receipt_not_found(l));
            return back(d, out, retry);
        };
        let case = found.case;
        let mut lines = vec![format!(
            "{} {}: {}",
            t::status_header(l),
            case.code,
            t::status_label(case.status, l)
        )];
        if let Some(outcome) = case.outcome {
            lines.push(format!(
                "{} {}",
                t::outcome_header(l),
                t::outcome_label(outcome, l)
            ));
        }
        let mut messages = Vec::new();
        // Only replies signed by a reviewer the signed keyring proves are shown: a message
        // planted in the database ("send us your ID number") never reaches the reporter as
        // the Inspectorate's. The mailbox key signed over is the one this receipt derives.
        let replies = self
            .store
            .items_of_kind(&case.id, ItemKind::ToReporter)
            .await?;
        // The keyring and the signatures are read only for a case that has replies.
        let checked = if replies.is_empty() {
            None
        } else {
            Some((
                self.trust.keyring(&self.store).await?,
                self.store.item_signatures(&case.id).await?,
            ))
        };
        let mut refused = 0u32;
        for item in replies {
            let Some((ring, signatures)) = &checked else {
                break;
            };
            if !reply_is_signed(ring, signatures, &item, &keys.mailbox_public) {
                refused += 1;
                continue;
            }
            let sealed: Sealed<TextMessage> = Sealed::from_bytes(item.blob);
            match sealed.open(ItemKind::ToReporter, &case.id, &keys.mailbox_secret) {
                Ok(m) => messages.push(format!("— {}: {}", item.created_day, m.text)),
                Err(_) => {
                    warn!("a reply could not be opened with the mailbox key")
                }
            }
        }
        if refused > 0 {
            warn!(
                count = refused,
                "messages to a reporter failed signature verification and were not shown"
            );
            self.store
                .audit(
                    crate::store::AuditEntry::new("bot", "reply.refused")
                        .case(case.code.as_str())
                        .detail(format!("{refused} unsigned or invalid")),
                )
                .await?;
        }
        if messages.is_empty() {
            lines.push(t::no_messages(l).to_owned());
        } else {
            lines.push(t::messages_header(l).to_owned());
            lines.extend(messages);
        }
        self.open_status_session(&p, case.id);
        // Back to where the person was (a report in progress, or nothing): the status
        // conversation is held in memory only ([`App::status_sessions`]).
        d.step = d.return_step.take();
        d.token = d.token.wrapping_add(1);
        let close = match l {
            Lang::Vi => "Xong",
            Lang::En => "Done",
        };
        let kb = InlineKeyboardMarkup::new(vec![vec![
            InlineKeyboardButton::callback(t::reply_button(l).to_owned(), "status:reply"),
            InlineKeyboardButton::callback(close.to_owned(), "status:close"),
        ]]);
        out.ask(lines.join("\n"), kb);
        // Not at info: a log line's time would date the reporter's use of their receipt.
        tracing::debug!("status checked");
        Ok(Persist::Save)
    }

    async fn store_reply(
        &self,
        d: &mut Draft,
        text: &str,
        user: &User,
        out: &mut Outbox,
    ) -> Result<Persist, HandlerError> {
        let l = d.lang;
        let p = self.secret.pseudonym(telegram_id(user));
        let Some(case_id) = self.status_session(&p) else {
            // The session expired or another replica holds it: ask for the receipt again.
            out.say(t::status_expired(l));
            if !d.consented {
                self.expect_receipt(&p);
                out.say(t::ask_receipt(l));
                return Ok(Persist::Nothing);
            }
            if !matches!(
                d.step,
                Some(Step::StatusReceipt | Step::StatusReply | Step::StatusShown)
            ) {
                d.return_step = d.step;
            }
            flow::goto(d, Step::StatusReceipt, out);
            return Ok(Persist::Save);
        };
        if text.trim().is_empty() || text.chars().count() > self.limits.max_report_chars {
            out.say(t::too_long(l));
            return Ok(Persist::Save);
        }
        let ring = self.trust.sealing_keyring(&self.store).await?;
        let sealed = Sealed::seal(
            &TextMessage {
                text: text.trim().to_owned(),
            },
            ItemKind::FromReporter,
            &case_id,
            &ring.reviewers,
        )?;
        self.store
            .add_item(
                &case_id,
                &NewItem::from_bot(ItemKind::FromReporter, sealed.into_bytes()),
                "reporter",
            )
            .await?;
        out.say(t::reply_stored(l));
        self.close_status_session(&p);
        if matches!(
            d.step,
            Some(Step::StatusReceipt | Step::StatusReply | Step::StatusShown)
        ) {
            // A draft from before status sessions lived in memory.
            d.step = d.return_step.take();
        }
        flow::prompt(d, out);
        // Someone without a report in progress has no draft, and gets none for replying.
        Ok(if d.consented {
            Persist::Save
        } else {
            Persist::Nothing
        })
    }

    /// Sends the outbox. Never gives up half-way: a call that fails after its retries is
    /// counted and logged (by class), and the rest still goes out. Returns what the draft
    /// must remember: the ids sent, the receipt message, the ids deleted.
    async fn send(&self, bot: &TgBot, chat: ChatId, d: &Draft, out: Outbox) -> Sent {
        let mut sent = Sent::default();
        for item in out.items {
            match item {
                Out::Send {
                    text,
                    keyboard,
                    protect,
                } => {
                    let parts = outgoing::split_for_telegram(&text);
                    let last = parts.len().saturating_sub(1);
                    for (i, part) in parts.into_iter().enumerate() {
                        let mut req = bot.send_message(chat, part);
                        if i == last
                            && let Some(kb) = keyboard.clone()
                        {
                            req = req.reply_markup(kb);
                        }
                        if protect {
                            req = req.protect_content(true);
                        }
                        match outgoing::deliver(req).await {
                            Ok(m) => sent.ids.push(m.id.0),
                            Err(e) => {
                                warn!(error = %request_error_kind(&e), "a message could not be sent");
                                sent.failed += 1;
                            }
                        }
                    }
                }
                Out::Receipt { text, keyboard } => {
                    let req = bot
                        .send_message(chat, text.as_str())
                        .reply_markup(keyboard)
                        .protect_content(true);
                    match outgoing::deliver(req).await {
                        Ok(m) => sent.receipt = Some(m.id.0),
                        Err(e) => {
                            // The draft still owes it: the person's next update (or the
                            // start-up sweep) issues a fresh one for the same case.
                            warn!(
                                error = %request_error_kind(&e),
                                "a receipt could not be delivered; a fresh one follows the next update"
                            );
                            sent.failed += 1;
                        }
                    }
                }
                Out::EditKeyboard { msg_id, keyboard } => {
                    let req = bot.edit_message_reply_markup(chat, MessageId(msg_id));
                    let req = match keyboard {
                        Some(kb) => req.reply_markup(kb),
                        None => req,
                    };
                    if let Err(e) = outgoing::deliver(req).await {
                        tracing::debug!(error = %request_error_kind(&e), "could not edit a keyboard");
                        sent.failed += 1;
                    }
                }
                Out::Delete(ids) => {
                    for id in ids {
                        if delete_message(bot, chat, id).await {
                            sent.deleted.push(id);
                        } else {
                            sent.failed += 1;
                        }
                    }
                }
                Out::DeleteReceipt(id) => {
                    if delete_message(bot, chat, id).await {
                        sent.deleted.push(id);
                    } else {
                        sent.failed += 1;
                        if let Ok(m) = outgoing::deliver(
                            bot.send_message(chat, t::receipt_not_deleted(d.lang)),
                        )
                        .await
                        {
                            sent.ids.push(m.id.0);
                        }
                    }
                }
                Out::Wipe(mut ids) => {
                    // deleteMessages skips messages it may not delete (older than 48 hours)
                    // without saying so; deleteMessage refuses them. So the oldest goes alone
                    // first: if Telegram refuses it, the reporter hears that some remain.
                    ids.sort_unstable();
                    ids.dedup();
                    let mut all = true;
                    if let Some((&oldest, _)) = ids.split_first() {
                        all = delete_message(bot, chat, oldest).await;
                    }
                    for chunk in ids.get(1..).unwrap_or_default().chunks(100) {
                        let msg_ids: Vec<MessageId> = chunk.iter().map(|i| MessageId(*i)).collect();
                        if outgoing::deliver(bot.delete_messages(chat, msg_ids))
                            .await
                            .is_err()
                        {
                            // deleteMessages fails as a whole on some errors: one by one then.
                            for id in chunk {
                                if !delete_message(bot, chat, *id).await {
                                    all = false;
                                }
                            }
                        }
                    }
                    // Debug only: reporters wipe right after reporting, so the line would
                    // date a report.
                    tracing::debug!(count = ids.len(), complete = all, "conversation wiped");
                    say(
                        bot,
                        chat,
                        if all {
                            t::wiped(d.lang)
                        } else {
                            t::wipe_partial(d.lang)
                        },
                    )
                    .await;
                }
            }
        }
        sent
    }
}

/// Whether `item` (a reply to the reporter) carries a valid signature of the reviewer that
/// uploaded it, by the verification key the signed keyring gives that reviewer.
fn reply_is_signed(
    ring: &crate::trust::VerifiedKeyring,
    signatures: &HashMap<i64, (i64, Vec<u8>)>,
    item: &crate::store::ItemRow,
    mailbox: &crate::crypto::PublicKey,
) -> bool {
    let (Some((seq, sig)), Some(author)) = (signatures.get(&item.id), item.author) else {
        return false;
    };
    let Ok(sig) = crate::crypto::sign::Signature::from_slice(sig) else {
        return false;
    };
    let message = crate::trust::reply_message(&item.case_id, *seq, mailbox, &item.blob);
    ring.members
        .iter()
        .filter(|m| m.role == crate::crypto::RecipientRole::Reviewer && m.key.key_id() == author)
        .any(|m| {
            m.verify
                .verify(crate::trust::REPLY_CONTEXT, &message, &sig)
                .is_ok()
        })
}

/// What a turn knows beyond the person and the event: where to answer, and the draft
/// version it read (a submission commits the draft against it).
struct TurnCtx {
    chat: ChatId,
    version: Option<i64>,
}

/// The "I have saved the code" button under a receipt. It carries the first message of the
/// report's dialogue, for the wipe offer that follows: the draft is gone by then.
fn saved_keyboard(d: &Draft) -> InlineKeyboardMarkup {
    let first = d
        .messages
        .iter()
        .copied()
        .filter(|m| *m > 0)
        .min()
        .unwrap_or(1);
    InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
        t::saved_receipt(d.lang).to_owned(),
        after_data(AfterReport::Saved, d.lang, first),
    )]])
}

/// What a turn's sending changed that the draft must remember.
#[derive(Default)]
struct Sent {
    ids: Vec<i32>,
    receipt: Option<i32>,
    deleted: Vec<i32>,
    failed: u32,
}

impl Sent {
    fn changes_draft(&self) -> bool {
        !self.ids.is_empty() || self.receipt.is_some() || !self.deleted.is_empty()
    }
}

/// Sends a plain message with retries; a failure is logged by class only.
async fn say(bot: &TgBot, chat: ChatId, text: &str) {
    if let Err(e) = outgoing::deliver(bot.send_message(chat, text)).await {
        warn!(error = %request_error_kind(&e), "a message could not be sent");
    }
}

/// Deletes one message with retries. "Not found" counts as deleted: it is gone either way.
async fn delete_message(bot: &TgBot, chat: ChatId, id: i32) -> bool {
    match outgoing::deliver(bot.delete_message(chat, MessageId(id))).await {
        Ok(_) | Err(RequestError::Api(teloxide::ApiError::MessageToDeleteNotFound)) => true,
        Err(e) => {
            tracing::debug!(error = %request_error_kind(&e), "could not delete a message");
            false
        }
    }
}

/// Deletes a message whose removal nothing else depends on.
async fn delete_quietly(bot: &TgBot, chat: ChatId, id: i32) {
    let _deleted = delete_message(bot, chat, id).await;
}

/// Whether a text typed at any step is, by its shape, a receipt: four groups of four
/// symbols (or sixteen in a row) that decode as one, with a digit or dashes. Ordinary words
/// rarely decode, but four four-letter words can ("send them more gold"); a digit or the
/// dashes of the printed form rule those out. (At the receipt prompt any decodable text is
/// taken; this is for text typed elsewhere.)
fn looks_like_receipt(text: &str) -> bool {
    let t = text.trim();
    if Receipt::parse(t).is_err() {
        return false;
    }
    let groups: Vec<&str> = t
        .split([' ', '-', '\u{a0}'])
        .filter(|g| !g.is_empty())
        .collect();
    let shaped = match groups.len() {
        1 => groups[0].chars().count() == 16,
        4 => groups.iter().all(|g| g.chars().count() == 4),
        _ => false,
    };
    shaped && (t.contains('-') || t.chars().any(|c| c.is_ascii_digit()))
}

/// A Telegram user id as the signed integer the store and pseudonyms use (ids fit in 52 bits).
fn telegram_id(user: &User) -> i64 {
    i64::try_from(user.id.0).unwrap_or(i64::MAX)
}

/// Commands, parsed from the first word of a private text message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Start,
    Report,
    Status,
    Cancel,
    Wipe,
    Lang,
    Privacy,
    Help,
    Unknown,
}

fn parse_command(msg: Message) -> Option<(Command, Message)> {
    let text = msg.text()?;
    let word = text.split_whitespace().next()?.strip_prefix('/')?;
    let name = word.split('@').next().unwrap_or(word).to_ascii_lowercase();
    let cmd = match name.as_str() {
        "start" => Command::Start,
        "report" | "phananh" => Command::Report,
        "status" => Command::Status,
        "cancel" | "huy" => Command::Cancel,
        "wipe" => Command::Wipe,
        "lang" => Command::Lang,
        "privacy" => Command::Privacy,
        "help" => Command::Help,
        _ => Command::Unknown,
    };
    Some((cmd, msg))
}

/// The handler tree.
pub fn schema() -> UpdateHandler<HandlerError> {
    dptree::entry()
        .branch(
            Update::filter_message()
                .filter(|m: Message| !m.chat.is_private())
                .endpoint(leave_group),
        )
        .branch(
            Update::filter_message()
                .filter(|m: Message| m.from.as_ref().is_some_and(|u| u.is_bot))
                .endpoint(ignore_bot),
        )
        .branch(
            Update::filter_message()
                .filter_map(parse_command)
                .endpoint(on_command),
        )
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_edited_message().endpoint(on_edited))
        .branch(Update::filter_channel_post().endpoint(on_channel_post))
        .branch(Update::filter_my_chat_member().endpoint(on_my_chat_member))
        .endpoint(|| async { Ok(()) })
}

async fn leave_group(bot: TgBot, app: Arc<App>, msg: Message) -> Result<(), HandlerError> {
    let lang = Lang::from_telegram(msg.from.as_ref().and_then(|u| u.language_code.as_deref()));
    info!("message in a non-private chat: leaving");
    leave(&bot, &app, msg.chat.id, lang).await
}

async fn on_channel_post(bot: TgBot, app: Arc<App>, msg: Message) -> Result<(), HandlerError> {
    info!("channel post: leaving");
    leave(&bot, &app, msg.chat.id, Lang::Vi).await
}

async fn on_my_chat_member(
    bot: TgBot,
    app: Arc<App>,
    upd: teloxide::types::ChatMemberUpdated,
) -> Result<(), HandlerError> {
    if !upd.chat.is_private() && upd.new_chat_member.is_present() {
        info!("added to a non-private chat: leaving");
        let lang = Lang::from_telegram(upd.from.language_code.as_deref());
        leave(&bot, &app, upd.chat.id, lang).await?;
    }
    Ok(())
}

/// Says once (in both languages) that reports are taken in private chats only, and leaves.
/// In a channel the bot may have no right to post; it leaves all the same.
async fn leave(bot: &TgBot, app: &App, chat: ChatId, lang: Lang) -> Result<(), HandlerError> {
    if app.first_time_told(chat) {
        say(bot, chat, t::private_only(lang)).await;
    }
    outgoing::deliver(bot.leave_chat(chat)).await?;
    Ok(())
}

async fn ignore_bot() -> Result<(), HandlerError> {
    // Answering another bot risks a loop; nothing from a bot is stored.
    tracing::debug!("ignored a message from a bot");
    Ok(())
}

async fn on_command(
    bot: TgBot,
    app: Arc<App>,
    (cmd, msg): (Command, Message),
) -> Result<(), HandlerError> {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let msg_id = msg.id.0;
    let event = match cmd {
        Command::Start => Event::Start { msg_id },
        Command::Report => Event::Report { msg_id },
        Command::Status => Event::Status {
            msg_id,
            spotted: false,
            // "/status 7Q4M-…": the rest of the message is the receipt.
            receipt: msg
                .text()
                .and_then(|t| t.split_once(char::is_whitespace))
                .map(|(_, rest)| rest.trim().to_owned())
                .filter(|r| !r.is_empty()),
        },
        Command::Cancel => Event::Cancel { msg_id },
        Command::Wipe => Event::Wipe { msg_id },
        Command::Lang => Event::SwitchLang { msg_id },
        Command::Privacy => Event::Privacy { msg_id },
        Command::Help => Event::Help { msg_id },
        Command::Unknown => Event::UnknownCommand { msg_id },
    };
    app.turn(&bot, msg.chat.id, &user, event).await
}

async fn on_message(bot: TgBot, app: Arc<App>, msg: Message) -> Result<(), HandlerError> {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let msg_id = msg.id.0;
    let event = if msg.forward_origin().is_some() {
        // Never read or store the forward origin (or a forwarded caption): they are someone
        // else's. A forwarded file can still be evidence, so it is taken without them.
        match incoming_file(&msg) {
            Some(mut file) => {
                file.caption = None;
                Event::File {
                    file,
                    msg_id,
                    forwarded: true,
                }
            }
            None => Event::Notice {
                text: t::forwarded_refused,
                msg_id,
                delete: false,
            },
        }
    } else if msg.contact().is_some() {
        Event::Notice {
            text: t::contact_refused,
            msg_id,
            delete: true,
        }
    } else if msg.location().is_some() || msg.venue().is_some() {
        Event::Notice {
            text: t::location_refused,
            msg_id,
            delete: true,
        }
    } else if let Some(text) = msg.text() {
        Event::Input(Input::Text {
            text: text.to_owned(),
            msg_id,
        })
    } else if let Some(file) = incoming_file(&msg) {
        Event::File {
            file,
            msg_id,
            forwarded: false,
        }
    } else {
        Event::Notice {
            text: t::unsupported_media,
            msg_id,
            delete: false,
        }
    };
    app.turn(&bot, msg.chat.id, &user, event).await
}

/// The file of a message that carries one: the largest size of a photo; never the file name.
fn incoming_file(msg: &Message) -> Option<evidence::Incoming> {
    use draft::MediaKind as K;
    let (meta, media) = if let Some(sizes) = msg.photo() {
        (
            &sizes
                .iter()
                .max_by_key(|p| u64::from(p.width) * u64::from(p.height))?
                .file,
            K::Photo,
        )
    } else if let Some(doc) = msg.document() {
        (&doc.file, K::Document)
    } else if let Some(v) = msg.voice() {
        (&v.file, K::Voice)
    } else if let Some(a) = msg.audio() {
        (&a.file, K::Audio)
    } else if let Some(v) = msg.video() {
        (&v.file, K::Video)
    } else if let Some(v) = msg.video_note() {
        (&v.file, K::VideoNote)
    } else {
        return None;
    };
    Some(evidence::Incoming {
        file_id: meta.id.0.clone(),
        size: u64::from(meta.size),
        media,
        caption: msg.caption().map(str::to_owned),
    })
}

async fn on_edited(bot: TgBot, app: Arc<App>, msg: Message) -> Result<(), HandlerError> {
    if !msg.chat.is_private() {
        return Ok(());
    }
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    app.turn(
        &bot,
        msg.chat.id,
        &user,
        Event::Notice {
            text: t::edited_ignored,
            msg_id: msg.id.0,
            delete: false,
        },
    )
    .await
}

async fn on_callback(bot: TgBot, app: Arc<App>, q: CallbackQuery) -> Result<(), HandlerError> {
    let Some(message) = q.message.as_ref() else {
        answer_callback(&bot, &q).await;
        return Ok(());
    };
    let chat = message.chat().id;
    if !message.chat().is_private() {
        answer_callback(&bot, &q).await;
        return Ok(());
    }
    let msg_id = message.id().0;
    let data = q.data.as_deref().unwrap_or("");
    let event = if let Some(rest) = data.strip_prefix("status:") {
        match rest {
            "reply" => Event::StatusButton {
                reply: true,
                msg_id,
            },
            "close" | "cancel" => Event::StatusButton {
                reply: false,
                msg_id,
            },
            _ => Event::StaleButton,
        }
    } else if let Some(rest) = data.strip_prefix("after:") {
        match parse_after(rest) {
            Some((what, lang, first)) => Event::After {
                what,
                lang,
                first,
                msg_id,
            },
            None => Event::StaleButton,
        }
    } else if let Some(rest) = data.strip_prefix("consent:") {
        let mut parts = rest.split(':');
        let yes = parts.next() == Some("yes");
        let lang = if parts.next() == Some("en") {
            Lang::En
        } else {
            Lang::Vi
        };
        // Only an id just before the welcome can be the command that asked for it.
        let asked_by = parts
            .next()
            .and_then(|p| p.parse::<i32>().ok())
            .filter(|id| *id < msg_id && *id > msg_id - 5);
        Event::Consent {
            yes,
            lang,
            msg_id,
            asked_by,
        }
    } else {
        match data.split_once('|') {
            Some((token, action)) => {
                let current = current_token(&app, &q.from).await;
                if current.is_some_and(|c| c.to_string() == token) {
                    Event::Input(Input::Button {
                        action: action.to_owned(),
                        msg_id,
                    })
                } else {
                    Event::StaleButton
                }
            }
            None => Event::StaleButton,
        }
    };
    // The spinner stops once the answer is in the chat, whatever the turn's outcome.
    let result = app.turn(&bot, chat, &q.from, event).await;
    answer_callback(&bot, &q).await;
    result
}

/// The token of the person's current prompt (a second draft read; cheap and keeps `turn` simple).
async fn current_token(app: &App, user: &User) -> Option<u32> {
    let id = telegram_id(user);
    match draft::load(&app.store, &app.secret, id).await {
        Ok(l) if l.exists => Some(l.draft.token),
        _ => None,
    }
}

/// Registers the command menus in Vietnamese (default) and English.
pub async fn set_commands(bot: &TgBot) -> Result<(), HandlerError> {
    for (lang, code) in [
        (Lang::Vi, None),
        (Lang::Vi, Some("vi")),
        (Lang::En, Some("en")),
    ] {
        let cmds: Vec<BotCommand> = t::commands(lang)
            .iter()
            .map(|(c, d)| BotCommand::new(*c, *d))
            .collect();
        let mut req = bot.set_my_commands(cmds);
        if let Some(code) = code {
            req = req.language_code(code);
        }
        outgoing::deliver(req).await?;
    }
    Ok(())
}

/// A content-free error handler for the dispatcher and the update listener.
pub struct SafeErrorHandler;

impl<E: std::fmt::Display + Send + Sync + 'static> teloxide::error_handlers::ErrorHandler<E>
    for SafeErrorHandler
{
    fn handle_error(self: Arc<Self>, error: E) -> futures_util::future::BoxFuture<'static, ()> {
        // `E` is HandlerError (content-free Display) for handlers; for the listener it is
        // teloxide's RequestError, whose Display may quote a raw update, so only its kind is kept.
        let text = error.to_string();
        let kind = text
            .split(':')
            .next()
            .unwrap_or("error")
            .chars()
            .take(60)
            .collect::<String>();
        Box::pin(async move {
            warn!(error = %kind, "update handling failed");
        })
    }
}

/// Handles one update through the handler tree `handler` (built once by [`schema`]), counting
/// it and its duration in [`crate::metrics`]. Both modes end here: long polling through the
/// dispatcher, webhooks through [`crate::webhook`] after its per-update guard.
pub async fn handle_update(
    handler: &UpdateHandler<HandlerError>,
    bot: TgBot,
    app: Arc<App>,
    update: Update,
) {
    let started = Instant::now();
    crate::metrics::METRICS.update(crate::metrics::update_kind(&update));
    if let std::ops::ControlFlow::Break(Err(e)) =
        handler.dispatch(dptree::deps![bot, app, update]).await
    {
        warn!(error = %e, "update handling failed");
    }
    crate::metrics::METRICS.observe(started.elapsed());
}

/// Builds the dispatcher (long polling): one endpoint that hands each update to
/// [`handle_update`]; the dispatcher still queues updates per chat.
pub fn dispatcher(bot: TgBot, app: Arc<App>) -> Dispatcher<TgBot, HandlerError, DefaultKey> {
    let tree = Arc::new(schema());
    let entry = dptree::entry().endpoint(
        |bot: TgBot,
         app: Arc<App>,
         update: Update,
         tree: Arc<UpdateHandler<HandlerError>>| async move {
            handle_update(&tree, bot, app, update).await;
            Ok::<(), HandlerError>(())
        },
    );
    Dispatcher::builder(bot, entry)
        .dependencies(dptree::deps![app, tree])
        .default_handler(|_| async {})
        .error_handler(Arc::new(SafeErrorHandler))
        .build()
}

/// Runs the bot with long polling until `stop` resolves, then drains in-flight updates.
pub async fn run_polling(
    bot: TgBot,
    app: Arc<App>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HandlerError> {
    // The command menu is a convenience: a failure is logged, and the bot serves anyway.
    if let Err(e) = set_commands(&bot).await {
        warn!(error = %e, "could not register the command menus");
    }
    // Receipts a crash left owed, before the first update is served (one process in this
    // mode: nothing else can be serving these people).
    let owed = app.deliver_owed_receipts(&bot).await;
    if owed > 0 {
        info!(
            count = owed,
            "receipts owed from before a restart delivered"
        );
    }
    let mut dispatcher = dispatcher(bot.clone(), app);
    let token = dispatcher.shutdown_token();
    tokio::spawn(async move {
        stop.await;
        info!("shutting down: draining in-flight updates");
        // teloxide's shutdown() future can hang: it is awaited only in this detached task,
        // while the caller awaits the dispatcher itself.
        if let Ok(f) = token.shutdown() {
            f.await;
        }
    });
    let listener = teloxide::update_listeners::polling_default(bot).await;
    dispatcher
        .dispatch_with_listener(listener, Arc::new(SafeErrorHandler))
        .await;
    info!("bot stopped");
    Ok(())
}

/// Stops a button's spinner; a failure only leaves the spinner for Telegram to time out.
async fn answer_callback(bot: &TgBot, q: &CallbackQuery) {
    if let Err(e) = outgoing::deliver(bot.answer_callback_query(q.id.clone())).await {
        tracing::debug!(error = %request_error_kind(&e), "could not answer a callback");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_spotted_by_shape_and_words_are_not() {
        let r = Receipt::generate().expose_text();
        assert!(looks_like_receipt(&r));
        assert!(looks_like_receipt(&format!("  {}  ", r.to_lowercase())));
        assert!(looks_like_receipt("7Q4M 2XPA 9KDE W3HZ"));
        assert!(looks_like_receipt("7Q4M2XPA9KDEW3HZ"));
        // Four four-letter words can decode as a receipt: no digit, no dashes, not spotted.
        assert!(Receipt::parse("send them more gold").is_ok());
        assert!(!looks_like_receipt("send them more gold"));
        assert!(!looks_like_receipt("toan dang nhan tien"));
        for text in [
            "Cán bộ đòi 2 triệu đồng",
            "7Q4M-2XPA-9KDE",
            "hẹn ngày 12/3/2025 lúc 9 giờ",
            "0905 123 456 78",
            "",
        ] {
            assert!(!looks_like_receipt(text), "{text}");
        }
    }
}
