//! What the handlers share ([`App`]), and what is held in memory for a person between turns
//! (never stored): the /status conversation, a question for a receipt, limits, receipts
//! delivered but not yet recorded.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use teloxide::types::{ChatId, User};

use super::draft::{self, Draft, DraftError};
use super::handlers::telegram_id;
use super::{evidence, limits};
use crate::clock::unix_now;
use crate::config::{Contacts, Limits, Retention};
use crate::crypto::receipt::ReceiptDeriver;
use crate::crypto::{Pseudonym, ServerSecret};
use crate::dialogue::machine::{Memo, Session};
use crate::ids::CaseId;
use crate::store::Store;

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
    /// Updates per person per minute ([`limits::Flood`]).
    flood: limits::Flood,
    /// Reports a day and receipt attempts an hour, per person, in memory only ([`limits`]).
    limiter: limits::Limiter,
    /// Which case a person opened with /status, for the reply that may follow. Kept in memory
    /// only (ten minutes), never in the draft: a stored link from a pseudonym to a case is
    /// exactly what a seized server must not find.
    /// The whole /status conversation lives here (shown, replying), never in the draft: a
    /// draft in a status step told a seizure that its owner holds a receipt.
    status_sessions: Mutex<HashMap<[u8; 32], (CaseId, i64, bool)>>,
    /// Bounds evidence cleaning across all chats (CPU and memory).
    pub(super) cleaning: tokio::sync::Semaphore,
    /// Bounds the evidence bytes held in memory across all chats ([`evidence::Budget`]).
    pub(super) downloads: evidence::Budget,
    /// Receipt messages Telegram confirmed whose draft could not record it (the database
    /// failed just then): the next turn records the delivery instead of issuing a fresh
    /// receipt. Memory only; after a crash the fresh receipt is issued anyway.
    delivered_receipts: Mutex<HashMap<[u8; 32], (i32, i64)>>,
    /// People without a draft who typed /status and whose next text is their receipt. Memory
    /// only: nothing is stored about someone who has not agreed to the notice.
    expecting_receipt: Mutex<HashMap<[u8; 32], i64>>,
    /// Paces the calls Telegram flood-limits ([`super::pace`]).
    pub(super) pace: super::pace::Pace,
    /// Drafts as this process last wrote them ([`super::cache`]); off unless this process is
    /// the bot's only instance.
    pub(super) drafts: super::cache::DraftCache,
    /// Group and channel chats already told that the bot works in private only, so a chat the
    /// bot cannot leave is not told on every message.
    told_chats: Mutex<HashSet<i64>>,
    /// Long polling: each chat's updates in order, chats independently ([`super::queue`]).
    pub queues: super::queue::ChatQueues,
}

