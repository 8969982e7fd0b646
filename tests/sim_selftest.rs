//! Self-test of the Telegram Bot API simulator (`tipline::sim`): real
//! teloxide over real HTTP against the fake server.
//!
//! Covers the JSON shapes teloxide needs for every update kind, a tiny
//! Dispatcher bot driven by `Citizen`s (keyboards, callbacks, photo download,
//! groups), Telegram's deletion and editing rules, flood control with the
//! Throttle adaptor, getUpdates offset semantics, webhooks, faults, and 100
//! citizens in parallel.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::dispatching::{Dispatcher, UpdateFilterExt};
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ButtonRequest, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, MediaKind, MessageId, MessageKind, ParseMode, UpdateKind,
};
use teloxide::update_listeners::Polling;
use teloxide::{ApiError, RequestError};
use tipline::sim::{
    CallOutcome, ChatKind, Content, ContentKind, EveryNth, Faults, FloodLimits, ForwardOrigin,
    Incoming, SimUser, Simulator, Stall, WebhookRouting,
};

fn bot_for(sim: &Simulator) -> Bot {
    Bot::new(sim.token()).set_api_url(sim.api_url().parse().expect("simulator URL parses"))
}

fn user(id: u64, name: &str) -> SimUser {
    SimUser::new(id, name)
        .username(format!("user{id}"))
        .language("vi")
}

// ------------------------------------------------------------------ tiny bot

async fn on_message(bot: Bot, msg: Message) -> ResponseResult<()> {
    let chat = msg.chat.id;
    if !msg.chat.is_private() {
        let kind = if msg.chat.is_group() {
            "group"
        } else {
            "supergroup"
        };
        let from_bot = msg.from.as_ref().is_some_and(|u| u.is_bot);
        bot.send_message(chat, format!("chat type: {kind}, from bot: {from_bot}"))
            .await?;
        return Ok(());
    }
    let name = msg
        .from
        .as_ref()
        .map(|u| u.first_name.clone())
        .unwrap_or_default();
    if let Some(photos) = msg.photo() {
        let largest = photos
            .last()
            .expect("Telegram always sends at least one size");
        let file = bot.get_file(largest.file.id.clone()).await?;
        let mut buf: Vec<u8> = Vec::new();
        bot.download_file(&file.path, &mut buf)
            .await
            .map_err(RequestError::from)?;
        bot.send_message(chat, format!("Đã nhận ảnh: {} bytes", buf.len()))
            .await?;
        return Ok(());
    }
    match msg.text() {
        Some("/start") => {
            let kb = InlineKeyboardMarkup::new([[
                InlineKeyboardButton::callback("Đồng ý", "yes"),
                InlineKeyboardButton::callback("Không đồng ý", "no"),
            ]]);
            bot.send_message(
                chat,
                format!("Xin chào {name}!\nBạn đồng ý với điều khoản?"),
            )
            .reply_markup(kb)
            .await?;
        }
        Some("/location") => {
            let kb = KeyboardMarkup::new([[
                KeyboardButton::new("Gửi vị trí").request(ButtonRequest::Location),
                KeyboardButton::new("Hủy"),
            ]])
            .one_time_keyboard();
            bot.send_message(chat, "Chia sẻ vị trí?")
                .reply_markup(kb)
                .await?;
        }
        Some("/secret") => {
            let sent = bot
                .send_message(chat, "<b>Mã biên nhận</b>: 1234")
                .parse_mode(ParseMode::Html)
                .protect_content(true)
                .await?;
            bot.delete_message(chat, msg.id).await?;
            let _ = sent;
        }
        Some(text) => {
            bot.send_message(chat, format!("echo: {text}")).await?;
        }
        None if msg.location().is_some() => {
            bot.send_message(chat, "Đã nhận vị trí").await?;
        }
        None => {
            bot.send_message(chat, "?").await?;
        }
    }
    Ok(())
}

async fn on_callback(bot: Bot, q: CallbackQuery) -> ResponseResult<()> {
    bot.answer_callback_query(q.id.clone())
        .text("Đã ghi nhận")
        .await?;
    if let Some(msg) = q.regular_message() {
        let text = format!(
            "{} chọn: {}",
            q.from.first_name,
            q.data.clone().unwrap_or_default()
        );
        bot.edit_message_text(msg.chat.id, msg.id, text).await?;
    }
    Ok(())
}

