//! One turn for one person: load the sealed draft, run the dialogue ([`machine::decide`]), do
//! what it asks through the services, save, and only then speak. A crash between saving and
//! speaking repeats a prompt; it never loses an answer.

use std::time::Instant;

use teloxide::types::{ChatId, User};
use tracing::warn;

use super::draft::{self, Draft, DraftError, Step};
use super::handlers::{looks_like_receipt, telegram_id};
use super::send::{Sent, delete_quietly};
use super::texts::{self as t, Lang};
use super::{App, HandlerError, TgBot, evidence};
use crate::crypto::{Pseudonym, Receipt};
use crate::dialogue::event::{Event, Input};
use crate::dialogue::files;
use crate::dialogue::machine::{self, Ctx, Decision, Effect, Turn};
use crate::dialogue::outbox::{Outbox, Persist};

/// The person's draft as a turn found it.
struct Found {
    p: Pseudonym,
    d: Draft,
    version: Option<i64>,
    has_draft: bool,
    old: Option<Pseudonym>,
}

impl App {
    /// One turn for one person: load, decide, save, speak.
    pub(super) async fn turn(
        &self,
        bot: &TgBot,
        chat: ChatId,
        user: &User,
        event: Event,
    ) -> Result<(), HandlerError> {
        let started = Instant::now();
        let p = self.secret.pseudonym(telegram_id(user));
        // Vietnamese first, whatever Telegram's interface language (docs/DIALOGUE.md).
        let fallback = Lang::Vi;
        let event = self.receipt_first(bot, chat, &p, event).await;
        if let Some(warn_now) = self.flood_check(&p) {
            if warn_now {
                self.say(bot, chat, t::flood(fallback)).await;
            }
            return Ok(());
        }
        let Some(mut f) = self.load(bot, chat, user, &event, fallback).await? else {
            return Ok(());
        };
        if f.d.owed.is_some() && self.settle_first(bot, chat, &mut f).await {
            return Ok(());
        }
        if let Event::Input(Input::Text { msg_id, .. }) = &event
            && f.d.step == Some(Step::StatusReceipt)
        {
            delete_quietly(bot, chat, *msg_id).await;
        }
        let mut out = Outbox::new(&self.limits);
        let mut turn = Turn::default();
        let decided = self
            .run(bot, chat, user, &mut f, event, &mut out, &mut turn)
            .await;
        self.apply(&f.p, &turn.memos);
        let persist = match decided {
            Ok(p) => p,
            Err(e) => {
                let transient = matches!(&e, HandlerError::Store(s) if s.is_transient());
                warn!(error = %e, transient, "a turn failed; nothing was saved");
                let text = if transient {
                    t::db_down(f.d.lang)
                } else {
                    t::error_generic(f.d.lang)
                };
                self.say(bot, chat, text).await;
                return Ok(());
            }
        };
        let sent = self
            .keep_and_send(bot, chat, &mut f, persist, turn.track, out)
            .await;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            failed_calls = sent.map_or(0, |s| s.failed),
            "turn done"
        );
        Ok(())
    }

    /// A receipt must not stay in the chat whatever happens next (a flood limit, a database
    /// outage): the message holding one goes first, and it is read as a status check.
    /// Whatever comes next answers a /status question, if one was asked (memory only).
    async fn receipt_first(&self, bot: &TgBot, chat: ChatId, p: &Pseudonym, event: Event) -> Event {
        let awaited = self.take_receipt_expected(p);
        let event = match event {
            Event::Input(Input::Text { text, msg_id }) if awaited || looks_like_receipt(&text) => {
                delete_quietly(bot, chat, msg_id).await;
                return Event::Status {
                    msg_id,
                    receipt: Some(text),
                    spotted: !awaited,
                };
            }
            other => other,
        };
        if let Event::Status {
            msg_id,
            receipt: Some(_),
            spotted: false,
        } = &event
        {
            delete_quietly(bot, chat, *msg_id).await;
        }
        event
    }

    /// The person's draft, or a fresh one; `None` when the store is down (the person is told).
    async fn load(
        &self,
        bot: &TgBot,
        chat: ChatId,
        user: &User,
        event: &Event,
        fallback: Lang,
    ) -> Result<Option<Found>, HandlerError> {
        let tg_id = telegram_id(user);
        let current = self.secret.pseudonym(tg_id);
        if let Some((d, version)) = self.drafts.get(&current, crate::clock::unix_now()) {
            return Ok(Some(Found {
                p: current,
                d,
                version: Some(version),
                has_draft: true,
                old: None,
            }));
        }
        let loaded = match draft::load(&self.store, &self.secret, tg_id).await {
            Ok(l) => l,
            Err(DraftError::Unreadable) => {
                warn!("unreadable draft replaced");
                let p = self.secret.pseudonym(tg_id);
                self.delete_draft(&p).await?;
                draft::Loaded::empty(p)
            }
            Err(DraftError::Store(e)) => {
                warn!(error = %e, "store unavailable while loading a draft");
                // The step is unknown: a receipt typed at the receipt prompt, in any form the
                // prompt accepts, must still leave the chat. Anything else stays where the
                // reporter can copy it and send it again.
                if let Event::Input(Input::Text { text, msg_id }) = event
                    && Receipt::parse(text).is_ok()
                {
                    delete_quietly(bot, chat, *msg_id).await;
                }
                self.say(bot, chat, t::db_down(fallback)).await;
                return Ok(None);
            }
        };
        let mut found = Found {
            p: loaded.pseudonym,
            d: loaded.draft,
            version: loaded.version,
            has_draft: loaded.exists,
            old: loaded.old_pseudonym,
        };
        if !found.has_draft {
            found.d.lang = fallback;
        }
        Ok(Some(found))
    }

    /// A submission committed without its receipt confirmed (a crash, or Telegram failed):
    /// that comes before anything else the person asked. True when the turn is answered.
    async fn settle_first(&self, bot: &TgBot, chat: ChatId, f: &mut Found) -> bool {
        match self.settle_owed(bot, chat, &f.p, &mut f.d, f.version).await {
            Ok((v, answered)) => {
                if v != f.version
                    && let Some(old) = &f.old
                {
                    self.delete_old_draft(old).await;
                }
                if v.is_none() {
                    // The receipt is delivered and the submitted report's draft is gone.
                    f.has_draft = false;
                    f.d = Draft {
                        lang: f.d.lang,
                        ..Draft::default()
                    };
                }
                f.version = v;
                answered
            }
            Err(e) => {
                let transient = matches!(&e, HandlerError::Store(s) if s.is_transient());
                warn!(error = %e, transient, "an owed receipt could not be issued yet");
                self.say(bot, chat, t::db_down(f.d.lang)).await;
                true
            }
        }
    }

    /// The dialogue's turn, with its effect done.
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        bot: &TgBot,
        chat: ChatId,
        user: &User,
        f: &mut Found,
        event: Event,
        out: &mut Outbox,
        turn: &mut Turn,
    ) -> Result<Persist, HandlerError> {
        let ctx = Ctx {
            has_draft: f.has_draft,
            session: self.session(&f.p),
            limits: &self.limits,
            retention: &self.retention,
            contacts: &self.contacts,
            download_limit: evidence::TELEGRAM_DOWNLOAD_LIMIT,
        };
        let d = &mut f.d;
        let effect = match machine::decide(d, &ctx, event, out, turn) {
            Decision::Done(persist) => return Ok(persist),
            Decision::Effect(effect) => effect,
        };
        Ok(match effect {
            Effect::Submit => {
                let result = self.submit(bot, d, user, chat, f.version).await?;
                machine::submitted(d, result, out)
            }
            Effect::CheckReceipt { text, retry } => {
                let check = self.check_receipt(&text, user).await?;
                machine::receipt_checked(d, &ctx, check, retry, out, turn)
            }
            Effect::StoreReply { text } => {
                if self.store_reply(&text, user).await? {
                    machine::reply_stored(d, out, turn)
                } else {
                    machine::reply_expired(d, out, turn)
                }
            }
            Effect::CheckFile(file) => {
                let check = self.check_file(bot, d, &file).await;
                files::file_checked(d, &ctx, file.caption.as_deref(), check, out)
            }
        })
    }

    /// Saves (or deletes) the draft as the turn decided, then sends the outbox and records
    /// what sending changed. `None` when the draft could not be saved (the person is told and
    /// nothing else is said).
    async fn keep_and_send(
        &self,
        bot: &TgBot,
        chat: ChatId,
        f: &mut Found,
        persist: Persist,
        track: Vec<i32>,
        out: Outbox,
    ) -> Option<Sent> {
        if persist != Persist::Delete && persist != Persist::Nothing {
            f.d.track(track);
        }
        match persist {
            Persist::Save => match self.save_draft(&f.p, &f.d, f.version).await {
                Ok(v) => f.version = Some(v),
                Err(e) => {
                    warn!(error = %e, "could not save a draft");
                    self.say(bot, chat, t::db_down(f.d.lang)).await;
                    return None;
                }
            },
            // The submission wrote the draft with the case, in one transaction.
            Persist::Committed(v) => f.version = Some(v),
            Persist::Delete => {
                if let Err(e) = self.delete_draft(&f.p).await {
                    warn!(error = %e, "could not delete a draft");
                }
            }
            Persist::Nothing => {}
        }
        if matches!(persist, Persist::Save | Persist::Committed(_))
            && let Some(old) = &f.old
        {
            // The draft moved to the current server secret version.
            self.delete_old_draft(old).await;
        }
        let sent = self.send(bot, chat, &f.d, out).await;
        let saved = matches!(persist, Persist::Save | Persist::Committed(_));
        if saved && sent.changes_draft() {
            self.record_sent(&f.p, &mut f.d, f.version, &sent).await;
        }
        Some(sent)
    }

    /// Records in the draft what a turn's sending changed: message ids for /wipe, the receipt
    /// message (whose delivery settles an owed receipt), deletions. Returns the new version.
    pub(super) async fn record_sent(
        &self,
        p: &Pseudonym,
        d: &mut Draft,
        version: Option<i64>,
        sent: &Sent,
    ) -> Option<i64> {
        if sent.receipt.is_some() && d.step == Some(Step::Submitted) {
            // Delivered: nothing is owed any more, and nothing about the report stays under
            // the reporter's pseudonym. The receipt's buttons carry what the wipe needs.
            return match self.delete_draft(p).await {
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
        // /wipe deletes from the conversation's first message on, so what the bot said changes
        // the draft only in its first turn: most turns write the draft once.
        let before = (d.messages.clone(), d.receipt_message);
        d.track(sent.ids.iter().copied());
        if let Some(r) = sent.receipt {
            // Delivered: nothing is owed any more.
            d.owed = None;
            d.receipt_message = Some(r);
            d.track([r]);
        }
        if sent.deleted.iter().any(|id| d.receipt_message == Some(*id)) {
            d.receipt_message = None;
        }
        if sent.receipt.is_none() && (d.messages.clone(), d.receipt_message) == before {
            return version;
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

    pub(super) async fn delete_old_draft(&self, old: &Pseudonym) {
        if let Err(e) = self.store.delete_draft(old).await {
            warn!(error = %e, "could not delete a draft of an older secret version");
        }
    }
}