/// Locks a mutex, taking the data of a poisoned one (every map here stays consistent between
/// statements, so a panic elsewhere cannot leave one half-updated).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a /status session allows a reply, in seconds.
const STATUS_SESSION_SECS: i64 = 600;

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
            flood: limits::Flood::default(),
            limiter: limits::Limiter::default(),
            status_sessions: Mutex::new(HashMap::new()),
            cleaning: tokio::sync::Semaphore::new(evidence::CLEANING_AT_ONCE),
            downloads: evidence::Budget::new(download_mib),
            delivered_receipts: Mutex::new(HashMap::new()),
            expecting_receipt: Mutex::new(HashMap::new()),
            told_chats: Mutex::new(HashSet::new()),
            pace: super::pace::Pace::new(super::pace::PaceLimits::TELEGRAM),
            drafts: super::cache::DraftCache::new(false),
            queues: super::queue::ChatQueues::default(),
        }
    }

    /// The same, keeping drafts in memory between steps ([`super::cache`]): only for the
    /// bot's only instance (long polling), never for replicas sharing a database.
    pub fn with_draft_cache(mut self) -> Self {
        self.drafts = super::cache::DraftCache::new(true);
        self
    }

    /// The same, sending at most as fast as `limits` allow (Telegram's by default).
    pub fn with_pace(mut self, limits: super::pace::PaceLimits) -> Self {
        self.pace = super::pace::Pace::new(limits);
        self
    }

    /// Saves a draft against the version it was read at, with the configured lifetime.
    pub(super) async fn save_draft(
        &self,
        p: &Pseudonym,
        d: &Draft,
        version: Option<i64>,
    ) -> Result<i64, DraftError> {
        let hours = self.retention.draft_hours;
        let saved = draft::save(&self.store, &self.secret, p, d, version, hours).await;
        match &saved {
            Ok(v) => self.keep_draft(p, d, *v),
            Err(_) => self.drafts.forget(p),
        }
        saved
    }

    /// Remembers `d` as stored for `p` at `version` ([`super::cache`]).
    pub(super) fn keep_draft(&self, p: &Pseudonym, d: &Draft, version: i64) {
        let now = unix_now();
        let expires = draft::expiry(now, self.retention.draft_hours);
        self.drafts.put(p, d, version, expires, now);
    }

    /// Deletes `p`'s draft, in the store and in memory.
    pub(super) async fn delete_draft(&self, p: &Pseudonym) -> Result<(), crate::store::StoreError> {
        self.drafts.forget(p);
        self.store.delete_draft(p).await
    }

    /// Counts one event of the person in a limit bucket; false when over the limit. Memory
    /// only ([`limits`]): nothing is written that says who did it.
    pub(super) fn allow(
        &self,
        user: &User,
        bucket: &'static str,
        window_secs: i64,
        max: i64,
    ) -> bool {
        self.limiter
            .hit(bucket, telegram_id(user), window_secs, max, unix_now())
    }

    pub(super) fn open_status_session(&self, p: &Pseudonym, case: CaseId) {
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

    pub(super) fn status_session(&self, p: &Pseudonym) -> Option<CaseId> {
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

    pub(super) fn close_status_session(&self, p: &Pseudonym) {
        self.status_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&p.0);
    }

    /// Remembers a receipt message Telegram confirmed but the draft could not record.
    pub(super) fn remember_delivered(&self, p: &Pseudonym, msg_id: i32) {
        let now = unix_now();
        let mut map = lock(&self.delivered_receipts);
        map.retain(|_, (_, exp)| *exp > now);
        map.insert(p.0, (msg_id, now + STATUS_SESSION_SECS));
    }

    /// The receipt message remembered by [`App::remember_delivered`], if any (and forgets it).
    pub(super) fn take_delivered(&self, p: &Pseudonym) -> Option<i32> {
        lock(&self.delivered_receipts)
            .remove(&p.0)
            .filter(|(_, exp)| *exp > unix_now())
            .map(|(id, _)| id)
    }

    /// Remembers (in memory) that this person's next text is a receipt.
    pub(super) fn expect_receipt(&self, p: &Pseudonym) {
        let now = unix_now();
        let mut map = lock(&self.expecting_receipt);
        map.retain(|_, exp| *exp > now);
        if map.len() < 100_000 {
            map.insert(p.0, now + STATUS_SESSION_SECS);
        }
    }

    /// Whether this person's text is the receipt asked for (and forgets the question).
    pub(super) fn take_receipt_expected(&self, p: &Pseudonym) -> bool {
        lock(&self.expecting_receipt)
            .remove(&p.0)
            .is_some_and(|exp| exp > unix_now())
    }

    /// Whether a non-private chat is to be told (once) that the bot works in private only.
    pub(super) fn first_time_told(&self, chat: ChatId) -> bool {
        let mut told = lock(&self.told_chats);
        if told.len() > 10_000 {
            told.clear();
        }
        told.insert(chat.0)
    }

    /// Counts an update; `Some(true)` = over the limit and warn now, `Some(false)` = over and
    /// already warned, `None` = fine.
    pub(super) fn flood_check(&self, p: &Pseudonym) -> Option<bool> {
        let mut key = [0u8; 8];
        key.copy_from_slice(&p.0[..8]);
        self.flood
            .check(key, unix_now(), self.limits.updates_per_minute)
    }
}

impl App {
    /// What is held in memory for the person's /status conversation, as the dialogue sees it.
    pub(super) fn session(&self, p: &Pseudonym) -> Session {
        Session {
            status_open: self.status_session(p).is_some(),
            replying: self.replying(p),
        }
    }

    /// Applies what a turn changed in memory.
    pub(super) fn apply(&self, p: &Pseudonym, memos: &[Memo]) {
        for memo in memos {
            match memo {
                Memo::CloseStatus => self.close_status_session(p),
                Memo::StartReply => {
                    // The session may have expired since the turn began: the next text is
                    // then taken as a report answer and the reporter asked again.
                    let _started = self.start_status_reply(p);
                }
                Memo::ExpectReceipt => self.expect_receipt(p),
            }
        }
    }
}