/// Runs the tiny bot with short long-polls; returns a stopper.
async fn run_tiny_bot(sim: &Simulator) -> impl FnOnce() {
    let bot = bot_for(sim);
    let handler = dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback));
    let listener = Polling::builder(bot.clone())
        .timeout(Duration::from_secs(1))
        .build();
    let mut dispatcher = Dispatcher::builder(bot, handler).build();
    let task = tokio::spawn(async move {
        dispatcher
            .dispatch_with_listener(listener, LoggingErrorHandler::new())
            .await;
    });
    move || task.abort()
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_with_keyboard_callback_photo_and_group() {
    let sim = Simulator::start().await.expect("simulator starts");
    let stop = run_tiny_bot(&sim).await;
    let an = sim.citizen(user(1001, "An"));

    an.command("/start").await;
    assert_eq!(
        an.last_text().as_deref(),
        Some("Xin chào An!\nBạn đồng ý với điều khoản?")
    );
    assert_eq!(an.last_buttons(), ["Đồng ý", "Không đồng ý"]);

    an.press("Đồng").await; // unique prefix of "Đồng ý"
    assert_eq!(an.last_text().as_deref(), Some("An chọn: yes"));
    assert_eq!(an.last_notice().as_deref(), Some("Đã ghi nhận"));
    assert!(
        an.last_buttons().is_empty(),
        "editing without reply_markup drops the keyboard, as on Telegram"
    );
    assert_eq!(sim.calls_to("answerCallbackQuery").len(), 1);

    let photo: Vec<u8> = (0..=255u8).cycle().take(12_345).collect();
    let mark = an.mark();
    an.send_photo(photo.clone()).await;
    assert_eq!(an.last_text().as_deref(), Some("Đã nhận ảnh: 12345 bytes"));
    assert_eq!(an.messages_since(mark).len(), 2);
    assert!(sim.calls_to("getFile").iter().all(|c| c.is_ok()));
    assert!(sim.calls_to("downloadFile").iter().any(|c| c.is_ok()));

    an.command("/location").await;
    assert_eq!(
        an.reply_keyboard(),
        Some(vec![vec!["Gửi vị trí".to_owned(), "Hủy".to_owned()]])
    );
    an.tap("Gửi vị trí").await;
    assert_eq!(an.last_text().as_deref(), Some("Đã nhận vị trí"));
    assert_eq!(
        an.reply_keyboard(),
        None,
        "one-time keyboard hides after use"
    );

    an.command("/secret").await;
    let snap = an.snapshot();
    let receipt = snap.last_bot_message().expect("bot replied");
    assert!(receipt.protected);
    assert_eq!(receipt.text.as_deref(), Some("Mã biên nhận: 1234"));
    assert_eq!(receipt.raw["entities"][0]["type"], "bold");
    let command = snap.user_messages().last().expect("user message");
    assert!(
        command.deleted,
        "the bot deleted the user's /secret message"
    );

    let transcript = an.transcript();
    println!("{transcript}");
    assert_eq!(
        transcript,
        "👤 /start\n\
         🤖 (edited) An chọn: yes\n\
         👤 ▸ [Đồng ý]\n\
         🤖 (notice) Đã ghi nhận\n\
         👤 [photo]\n\
         🤖 Đã nhận ảnh: 12345 bytes\n\
         👤 /location\n\
         🤖 Chia sẻ vị trí?\n   \
         ⌨ [Gửi vị trí] [Hủy]\n\
         👤 [location 12.2388, 109.1967]\n\
         🤖 Đã nhận vị trí\n\
         👤 (deleted) /secret\n\
         🤖 (protected) Mã biên nhận: 1234\n"
    );

    // Groups: the bot sees the chat type and who is a bot.
    let group = sim.create_chat(ChatKind::Group, "Tổ dân phố 5");
    let other_bot = SimUser::new(555, "Helper").username("helper_bot").bot();
    sim.send_message(&user(1002, "Bình"), &group, "xin chào")
        .expect("group message");
    sim.send_message(&other_bot, &group, "beep")
        .expect("bot message");
    let seen = sim
        .wait_until(Duration::from_secs(5), |s| {
            s.bot_messages(group.id).len() == 2
        })
        .await;
    assert!(
        seen,
        "bot answered both group messages: {}",
        sim.transcript(group.id)
    );
    let texts: Vec<_> = sim
        .bot_messages(group.id)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(
        texts,
        [
            "chat type: group, from bot: false",
            "chat type: group, from bot: true"
        ]
    );
    let group_transcript = sim.transcript(group.id);
    assert!(
        group_transcript.contains("👤 Bình: xin chào\n")
            && group_transcript.contains("👤 Helper: beep\n")
    );
    stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_citizens_in_parallel() {
    let sim = Simulator::builder()
        .record_calls(false)
        .start()
        .await
        .expect("simulator starts");
    let stop = run_tiny_bot(&sim).await;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..100u64 {
        // 100 conversations share one 2-thread runtime with the bot and the
        // simulator, so gaps between a bot's calls stretch; a longer quiet
        // period costs little here because the citizens wait in parallel.
        let c = sim
            .citizen(user(20_000 + i, &format!("Dân{i}")))
            .with_quiet_period(Duration::from_millis(300));
        set.spawn(async move {
            c.command("/start").await;
            assert_eq!(
                c.last_text(),
                Some(format!("Xin chào Dân{i}!\nBạn đồng ý với điều khoản?"))
            );
            c.press(if i % 2 == 0 {
                "Đồng ý"
            } else {
                "Không đồng ý"
            })
            .await;
            let choice = if i % 2 == 0 { "yes" } else { "no" };
            assert_eq!(c.last_text(), Some(format!("Dân{i} chọn: {choice}")));
            c.send(&format!("token-{i}")).await;
            assert_eq!(c.last_text(), Some(format!("echo: token-{i}")));
            assert_eq!(c.bot_messages().len(), 2);
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("citizen task");
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    stop();
}

#[tokio::test]
async fn every_update_kind_deserializes_in_teloxide() {
    let sim = Simulator::start().await.expect("simulator starts");
    let bot = bot_for(&sim);
    let an = user(1, "An").last_name("Nguyễn");
    let chat = tipline::sim::SimChat::private(&an);
    let f = |b: &[u8]| sim.add_file(b.to_vec());
    let group = sim.create_chat(ChatKind::Group, "Nhóm");
    let sgroup = sim.create_chat(ChatKind::Supergroup, "Siêu nhóm");
    let channel = sim
        .create_chat(ChatKind::Channel, "Kênh")
        .with_username("kenh_tin");

    let contents = vec![
        Content::text("/start abc"),
        Content::Photo {
            file: f(b"jpeg"),
            caption: Some("ảnh".into()),
        },
        Content::Document {
            file: f(b"%PDF"),
            file_name: "báo cáo.pdf".into(),
            mime_type: "application/pdf".into(),
            caption: None,
        },
        Content::Voice {
            file: f(b"ogg"),
            duration: 3,
        },
        Content::Audio {
            file: f(b"mp3"),
            duration: 30,
            title: Some("t".into()),
            mime_type: "audio/mpeg".into(),
        },
        Content::Video {
            file: f(b"mp4"),
            duration: 5,
            caption: None,
        },
        Content::VideoNote {
            file: f(b"mp4"),
            duration: 5,
        },
        Content::Sticker {
            file: f(b"webp"),
            emoji: "😀".into(),
        },
        Content::Animation {
            file: f(b"gif"),
            duration: 2,
            caption: None,
        },
        Content::Poll {
            question: "Q?".into(),
            options: vec!["a".into(), "b".into()],
        },
        Content::Dice {
            emoji: "🎲".into(),
            value: 4,
        },
        Content::contact("+84900000001", "Bình"),
        Content::location(12.24, 109.19),
        Content::Venue {
            latitude: 12.24,
            longitude: 109.19,
            title: "UBND".into(),
            address: "Nha Trang".into(),
        },
    ];
    let n_contents = contents.len();
    for c in contents {
        sim.send_message(&an, &chat, c).expect("inject");
    }
    let origins = [
        ForwardOrigin::User {
            user: user(2, "Chi"),
        },
        ForwardOrigin::HiddenUser {
            name: "Ẩn danh".into(),
        },
        ForwardOrigin::Chat {
            chat: sgroup.clone(),
        },
        ForwardOrigin::Channel {
            chat: channel.clone(),
            message_id: 77,
        },
    ];
    for o in origins {
        sim.send_message(&an, &chat, Incoming::new(Content::text("fwd")).forwarded(o))
            .expect("forward");
    }
    let first = sim.private_message(&an, "sửa tôi").expect("text");
    sim.edit_message(chat.id, first.message_id.expect("id"), "đã sửa")
        .expect("edit");
    sim.send_message(&an, &group, "g").expect("group");
    sim.send_message(&an, &sgroup, "sg").expect("supergroup");
    sim.send_message(&SimUser::new(9, "B").bot(), &group, "from bot")
        .expect("bot sender");
    sim.channel_post(&channel, "post").expect("channel post");
    sim.media_group(
        &an,
        &chat,
        vec![
            Content::Photo {
                file: f(b"1"),
                caption: None,
            },
            Content::Photo {
                file: f(b"2"),
                caption: None,
            },
        ],
    )
    .expect("album");
    let sent = bot
        .send_message(ChatId(chat.id), "chọn")
        .reply_markup(InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("A", "a"),
        ]]))
        .await
        .expect("send");
    sim.press_button(&an, chat.id, sent.id.0, "a")
        .expect("press");

    let updates = bot.get_updates().await.expect("getUpdates");
    assert_eq!(updates.len(), n_contents + 13);
    for u in &updates {
        assert!(
            !matches!(u.kind, UpdateKind::Error(_)),
            "teloxide could not parse: {:?}",
            u.kind
        );
    }
    let media: Vec<&'static str> = updates
        .iter()
        .take(n_contents)
        .map(|u| match &u.kind {
            UpdateKind::Message(m) => match &m.kind {
                MessageKind::Common(c) => match &c.media_kind {
                    MediaKind::Text(_) => "text",
                    MediaKind::Photo(_) => "photo",
                    MediaKind::Document(_) => "document",
                    MediaKind::Voice(_) => "voice",
                    MediaKind::Audio(_) => "audio",
                    MediaKind::Video(_) => "video",
                    MediaKind::VideoNote(_) => "video_note",
                    MediaKind::Sticker(_) => "sticker",
                    MediaKind::Animation(_) => "animation",
                    MediaKind::Poll(_) => "poll",
                    MediaKind::Contact(_) => "contact",
                    MediaKind::Location(_) => "location",
                    MediaKind::Venue(_) => "venue",
                    _ => "other media",
                },
                MessageKind::Dice(_) => "dice",
                _ => "other kind",
            },
            _ => "not a message",
        })
        .collect();
    assert_eq!(
        media,
        [
            "text",
            "photo",
            "document",
            "voice",
            "audio",
            "video",
            "video_note",
            "sticker",
            "animation",
            "poll",
            "dice",
            "contact",
            "location",
            "venue"
        ]
    );
    let UpdateKind::Message(cmd) = &updates[0].kind else {
        panic!("message")
    };
    assert_eq!(cmd.parse_entities().expect("entities")[0].text(), "/start");
    assert_eq!(
        cmd.from.as_ref().and_then(|u| u.language_code.as_deref()),
        Some("vi")
    );
    for u in &updates[n_contents..n_contents + 4] {
        let UpdateKind::Message(m) = &u.kind else {
            panic!("forward is a message")
        };
        assert!(m.forward_origin().is_some());
    }
    assert!(
        matches!(&updates[n_contents + 5].kind, UpdateKind::EditedMessage(m) if m.text() == Some("đã sửa"))
    );
    assert!(matches!(&updates[n_contents + 6].kind, UpdateKind::Message(m) if m.chat.is_group()));
    assert!(
        matches!(&updates[n_contents + 7].kind, UpdateKind::Message(m) if m.chat.is_supergroup())
    );
    assert!(
        matches!(&updates[n_contents + 8].kind, UpdateKind::Message(m) if m.from.as_ref().is_some_and(|u| u.is_bot))
    );
    assert!(
        matches!(&updates[n_contents + 9].kind, UpdateKind::ChannelPost(m) if m.chat.is_channel())
    );
    let album: Vec<_> = updates[n_contents + 10..n_contents + 12]
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::Message(m) => m.media_group_id().cloned(),
            _ => None,
        })
        .collect();
    assert!(album[0].is_some() && album[0] == album[1]);
    let UpdateKind::CallbackQuery(q) = &updates[n_contents + 12].kind else {
        panic!("callback")
    };
    assert_eq!(q.data.as_deref(), Some("a"));
    assert_eq!(q.regular_message().map(|m| m.id), Some(sent.id));

    // getMe, getWebhookInfo and getFile parse too.
    let me = bot.get_me().await.expect("getMe");
    assert_eq!(me.username(), "tipline_test_bot");
    assert!(
        bot.get_webhook_info()
            .await
            .expect("webhook info")
            .url
            .is_none()
    );
    let UpdateKind::Message(photo) = &updates[1].kind else {
        panic!("photo")
    };
    let file = bot
        .get_file(photo.photo().expect("photo")[1].file.id.clone())
        .await
        .expect("getFile");
    let mut buf = Vec::new();
    bot.download_file(&file.path, &mut buf)
        .await
        .expect("download");
    assert_eq!(buf, b"jpeg");
}

