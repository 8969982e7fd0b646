//! An outbox ([`Outbox`]) into Bot API calls, in order, each with its retries
//! ([`outgoing::deliver`]); the dialogue's keyboards drawn as Telegram's inline keyboards.

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, MessageId,
};
use tracing::warn;

use super::draft::Draft;
use super::pace::Pace;
use super::texts as t;
use super::{App, TgBot, outgoing, request_error_kind};
use crate::dialogue::keyboard::Keyboard;
use crate::dialogue::outbox::{Out, Outbox};

/// A dialogue keyboard as Telegram's inline keyboard (callback buttons).
pub fn markup(k: &Keyboard) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(k.rows.iter().map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone()))
            .collect::<Vec<_>>()
    }))
}

impl App {
    /// Sends the outbox. Never gives up half-way: a call that fails after its retries is
    /// counted and logged (by class), and the rest still goes out. Returns what the draft
    /// must remember: the ids sent, the receipt message, the ids deleted.
    pub(super) async fn send(&self, bot: &TgBot, chat: ChatId, d: &Draft, out: Outbox) -> Sent {
        let mut sent = Sent::default();
        for item in out.items {
            match item {
                Out::Send {
                    text,
                    keyboard,
                    protect,
                } => {
                    let kb = keyboard.as_ref();
                    send_text(&self.pace, bot, chat, &text, kb, protect, &mut sent).await
                }
                Out::Receipt {
                    text,
                    code_span,
                    keyboard,
                } => {
                    // Not protected: the reporter must be able to copy the code (a tap on the
                    // code entity copies it), and Android blocks screenshots of protected
                    // messages; the message is deleted on the reporter's word instead
                    // (docs/DIALOGUE.md, "Receipt").
                    let mut req = bot
                        .send_message(chat, text.as_str())
                        .reply_markup(markup(&keyboard));
                    if let Some((offset, length)) = code_span {
                        req = req.entities(vec![MessageEntity::code(offset, length)]);
                    }
                    match self.pace.deliver(chat, req).await {
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
                Out::EditText {
                    msg_id,
                    text,
                    keyboard,
                } => {
                    if outgoing::split_for_telegram(&text).len() > 1 {
                        // Too long to stand in one message: sent anew, the buttons under its
                        // last part.
                        send_text(
                            &self.pace,
                            bot,
                            chat,
                            &text,
                            Some(&keyboard),
                            false,
                            &mut sent,
                        )
                        .await;
                        continue;
                    }
                    let req = bot
                        .edit_message_text(chat, MessageId(msg_id), text)
                        .reply_markup(markup(&keyboard));
                    if let Err(e) = self.pace.deliver(chat, req).await {
                        tracing::debug!(error = %request_error_kind(&e), "could not edit a message");
                        sent.failed += 1;
                    }
                }
                Out::EditKeyboard { msg_id, keyboard } => {
                    let req = bot.edit_message_reply_markup(chat, MessageId(msg_id));
                    let req = match keyboard {
                        Some(kb) => req.reply_markup(markup(&kb)),
                        None => req,
                    };
                    if let Err(e) = self.pace.deliver(chat, req).await {
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
                Out::DeleteReceipt(id) => self.delete_receipt(bot, chat, d, id, &mut sent).await,
                Out::Wipe(ids) => self.wipe(bot, chat, d, ids).await,
            }
        }
        sent
    }
}

/// A text, split as Telegram requires, the buttons under its last part.
async fn send_text(
    pace: &Pace,
    bot: &TgBot,
    chat: ChatId,
    text: &str,
    keyboard: Option<&Keyboard>,
    protect: bool,
    sent: &mut Sent,
) {
    let parts = outgoing::split_for_telegram(text);
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.into_iter().enumerate() {
        let mut req = bot.send_message(chat, part);
        if i == last
            && let Some(kb) = keyboard
        {
            req = req.reply_markup(markup(kb));
        }
        if protect {
            req = req.protect_content(true);
        }
        match pace.deliver(chat, req).await {
            Ok(m) => sent.ids.push(m.id.0),
            Err(e) => {
                warn!(error = %request_error_kind(&e), "a message could not be sent");
                sent.failed += 1;
            }
        }
    }
}

impl App {
    /// Deletes the receipt message; if Telegram refuses, the reporter is told to delete it.
    async fn delete_receipt(&self, bot: &TgBot, chat: ChatId, d: &Draft, id: i32, sent: &mut Sent) {
        if delete_message(bot, chat, id).await {
            sent.deleted.push(id);
            return;
        }
        sent.failed += 1;
        let req = bot.send_message(chat, t::receipt_not_deleted(d.lang));
        if let Ok(m) = self.pace.deliver(chat, req).await {
            sent.ids.push(m.id.0);
        }
    }

    /// Deletes the conversation and says whether all of it could be deleted.
    async fn wipe(&self, bot: &TgBot, chat: ChatId, d: &Draft, mut ids: Vec<i32>) {
        // deleteMessages skips messages it may not delete (older than 48 hours) without saying
        // so; deleteMessage refuses them. So the oldest goes alone first: if Telegram refuses
        // it, the reporter hears that some remain.
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
        // Debug only: reporters wipe right after reporting, so the line would date a report.
        tracing::debug!(count = ids.len(), complete = all, "conversation wiped");
        let text = if all {
            t::wiped(d.lang)
        } else {
            t::wipe_partial(d.lang)
        };
        self.say(bot, chat, text).await;
    }
}

/// What a turn's sending changed that the draft must remember.
#[derive(Default)]
pub(super) struct Sent {
    pub(super) ids: Vec<i32>,
    pub(super) receipt: Option<i32>,
    pub(super) deleted: Vec<i32>,
    pub(super) failed: u32,
}

impl Sent {
    pub(super) fn changes_draft(&self) -> bool {
        !self.ids.is_empty() || self.receipt.is_some() || !self.deleted.is_empty()
    }
}

impl App {
    /// Sends a plain message, paced, with retries; a failure is logged by class only.
    pub(super) async fn say(&self, bot: &TgBot, chat: ChatId, text: &str) {
        if let Err(e) = self.pace.deliver(chat, bot.send_message(chat, text)).await {
            warn!(error = %request_error_kind(&e), "a message could not be sent");
        }
    }
}

/// Deletes one message with retries. "Not found" counts as deleted: it is gone either way.
pub(super) async fn delete_message(bot: &TgBot, chat: ChatId, id: i32) -> bool {
    match outgoing::deliver(bot.delete_message(chat, MessageId(id))).await {
        Ok(_) | Err(RequestError::Api(teloxide::ApiError::MessageToDeleteNotFound)) => true,
        Err(e) => {
            tracing::debug!(error = %request_error_kind(&e), "could not delete a message");
            false
        }
    }
}

/// Deletes a message whose removal nothing else depends on.
pub(super) async fn delete_quietly(bot: &TgBot, chat: ChatId, id: i32) {
    let _deleted = delete_message(bot, chat, id).await;
}
