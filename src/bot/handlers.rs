//! The handler tree and its endpoints: each Telegram update becomes a dialogue [`Event`]
//! handed to [`App::turn`]. Non-private chats, other bots, channel posts and group invitations
//! are answered here and never reach the dialogue.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use teloxide::dispatching::{DefaultKey, Dispatcher};
use teloxide::prelude::*;
use teloxide::types::{BotCommand, ChatId, User};
use tracing::{info, warn};

use super::texts::{self as t, Lang};
use super::{App, HandlerError, TgBot, draft, evidence, outgoing, request_error_kind};
use crate::crypto::Receipt;
use crate::dialogue::event::{Event, Input, from_callback};

/// Whether a text typed at any step is, by its shape, a receipt: four groups of four
/// symbols (or sixteen in a row) that decode as one, with a digit or dashes. Ordinary words
/// rarely decode, but four four-letter words can ("send them more gold"); a digit or the
/// dashes of the printed form rule those out. (At the receipt prompt any decodable text is
/// taken; this is for text typed elsewhere.)
pub(super) fn looks_like_receipt(text: &str) -> bool {
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
pub(super) fn telegram_id(user: &User) -> i64 {
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

fn command_of(msg: &Message) -> Option<Command> {
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
    Some(cmd)
}

/// Routes one update to its endpoint: non-private chats first (the bot says once that it works
/// only in private and leaves), messages from bots ignored, then commands (so /cancel works at
/// any step), messages by kind, button presses, edits, channel posts, group invitations; every
/// other kind is ignored. A plain match on the update's kind: teloxide's handler tree cloned
/// the message for every branch it tried.
pub async fn route(bot: TgBot, app: Arc<App>, update: Update) -> Result<(), HandlerError> {
    use teloxide::types::UpdateKind as K;
    match update.kind {
        K::Message(msg) if !msg.chat.is_private() => leave_group(bot, app, msg).await,
        K::Message(msg) if msg.from.as_ref().is_some_and(|u| u.is_bot) => ignore_bot().await,
        K::Message(msg) => match command_of(&msg) {
            Some(cmd) => on_command(bot, app, (cmd, msg)).await,
            None => on_message(bot, app, msg).await,
        },
        K::CallbackQuery(q) => on_callback(bot, app, q).await,
        K::EditedMessage(msg) => on_edited(bot, app, msg).await,
        K::ChannelPost(msg) => on_channel_post(bot, app, msg).await,
        K::MyChatMember(upd) => on_my_chat_member(bot, app, upd).await,
        _ => Ok(()),
    }
}

async fn leave_group(bot: TgBot, app: Arc<App>, msg: Message) -> Result<(), HandlerError> {
    let lang = notice_order(msg.from.as_ref().and_then(|u| u.language_code.as_deref()));
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
        let lang = notice_order(upd.from.language_code.as_deref());
        leave(&bot, &app, upd.chat.id, lang).await?;
    }
    Ok(())
}

/// Which language leads the two-language group notice: English for someone whose Telegram is in
/// English. Only the order; the dialogue itself starts in Vietnamese for everyone.
fn notice_order(code: Option<&str>) -> Lang {
    match code {
        Some(c) if c.starts_with("en") => Lang::En,
        _ => Lang::Vi,
    }
}

/// Says once (in both languages) that reports are taken in private chats only, and leaves.
/// In a channel the bot may have no right to post; it leaves all the same.
async fn leave(bot: &TgBot, app: &App, chat: ChatId, lang: Lang) -> Result<(), HandlerError> {
    if app.first_time_told(chat) {
        app.say(bot, chat, t::private_only(lang)).await;
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
    // The token is checked against the draft the turn loads: one read per press.
    let event = from_callback(q.data.as_deref().unwrap_or(""), msg_id);
    // The spinner stops once the answer is in the chat, whatever the turn's outcome.
    let result = app.turn(&bot, chat, &q.from, event).await;
    answer_callback(&bot, &q).await;
    result
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

/// Handles one update ([`route`]), counting it and its duration in [`crate::metrics`]. Both
/// modes end here: long polling through the dispatcher, webhooks through [`crate::webhook`]
/// after its per-update guard.
pub async fn handle_update(bot: TgBot, app: Arc<App>, update: Update) {
    let started = Instant::now();
    crate::metrics::METRICS.update(crate::metrics::update_kind(&update));
    if let Err(e) = route(bot, app, update).await {
        warn!(error = %e, "update handling failed");
    }
    crate::metrics::METRICS.observe(started.elapsed());
}

/// Builds the dispatcher (long polling): one endpoint that queues each update for its chat
/// ([`super::queue::dispatch`]) and returns at once; the chat's task hands it to
/// [`handle_update`]. Wait for [`super::queue::ChatQueues::drained`] after the dispatcher stops.
pub fn dispatcher(bot: TgBot, app: Arc<App>) -> Dispatcher<TgBot, HandlerError, DefaultKey> {
    let entry = dptree::entry().endpoint(|bot: TgBot, app: Arc<App>, update: Update| async move {
        super::queue::dispatch(bot, app, update);
        Ok::<(), HandlerError>(())
    });
    Dispatcher::builder(bot, entry)
        .dependencies(dptree::deps![app])
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
    let mut dispatcher = dispatcher(bot.clone(), Arc::clone(&app));
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
    // The updates already taken are handled before the process ends (the caller bounds it).
    app.queues.drained().await;
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