#[tokio::test]
async fn bot_methods_follow_telegram_rules() {
    let sim = Simulator::start().await.expect("simulator starts");
    let bot = bot_for(&sim);
    let an = user(7, "An");
    let chat = ChatId(7);

    // Unknown chat; then the user writes first.
    let err = bot.send_message(chat, "x").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ChatNotFound)),
        "{err:?}"
    );
    let silent = sim.citizen(user(77, "Chưa bắt đầu"));
    let err = bot
        .send_message(ChatId(silent.chat_id()), "x")
        .await
        .unwrap_err();
    assert!(
        format!("{err}").contains("bot can't initiate conversation with a user"),
        "{err:?}"
    );
    let user_msg = sim.private_message(&an, "xin chào").expect("inject");
    let user_msg_id = user_msg.message_id.expect("id");

    // Shared message-id counter; validation errors.
    let sent = bot.send_message(chat, "một").await.expect("send");
    assert_eq!(sent.id.0, user_msg_id + 1);
    assert!(matches!(
        bot.send_message(chat, " ").await,
        Err(RequestError::Api(ApiError::MessageTextIsEmpty))
    ));
    assert!(matches!(
        bot.send_message(chat, "x".repeat(4097)).await,
        Err(RequestError::Api(ApiError::MessageIsTooLong))
    ));
    let bad_html = bot
        .send_message(chat, "1 < 2")
        .parse_mode(ParseMode::Html)
        .await
        .unwrap_err();
    assert!(
        matches!(bad_html, RequestError::Api(ApiError::CantParseEntities(_))),
        "{bad_html:?}"
    );
    let bad_md = bot
        .send_message(chat, "Cảm ơn.")
        .parse_mode(ParseMode::MarkdownV2)
        .await
        .unwrap_err();
    assert!(
        matches!(bad_md, RequestError::Api(ApiError::CantParseEntities(ref s)) if s.contains("Character '.' is reserved"))
    );

    // Edits.
    let not_modified = bot
        .edit_message_text(chat, sent.id, "một")
        .await
        .unwrap_err();
    assert!(
        matches!(
            not_modified,
            RequestError::Api(ApiError::MessageNotModified)
        ),
        "{not_modified:?}"
    );
    let edited = bot
        .edit_message_text(chat, sent.id, "hai")
        .await
        .expect("edit");
    assert!(edited.edit_date().is_some());
    let foreign = bot
        .edit_message_text(chat, MessageId(user_msg_id), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(foreign, RequestError::Api(ApiError::MessageCantBeEdited)),
        "{foreign:?}"
    );

    // Deletion: within 48 h fine, missing → not found, beyond 48 h refused.
    bot.delete_message(chat, MessageId(user_msg_id))
        .await
        .expect("delete user's message");
    let again = bot
        .delete_message(chat, MessageId(user_msg_id))
        .await
        .unwrap_err();
    assert!(
        matches!(again, RequestError::Api(ApiError::MessageToDeleteNotFound)),
        "{again:?}"
    );
    let old = bot.send_message(chat, "cũ").await.expect("send");
    let young_user = sim
        .private_message(&an, "mới")
        .expect("inject")
        .message_id
        .expect("id");
    sim.advance_clock(Duration::from_secs(47 * 3600));
    let fresh = bot.send_message(chat, "mới").await.expect("send");
    sim.advance_clock(Duration::from_secs(3600));
    let too_old = bot.delete_message(chat, old.id).await.unwrap_err();
    assert!(
        format!("{too_old}").contains("message can't be deleted for everyone"),
        "{too_old:?}"
    );
    assert!(
        bot.delete_message(chat, MessageId(young_user))
            .await
            .is_err()
    );
    bot.delete_message(chat, fresh.id)
        .await
        .expect("1 h old message deletes");
    let snap = sim.chat(chat.0).expect("chat");
    assert!(snap.message(fresh.id.0).expect("kept").deleted);
    assert!(!snap.message(old.id.0).expect("kept").deleted);
    assert!(snap.message(user_msg_id).expect("kept").deleted);
    let batch = sim
        .private_message(&an, "a")
        .expect("inject")
        .message_id
        .expect("id");
    bot.delete_messages(chat, [MessageId(batch), MessageId(9999)])
        .await
        .expect("deleteMessages skips missing");
    assert!(
        sim.user_messages(chat.0)
            .iter()
            .any(|m| m.message_id == batch && m.deleted)
    );

    // Uploads (multipart) are recorded with their bytes and file name.
    let pdf = b"%PDF-1.7 fake".to_vec();
    let doc = bot
        .send_document(
            chat,
            InputFile::memory(pdf.clone()).file_name("biên bản.pdf"),
        )
        .caption("Biên bản")
        .await
        .expect("upload");
    let doc_meta = doc.document().expect("document");
    assert_eq!(doc_meta.file_name.as_deref(), Some("biên bản.pdf"));
    assert_eq!(
        sim.file_bytes(&doc_meta.file.id.0).as_deref(),
        Some(&pdf[..])
    );
    let last = sim.bot_messages(chat.0).pop().expect("bot message");
    assert_eq!(
        (last.kind, last.text.as_deref()),
        (ContentKind::Document, Some("Biên bản"))
    );
    let photo = bot
        .send_photo(chat, InputFile::memory(vec![1u8; 2048]))
        .await
        .expect("photo upload");
    assert_eq!(
        photo
            .photo()
            .expect("sizes")
            .last()
            .expect("size")
            .file
            .size,
        2048
    );
    let upload_call = sim.calls_to("sendDocument").pop().expect("recorded");
    assert_eq!(upload_call.params["document"]["upload"]["size"], pdf.len());
    let keys: Vec<&String> = upload_call
        .params
        .as_object()
        .expect("object")
        .keys()
        .collect();
    assert_eq!(
        keys,
        ["caption", "chat_id", "document"],
        "the attach:// part is folded into `document`"
    );

    // getFile limits.
    let big = sim.add_file(vec![0u8; 20 * 1024 * 1024 + 1]);
    let too_big = bot
        .get_file(teloxide::types::FileId(big.file_id))
        .await
        .unwrap_err();
    assert!(
        format!("{too_big}").contains("file is too big"),
        "{too_big:?}"
    );

    // Commands per language.
    bot.set_my_commands([
        BotCommand::new("start", "Bắt đầu"),
        BotCommand::new("cancel", "Hủy"),
    ])
    .language_code("vi")
    .await
    .expect("setMyCommands");
    bot.set_my_commands([BotCommand::new("start", "Start")])
        .await
        .expect("setMyCommands");
    assert_eq!(
        sim.commands("vi"),
        [
            ("start".to_owned(), "Bắt đầu".to_owned()),
            ("cancel".to_owned(), "Hủy".to_owned())
        ]
    );
    assert_eq!(sim.commands("").len(), 1);
    let vi = bot
        .get_my_commands()
        .language_code("vi")
        .await
        .expect("getMyCommands");
    assert_eq!(vi.len(), 2);

    // Leaving a group; blocked users.
    let group = sim.create_chat(ChatKind::Supergroup, "Nhóm");
    sim.send_message(&an, &group, "hi").expect("group");
    bot.leave_chat(ChatId(group.id)).await.expect("leave");
    assert!(sim.bot_left(group.id));
    let after = bot.send_message(ChatId(group.id), "x").await.unwrap_err();
    assert!(
        format!("{after}").contains("bot is not a member of the supergroup chat"),
        "{after:?}"
    );
    sim.citizen(an.clone()).block_bot();
    assert!(matches!(
        bot.send_message(chat, "x").await,
        Err(RequestError::Api(ApiError::BotBlocked))
    ));

    // Migrated groups answer with migrate_to_chat_id.
    let old_group = sim.create_chat(ChatKind::Group, "Cũ");
    let new_group = sim.migrate_to_supergroup(old_group.id).expect("migrate");
    let migrated = bot
        .send_message(ChatId(old_group.id), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(migrated, RequestError::MigrateToChatId(c) if c.0 == new_group.id),
        "{migrated:?}"
    );
}

#[tokio::test]
async fn flood_limits_and_throttle() {
    use teloxide::adaptors::throttle::Limits;
    let sim = Simulator::start().await.expect("simulator starts");
    let bot = bot_for(&sim);
    sim.private_message(&user(3, "An"), "hi").expect("inject");
    sim.set_faults(Faults {
        flood: Some(FloodLimits::default()),
        ..Faults::default()
    });

    bot.send_message(ChatId(3), "1")
        .await
        .expect("first send passes");
    let err = bot.send_message(ChatId(3), "2").await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 1),
        "{err:?}"
    );

    // Throttle honours retry_after and retries: everything is delivered.
    let throttled = bot.clone().throttle(Limits::default());
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..2 {
        let b = throttled.clone();
        set.spawn(async move {
            b.send_message(ChatId(3), format!("t{i}"))
                .await
                .map(|m| m.id)
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task").expect("throttled send delivered");
    }
    assert!(started.elapsed() < Duration::from_secs(6));
    let texts: HashSet<_> = sim
        .bot_messages(3)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(texts.contains("t0") && texts.contains("t1") && texts.contains("1"));
    let rejected = sim
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| matches!(&c.outcome, CallOutcome::Error { code: 429, .. }))
        .count();
    assert!(rejected >= 1);
}

#[tokio::test]
async fn get_updates_offsets_are_exact() {
    let sim = Simulator::start().await.expect("simulator starts");
    let bot = bot_for(&sim);
    let injector = {
        let sim = sim.clone();
        tokio::spawn(async move {
            for i in 0..300u64 {
                sim.private_message(&user(100 + i % 7, "U"), format!("m{i}").as_str())
                    .expect("inject");
                if i % 25 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    let mut seen = Vec::new();
    let mut offset = 0i32;
    while seen.len() < 300 {
        let batch = bot
            .get_updates()
            .offset(offset)
            .limit(37)
            .timeout(2)
            .await
            .expect("getUpdates");
        assert!(batch.len() <= 37);
        for u in &batch {
            seen.push(u.id.0);
            offset = i32::try_from(u.id.0).expect("fits") + 1;
        }
    }
    injector.await.expect("injector");
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 300, "no duplicates");
    assert!(
        seen.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, none lost"
    );
    // Confirmed updates are gone for good.
    let rest = bot
        .get_updates()
        .offset(offset)
        .timeout(0)
        .await
        .expect("getUpdates");
    assert!(rest.is_empty());
    let old = bot
        .get_updates()
        .offset(0)
        .timeout(0)
        .await
        .expect("getUpdates");
    assert!(
        old.is_empty(),
        "updates below the confirmed offset never come back"
    );

    // A long poll returns as soon as an update arrives.
    let sim2 = sim.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        sim2.private_message(&user(1, "U"), "late").expect("inject");
    });
    let t = Instant::now();
    let late = bot
        .get_updates()
        .offset(offset)
        .timeout(10)
        .await
        .expect("getUpdates");
    assert_eq!(late.len(), 1);
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn raw_http_shapes_case_insensitive_methods_and_faults() {
    let sim = Simulator::start().await.expect("simulator starts");
    sim.private_message(&user(5, "An"), "hi").expect("inject");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let url = |m: &str| format!("{}bot{}/{m}", sim.api_url(), sim.token());

    let r = http
        .post(url("SENDMESSAGE"))
        .json(&serde_json::json!({"chat_id": 5, "text": "hoa"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["result"]["text"], "hoa");
    let form = http
        .post(url("sendmessage"))
        .form(&[("chat_id", "5"), ("text", "form")])
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), 200);
    let get: serde_json::Value = http
        .get(format!("{}?chat_id=5&text=q", url("SendMessage")))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(get["result"]["text"], "q");
    assert_eq!(
        http.get(url("GETME")).send().await.expect("getMe").status(),
        200
    );

    let unknown: serde_json::Value = http
        .post(url("sendCarrierPigeon"))
        .send()
        .await
        .expect("unknown")
        .json()
        .await
        .expect("json");
    assert_eq!(
        unknown,
        serde_json::json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );
    let wrong = http
        .post(format!("{}bot123:nope/getMe", sim.api_url()))
        .send()
        .await
        .expect("wrong token");
    assert_eq!(wrong.status(), 401);
    let wrong: serde_json::Value = wrong.json().await.expect("json");
    assert_eq!(
        wrong,
        serde_json::json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );

    // Every 2nd call → 502.
    sim.set_faults(Faults {
        bad_gateway: Some(EveryNth::new(2)),
        ..Faults::default()
    });
    let s1 = http.post(url("getMe")).send().await.expect("1").status();
    let s2 = http.post(url("getMe")).send().await.expect("2");
    assert_eq!((s1.as_u16(), s2.status().as_u16()), (200, 502));
    let body: serde_json::Value = s2.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"ok": false, "error_code": 502, "description": "Bad Gateway"})
    );

    // Stalls.
    sim.set_faults(Faults {
        stall: Some(Stall {
            delay: Duration::from_millis(300),
            every: EveryNth::new(1),
        }),
        ..Faults::default()
    });
    let t = Instant::now();
    http.post(url("getMe")).send().await.expect("stalled");
    assert!(t.elapsed() >= Duration::from_millis(300));

    // Dropped connections: no response at all, and the call is recorded.
    sim.set_faults(Faults {
        drop_connection: Some(EveryNth::new(1).only(&["sendMessage"])),
        ..Faults::default()
    });
    let dropped = http
        .post(url("sendMessage"))
        .json(&serde_json::json!({"chat_id": 5, "text": "x"}))
        .send()
        .await;
    let err = dropped.expect_err("connection closed without a response");
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(
        sim.calls_to("sendMessage")
            .last()
            .map(|c| c.outcome.clone()),
        Some(CallOutcome::Dropped)
    );
    assert!(
        http.post(url("getMe"))
            .send()
            .await
            .expect("other methods unaffected")
            .status()
            .is_success()
    );
    sim.clear_faults();
    assert!(
        http.post(url("sendMessage"))
            .json(&serde_json::json!({"chat_id": 5, "text": "y"}))
            .send()
            .await
            .expect("ok")
            .status()
            .is_success()
    );
    assert_eq!(
        sim.bot_messages(5).len(),
        4,
        "the dropped send had no effect"
    );
}

/// (receiver name, update id, secret header) per delivery.
type Received = Arc<Mutex<Vec<(String, u64, Option<String>)>>>;

#[derive(Clone, Default)]
struct Receiver {
    got: Received,
    fail_first: Arc<Mutex<bool>>,
}

async fn webhook_receiver(name: &'static str, rx: Receiver) -> String {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: HeaderMap, body: axum::Json<serde_json::Value>| {
                let rx = rx.clone();
                async move {
                    let mut fail = rx.fail_first.lock().expect("lock");
                    if *fail {
                        *fail = false;
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let secret = headers
                        .get("x-telegram-bot-api-secret-token")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let id = body["update_id"].as_u64().unwrap_or_default();
                    rx.got
                        .lock()
                        .expect("lock")
                        .push((name.to_owned(), id, secret));
                    StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn webhook_delivery_retries_duplicates_and_replicas() {
    let sim = Simulator::start().await.expect("simulator starts");
    let bot = bot_for(&sim);
    let rx_a = Receiver {
        fail_first: Arc::new(Mutex::new(true)),
        ..Receiver::default()
    };
    let url_a = webhook_receiver("a", rx_a.clone()).await;

    bot.set_webhook(url_a.parse().expect("url"))
        .secret_token("s3cr3t-token".to_owned())
        .await
        .expect("setWebhook");
    assert_eq!(
        bot.get_webhook_info()
            .await
            .expect("info")
            .url
            .map(|u| u.to_string()),
        Some(url_a.clone())
    );
    let conflict = bot.get_updates().await.unwrap_err();
    assert!(
        format!("{conflict}").contains("can't use getUpdates method while webhook is active"),
        "{conflict:?}"
    );

    let u1 = sim
        .private_message(&user(8, "An"), "qua webhook")
        .expect("inject")
        .update_id;
    assert!(
        sim.wait_until(Duration::from_secs(5), |s| s.pending_updates() == 0)
            .await
    );
    assert_eq!(
        *rx_a.got.lock().expect("lock"),
        [(
            "a".to_owned(),
            u64::from(u1),
            Some("s3cr3t-token".to_owned())
        )]
    );
    let attempts: Vec<_> = sim
        .webhook_deliveries()
        .into_iter()
        .map(|d| (d.attempt, d.status))
        .collect();
    assert_eq!(
        attempts,
        [(1, Some(500)), (2, Some(200))],
        "retried after a 500"
    );
    assert!(
        bot.get_webhook_info()
            .await
            .expect("info")
            .last_error_message
            .is_some()
    );

    // Duplicate delivery of the same update.
    assert_eq!(sim.redeliver(u1, &url_a).await.expect("redeliver"), 200);
    assert_eq!(rx_a.got.lock().expect("lock").len(), 2);

    // Two replicas: round robin, then manual choice per delivery.
    let rx_b = Receiver::default();
    let url_b = webhook_receiver("b", rx_b.clone()).await;
    sim.set_webhook_targets(
        vec![url_a.clone(), url_b.clone()],
        Some("s2".into()),
        WebhookRouting::RoundRobin,
    );
    for i in 0..4 {
        sim.private_message(&user(8, "An"), format!("r{i}").as_str())
            .expect("inject");
    }
    assert!(
        sim.wait_until(Duration::from_secs(5), |s| s.pending_updates() == 0)
            .await
    );
    assert_eq!(rx_a.got.lock().expect("lock").len(), 4);
    assert_eq!(rx_b.got.lock().expect("lock").len(), 2);
    sim.set_webhook_targets(
        vec![url_a.clone(), url_b.clone()],
        None,
        WebhookRouting::Manual,
    );
    let u = sim
        .private_message(&user(8, "An"), "manual")
        .expect("inject")
        .update_id;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        sim.pending_updates(),
        1,
        "manual routing waits for the test"
    );
    assert_eq!(sim.deliver_next_to(&url_b).await.expect("deliver"), 200);
    assert_eq!(
        rx_b.got.lock().expect("lock").last().map(|g| g.1),
        Some(u64::from(u))
    );

    // deleteWebhook with drop_pending_updates; polling works again.
    sim.private_message(&user(8, "An"), "dropped")
        .expect("inject");
    bot.delete_webhook()
        .drop_pending_updates(true)
        .await
        .expect("deleteWebhook");
    assert_eq!(sim.pending_updates(), 0);
    sim.private_message(&user(8, "An"), "polled")
        .expect("inject");
    let polled = bot.get_updates().timeout(1).await.expect("getUpdates");
    assert_eq!(polled.len(), 1);
}
