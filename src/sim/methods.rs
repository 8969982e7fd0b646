//! The Bot API methods the simulator implements, with Telegram's validation
//! rules and error wording.
//!
//! Invariants: a method either succeeds and changes the state, or fails with
//! a Telegram-shaped [`ApiError`] and changes nothing (apart from fault
//! counters); every method that acts on a chat reports that chat in
//! [`Outcome::chat_id`] so calls can be attributed to conversations.

use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::error::ApiError;
use super::faults::flood_limited;
use super::markup::{self, utf16_len};
use super::params::Params;
use super::state::{CallbackState, ChatState, Markup, State, StoredMessage, WebhookState};
use super::types::{ChatEvent, ChatKind, ContentKind, Sender, WebhookRouting};

/// Every method the simulator knows, in canonical spelling.
pub(crate) const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setMyDescription",
    "getMyDescription",
    "setMyShortDescription",
    "getMyShortDescription",
    "setMyName",
    "getMyName",
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendVoice",
    "sendAudio",
    "sendVideo",
    "sendAnimation",
    "sendChatAction",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "deleteMessages",
    "leaveChat",
    "getFile",
];

/// Canonical spelling of a method name (Telegram matches them case-insensitively).
pub(crate) fn canonical(name: &str) -> Option<&'static str> {
    METHODS
        .iter()
        .copied()
        .find(|m| m.eq_ignore_ascii_case(name))
}

/// Result of one method call.
pub(crate) struct Outcome {
    pub result: Result<Value, ApiError>,
    pub chat_id: Option<i64>,
}

const MAX_TEXT: usize = 4096;
const MAX_CAPTION: usize = 1024;
const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;
const MAX_UPLOAD: usize = 50 * 1024 * 1024;
const DELETE_WINDOW_SECS: i64 = 48 * 3600;
const DICE_PRIVATE_MIN_AGE_SECS: i64 = 24 * 3600;

/// Runs `method` (never getUpdates, which the server long-polls) against the state.
pub(crate) fn call(st: &mut State, method: &'static str, p: &mut Params) -> Outcome {
    let mut chat_id = None;
    let result = dispatch(st, method, p, &mut chat_id);
    if result.is_ok()
        && flood_limited(method)
        && st.faults.flood.is_some()
        && let Some(id) = chat_id
    {
        st.fault_state.flood_register(id, Instant::now());
    }
    Outcome { result, chat_id }
}

fn dispatch(
    st: &mut State,
    method: &str,
    p: &mut Params,
    chat: &mut Option<i64>,
) -> Result<Value, ApiError> {
    match method {
        "getMe" => Ok(st.bot.me_json()),
        "setWebhook" => set_webhook(st, p),
        "deleteWebhook" => {
            if p.flag("drop_pending_updates") {
                st.pending.clear();
            }
            st.webhook = None;
            Ok(json!(true))
        }
        "getWebhookInfo" => Ok(webhook_info(st)),
        "setMyCommands" => set_my_commands(st, p),
        "getMyCommands" => {
            let key = commands_key(p)?;
            Ok(st.commands.get(&key).cloned().unwrap_or_else(|| json!([])))
        }
        "deleteMyCommands" => {
            let key = commands_key(p)?;
            st.commands.remove(&key);
            Ok(json!(true))
        }
        "setMyDescription" => set_bot_text(st, p, "description", 512),
        "setMyShortDescription" => set_bot_text(st, p, "short_description", 120),
        "setMyName" => set_bot_text(st, p, "name", 64),
        "getMyDescription" => Ok(get_bot_text(st, p, "description")),
        "getMyShortDescription" => Ok(get_bot_text(st, p, "short_description")),
        "getMyName" => Ok(get_bot_text(st, p, "name")),
        "sendMessage" => send_message(st, p, chat),
        "sendPhoto" => send_media(st, p, chat, "photo"),
        "sendDocument" => send_media(st, p, chat, "document"),
        "sendVoice" => send_media(st, p, chat, "voice"),
        "sendAudio" => send_media(st, p, chat, "audio"),
        "sendVideo" => send_media(st, p, chat, "video"),
        "sendAnimation" => send_media(st, p, chat, "animation"),
        "sendChatAction" => {
            let id = chat_for_send(st, p, chat)?;
            let _ = id;
            if p.str("action").is_none_or(|a| a.is_empty()) {
                return Err(ApiError::bad_request("wrong parameter action in request"));
            }
            Ok(json!(true))
        }
        "editMessageText" => edit_text(st, p, chat, "text"),
        "editMessageCaption" => edit_text(st, p, chat, "caption"),
        "editMessageReplyMarkup" => edit_reply_markup(st, p, chat),
        "answerCallbackQuery" => answer_callback(st, p, chat),
        "deleteMessage" => delete_message(st, p, chat),
        "deleteMessages" => delete_messages(st, p, chat),
        "leaveChat" => leave_chat(st, p, chat),
        "getFile" => get_file(st, p),
        _ => Err(ApiError::not_found()),
    }
}

// ------------------------------------------------------------ chats

fn resolve_chat_id(st: &State, p: &Params) -> Result<i64, ApiError> {
    match p.raw("chat_id") {
        None => Err(ApiError::bad_request("chat_id is empty")),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(ApiError::chat_not_found),
        Some(Value::String(s)) => {
            let s = s.trim();
            if let Some(name) = s.strip_prefix('@') {
                st.chats
                    .values()
                    .find(|c| {
                        c.chat.kind != ChatKind::Private
                            && c.chat
                                .username
                                .as_deref()
                                .is_some_and(|u| u.eq_ignore_ascii_case(name))
                    })
                    .map(|c| c.chat.id)
                    .ok_or_else(ApiError::chat_not_found)
            } else if s.is_empty() {
                Err(ApiError::bad_request("chat_id is empty"))
            } else {
                s.parse::<i64>().map_err(|_| ApiError::chat_not_found())
            }
        }
        Some(_) => Err(ApiError::chat_not_found()),
    }
}

fn not_member(kind: ChatKind) -> ApiError {
    match kind {
        ChatKind::Channel => ApiError::forbidden("bot is not a member of the channel chat"),
        ChatKind::Supergroup => ApiError::forbidden("bot is not a member of the supergroup chat"),
        _ => ApiError::forbidden("bot is not a member of the group chat"),
    }
}

/// Resolves the chat of a call that acts in it, applying Telegram's access rules.
fn chat_for_send(st: &State, p: &Params, out: &mut Option<i64>) -> Result<i64, ApiError> {
    let id = resolve_chat_id(st, p)?;
    let chat = st.chats.get(&id).ok_or_else(ApiError::chat_not_found)?;
    *out = Some(id);
    if let Some(to) = chat.migrated_to {
        return Err(ApiError::migrated(to));
    }
    if chat.bot_left {
        return Err(not_member(chat.chat.kind));
    }
    if chat.blocked {
        return Err(ApiError::forbidden("bot was blocked by the user"));
    }
    if chat.chat.kind == ChatKind::Private && !chat.started {
        return Err(ApiError::forbidden(
            "bot can't initiate conversation with a user",
        ));
    }
    Ok(id)
}

fn flood(st: &mut State, method: &str, chat_id: i64) -> Result<(), ApiError> {
    if let Some(limits) = st.faults.flood
        && flood_limited(method)
        && let Err(retry_after) = st.fault_state.flood_check(&limits, chat_id, Instant::now())
    {
        st.fault_state.flood_rejections += 1;
        return Err(ApiError::too_many_requests(retry_after));
    }
    Ok(())
}

fn chat_mut(st: &mut State, id: i64) -> Result<&mut ChatState, ApiError> {
    st.chats.get_mut(&id).ok_or_else(ApiError::chat_not_found)
}

fn message_id(p: &Params) -> Result<i32, ApiError> {
    let id = p
        .i64("message_id")?
        .ok_or_else(|| ApiError::bad_request("message identifier is not specified"))?;
    i32::try_from(id).map_err(|_| ApiError::bad_request("MESSAGE_ID_INVALID"))
}

// ------------------------------------------------------------ markup and text

fn parse_markup(p: &Params) -> Result<Markup, ApiError> {
    let bad = || ApiError::bad_request("can't parse reply keyboard markup JSON object");
    let Some(v) = p.json("reply_markup").map_err(|_| bad())? else {
        return Ok(Markup::None);
    };
    if let Some(rows) = v.get("inline_keyboard") {
        let rows = rows.as_array().ok_or_else(bad)?;
        for row in rows {
            for b in row.as_array().ok_or_else(bad)? {
                validate_inline_button(b)?;
            }
        }
        if rows.iter().all(|r| r.as_array().is_some_and(Vec::is_empty)) {
            return Ok(Markup::None);
        }
        return Ok(Markup::Inline(json!({ "inline_keyboard": rows })));
    }
    if let Some(rows) = v.get("keyboard") {
        let rows = rows.as_array().ok_or_else(bad)?;
        for row in rows {
            for b in row.as_array().ok_or_else(bad)? {
                let label = b.as_str().or_else(|| b["text"].as_str());
                if label.is_none_or(str::is_empty) {
                    return Err(ApiError::bad_request("keyboard button text is empty"));
                }
            }
        }
        return Ok(Markup::Reply(v));
    }
    if v["remove_keyboard"].as_bool() == Some(true) {
        return Ok(Markup::Remove);
    }
    if v["force_reply"].as_bool() == Some(true) {
        return Ok(Markup::ForceReply);
    }
    Err(bad())
}

const BUTTON_ACTIONS: &[&str] = &[
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
];

fn validate_inline_button(b: &Value) -> Result<(), ApiError> {
    if b["text"].as_str().is_none() {
        return Err(ApiError::bad_request(
            "can't parse inline keyboard button: Field \"text\" must be of type String",
        ));
    }
    let actions = BUTTON_ACTIONS
        .iter()
        .filter(|k| b.get(**k).is_some_and(|v| !v.is_null()))
        .count();
    if actions != 1 {
        return Err(ApiError::bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ));
    }
    if let Some(data) = b.get("callback_data") {
        let len = data.as_str().map_or(0, str::len);
        if len == 0 || len > 64 {
            return Err(ApiError::bad_request("BUTTON_DATA_INVALID"));
        }
    }
    if let Some(url) = b.get("url") {
        let ok = url.as_str().is_some_and(|u| {
            u.starts_with("http://") || u.starts_with("https://") || u.starts_with("tg://")
        });
        if !ok {
            return Err(ApiError::bad_request("BUTTON_URL_INVALID"));
        }
    }
    Ok(())
}

/// Text (or caption) after `parse_mode`/`entities`.
fn parsed_text(p: &Params, field: &str) -> Result<markup::Parsed, ApiError> {
    let raw = p.str(field).unwrap_or_default();
    let entities_field = if field == "caption" {
        "caption_entities"
    } else {
        "entities"
    };
    match p.json(entities_field)? {
        Some(Value::Array(entities)) => Ok(markup::Parsed {
            text: raw,
            entities,
        }),
        _ => markup::parse(&raw, p.str("parse_mode").as_deref()),
    }
}

fn check_text(text: &str, too_long: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("message text is empty"));
    }
    if utf16_len(text) > MAX_TEXT {
        return Err(ApiError::bad_request(too_long));
    }
    Ok(())
}

fn reply_target(chat: &ChatState, p: &Params) -> Result<Option<Value>, ApiError> {
    let (id, allow) = match p.json("reply_parameters")? {
        Some(rp) => {
            let id = rp["message_id"].as_i64();
            let allow = rp["allow_sending_without_reply"].as_bool().unwrap_or(false);
            (id, allow)
        }
        None => (
            p.i64("reply_to_message_id")?,
            p.flag("allow_sending_without_reply"),
        ),
    };
    let Some(id) = id else { return Ok(None) };
    match i32::try_from(id).ok().and_then(|id| chat.live(id)) {
        Some(m) => {
            let mut v = m.json.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("reply_to_message");
            }
            Ok(Some(v))
        }
        None if allow => Ok(None),
        None => Err(ApiError::bad_request("message to be replied not found")),
    }
}

/// Common part of every message the bot sends.
fn bot_message_base(st: &State, chat: &ChatState, id: i32, date: i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("message_id".into(), json!(id));
    if chat.chat.kind == ChatKind::Channel {
        m.insert("sender_chat".into(), chat.chat.to_json());
    } else {
        m.insert("from".into(), st.bot.user_json());
    }
    m.insert("chat".into(), chat.chat.to_json());
    m.insert("date".into(), json!(date));
    m
}

/// Adds markup, protection and reply fields, stores the message and returns it.
fn finish_send(
    st: &mut State,
    chat_id: i64,
    mut m: Map<String, Value>,
    markup: Markup,
    p: &Params,
    reply: Option<Value>,
) -> Result<Value, ApiError> {
    if let Markup::Inline(v) = &markup {
        m.insert("reply_markup".into(), v.clone());
    }
    if p.flag("protect_content") {
        m.insert("has_protected_content".into(), json!(true));
    }
    if let Some(r) = reply {
        m.insert("reply_to_message".into(), r);
    }
    let id = m["message_id"]
        .as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or_default();
    let date = m["date"].as_i64().unwrap_or_default();
    let json = Value::Object(m);
    let chat = chat_mut(st, chat_id)?;
    match &markup {
        Markup::Reply(v) => chat.reply_keyboard = Some(v.clone()),
        Markup::Remove => chat.reply_keyboard = None,
        _ => {}
    }
    chat.messages.insert(
        id,
        StoredMessage {
            id,
            sender: Sender::Bot,
            date,
            json: json.clone(),
            markup,
            deleted: false,
            edits: 0,
        },
    );
    chat.events.push(ChatEvent::Message(id));
    Ok(json)
}

// ------------------------------------------------------------ sending

fn send_message(st: &mut State, p: &Params, out: &mut Option<i64>) -> Result<Value, ApiError> {
    let chat_id = chat_for_send(st, p, out)?;
    flood(st, "sendMessage", chat_id)?;
    let parsed = parsed_text(p, "text")?;
    check_text(&parsed.text, "message is too long")?;
    let markup = parse_markup(p)?;
    let now = st.now();
    let chat = chat_mut(st, chat_id)?;
    let reply = reply_target(chat, p)?;
    let id = chat.alloc_message_id();
    let mut m = bot_message_base(
        st,
        st.chats
            .get(&chat_id)
            .ok_or_else(ApiError::chat_not_found)?,
        id,
        now,
    );
    m.insert("text".into(), json!(parsed.text));
    if !parsed.entities.is_empty() {
        m.insert("entities".into(), Value::Array(parsed.entities));
    }
    let preview = match p.json("link_preview_options")? {
        Some(v) => Some(v),
        None if p.flag("disable_web_page_preview") => Some(json!({ "is_disabled": true })),
        None => None,
    };
    if let Some(v) = preview {
        m.insert("link_preview_options".into(), v);
    }
    finish_send(st, chat_id, m, markup, p, reply)
}

fn ext_of(name: Option<&str>, default: &str) -> String {
    name.and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| default.to_owned())
}

fn send_media(
    st: &mut State,
    p: &mut Params,
    out: &mut Option<i64>,
    field: &'static str,
) -> Result<Value, ApiError> {
    let method = match field {
        "photo" => "sendPhoto",
        "voice" => "sendVoice",
        "audio" => "sendAudio",
        "video" => "sendVideo",
        "animation" => "sendAnimation",
        _ => "sendDocument",
    };
    let chat_id = chat_for_send(st, p, out)?;
    flood(st, method, chat_id)?;
    let wrong_file = || ApiError::bad_request("wrong file identifier/HTTP URL specified");

    // Resolve the input file: a direct upload, attach://part, or a known file_id.
    let spec = p.str(field);
    let (upload, part) = match spec.as_deref() {
        _ if p.upload(field).is_some() => (p.upload(field).cloned(), field.to_owned()),
        Some(s) if s.starts_with("attach://") => {
            let part = &s["attach://".len()..];
            (
                Some(p.upload(part).cloned().ok_or_else(wrong_file)?),
                part.to_owned(),
            )
        }
        Some(s) if s.starts_with("http://") || s.starts_with("https://") => {
            // The simulator has no network to fetch from.
            return Err(ApiError::bad_request("failed to get HTTP URL content"));
        }
        Some(_) => (None, String::new()),
        None => {
            return Err(ApiError::bad_request(format!(
                "there is no {field} in the request"
            )));
        }
    };
    let caption = if p.str("caption").is_some() {
        Some(parsed_text(p, "caption")?)
    } else {
        None
    };
    if let Some(c) = &caption
        && utf16_len(&c.text) > MAX_CAPTION
    {
        return Err(ApiError::bad_request("message caption is too long"));
    }
    let markup = parse_markup(p)?;
    let reply = reply_target(
        st.chats
            .get(&chat_id)
            .ok_or_else(ApiError::chat_not_found)?,
        p,
    )?;

    let (file_id, file_name, mime) = match upload {
        Some(up) => {
            if up.bytes.is_empty() {
                return Err(ApiError::bad_request("file must be non-empty"));
            }
            if up.bytes.len() > MAX_UPLOAD {
                return Err(ApiError::entity_too_large());
            }
            let (dir, default_ext) = match field {
                "photo" => ("photos", "jpg"),
                "voice" => ("voice", "oga"),
                "audio" => ("music", "mp3"),
                "video" => ("videos", "mp4"),
                "animation" => ("animations", "mp4"),
                _ => ("documents", "bin"),
            };
            let ext = ext_of(up.file_name.as_deref(), default_ext);
            let size = up.bytes.len();
            let file = st.register_file(up.bytes.clone(), dir, &ext);
            let descriptor = json!({ "upload": { "file_name": up.file_name, "size": size, "file_id": file.file_id } });
            p.resolve_upload(field, &part, descriptor);
            (
                file.file_id,
                up.file_name.filter(|n| !n.is_empty()),
                up.content_type,
            )
        }
        None => {
            let id = spec.ok_or_else(wrong_file)?;
            if !st.files.contains_key(&id) {
                return Err(wrong_file());
            }
            (id, None, None)
        }
    };

    let mut media = st.file_json(&file_id).map_err(|_| wrong_file())?;
    let int = |name: &str, default: i64| p.i64(name).ok().flatten().unwrap_or(default);
    let mut extra = Map::new();
    match field {
        "photo" => {}
        "voice" => {
            extra.insert("duration".into(), json!(int("duration", 0)));
            extra.insert("mime_type".into(), json!("audio/ogg"));
        }
        "audio" => {
            extra.insert("duration".into(), json!(int("duration", 0)));
            extra.insert(
                "mime_type".into(),
                json!(mime.clone().unwrap_or_else(|| "audio/mpeg".into())),
            );
            for k in ["title", "performer"] {
                if let Some(v) = p.str(k) {
                    extra.insert(k.into(), json!(v));
                }
            }
        }
        "video" | "animation" => {
            extra.insert("width".into(), json!(int("width", 1280)));
            extra.insert("height".into(), json!(int("height", 720)));
            extra.insert("duration".into(), json!(int("duration", 0)));
            extra.insert("mime_type".into(), json!("video/mp4"));
        }
        _ => {
            let guessed = match ext_of(file_name.as_deref(), "bin").as_str() {
                "pdf" => "application/pdf",
                "txt" => "text/plain",
                "json" => "application/json",
                "jpg" | "jpeg" => "image/jpeg",
                "png" => "image/png",
                "zip" => "application/zip",
                _ => "application/octet-stream",
            };
            let mime = mime
                .filter(|m| m != "application/octet-stream")
                .unwrap_or_else(|| guessed.to_owned());
            extra.insert("mime_type".into(), json!(mime));
        }
    }
    if let Some(n) = &file_name
        && field != "photo"
        && field != "voice"
    {
        extra.insert("file_name".into(), json!(n));
    }
    media.extend(extra);

    let now = st.now();
    let photo = if field == "photo" {
        Some(st.photo_sizes(&file_id).map_err(|_| wrong_file())?)
    } else {
        None
    };
    let chat = chat_mut(st, chat_id)?;
    let id = chat.alloc_message_id();
    let mut m = bot_message_base(
        st,
        st.chats
            .get(&chat_id)
            .ok_or_else(ApiError::chat_not_found)?,
        id,
        now,
    );
    match photo {
        Some(sizes) => {
            m.insert("photo".into(), sizes);
        }
        None => {
            if field == "animation" {
                m.insert("document".into(), Value::Object(media.clone()));
            }
            m.insert(field.into(), Value::Object(media));
        }
    }
    if let Some(c) = caption {
        m.insert("caption".into(), json!(c.text));
        if !c.entities.is_empty() {
            m.insert("caption_entities".into(), Value::Array(c.entities));
        }
    }
    finish_send(st, chat_id, m, markup, p, reply)
}

// ------------------------------------------------------------ editing

fn find_bot_message(chat: &mut ChatState, id: i32) -> Result<&mut StoredMessage, ApiError> {
    let m = chat
        .messages
        .get_mut(&id)
        .filter(|m| !m.deleted)
        .ok_or_else(|| ApiError::bad_request("message to edit not found"))?;
    if m.sender != Sender::Bot {
        return Err(ApiError::bad_request("message can't be edited"));
    }
    Ok(m)
}

fn inline_markup(p: &Params) -> Result<Option<Value>, ApiError> {
    match parse_markup(p)? {
        Markup::Inline(v) => Ok(Some(v)),
        Markup::None => Ok(None),
        _ => Err(ApiError::bad_request("inline keyboard expected")),
    }
}

fn not_modified() -> ApiError {
    ApiError::bad_request(
        "message is not modified: specified new message content and reply markup are exactly the same as a current \
         content and reply markup of the message",
    )
}

fn edit_text(
    st: &mut State,
    p: &Params,
    out: &mut Option<i64>,
    field: &str,
) -> Result<Value, ApiError> {
    if p.str("inline_message_id").is_some() {
        return Err(ApiError::bad_request("MESSAGE_ID_INVALID"));
    }
    let chat_id = chat_for_send(st, p, out)?;
    let method = if field == "text" {
        "editMessageText"
    } else {
        "editMessageCaption"
    };
    flood(st, method, chat_id)?;
    let id = message_id(p)?;
    let parsed = parsed_text(p, field)?;
    let new_markup = inline_markup(p)?;
    let now = st.now();
    let msg = find_bot_message(chat_mut(st, chat_id)?, id)?;
    let has_field = if field == "text" {
        msg.json.get("text").is_some()
    } else {
        !matches!(
            super::state::content_kind(&msg.json),
            ContentKind::Text | ContentKind::Other
        )
    };
    if !has_field {
        return Err(ApiError::bad_request(format!(
            "there is no {field} in the message to edit"
        )));
    }
    if field == "text" {
        check_text(&parsed.text, "MESSAGE_TOO_LONG")?;
    } else if utf16_len(&parsed.text) > MAX_CAPTION {
        return Err(ApiError::bad_request("message caption is too long"));
    }
    let entities_key = if field == "text" {
        "entities"
    } else {
        "caption_entities"
    };
    let old_text = msg.json[field].as_str().unwrap_or_default();
    let old_entities = msg
        .json
        .get(entities_key)
        .cloned()
        .unwrap_or_else(|| json!([]));
    let old_markup = msg.json.get("reply_markup").cloned();
    if old_text == parsed.text
        && old_entities == Value::Array(parsed.entities.clone())
        && old_markup == new_markup
    {
        return Err(not_modified());
    }
    let Some(o) = msg.json.as_object_mut() else {
        return Err(ApiError::bad_request("message can't be edited"));
    };
    o.insert(field.into(), json!(parsed.text));
    if parsed.entities.is_empty() {
        o.remove(entities_key);
    } else {
        o.insert(entities_key.into(), Value::Array(parsed.entities));
    }
    // Telegram drops the inline keyboard when an edit does not repeat it.
    match &new_markup {
        Some(v) => o.insert("reply_markup".into(), v.clone()),
        None => o.remove("reply_markup"),
    };
    if field == "text"
        && let Some(v) = p.json("link_preview_options")?
    {
        o.insert("link_preview_options".into(), v);
    }
    o.insert("edit_date".into(), json!(now));
    msg.markup = new_markup.map_or(Markup::None, Markup::Inline);
    msg.edits += 1;
    Ok(msg.json.clone())
}

fn edit_reply_markup(st: &mut State, p: &Params, out: &mut Option<i64>) -> Result<Value, ApiError> {
    if p.str("inline_message_id").is_some() {
        return Err(ApiError::bad_request("MESSAGE_ID_INVALID"));
    }
    let chat_id = chat_for_send(st, p, out)?;
    flood(st, "editMessageReplyMarkup", chat_id)?;
    let id = message_id(p)?;
    let new_markup = inline_markup(p)?;
    let msg = find_bot_message(chat_mut(st, chat_id)?, id)?;
    if msg.json.get("reply_markup").cloned() == new_markup {
        return Err(not_modified());
    }
    if let Some(o) = msg.json.as_object_mut() {
        match &new_markup {
            Some(v) => o.insert("reply_markup".into(), v.clone()),
            None => o.remove("reply_markup"),
        };
    }
    msg.markup = new_markup.map_or(Markup::None, Markup::Inline);
    Ok(msg.json.clone())
}

// ------------------------------------------------------------ callbacks, deletion, leaving, files

fn answer_callback(st: &mut State, p: &Params, out: &mut Option<i64>) -> Result<Value, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "query is too old and response timeout expired or query id is invalid",
        )
    };
    let id = p.str("callback_query_id").ok_or_else(invalid)?;
    let cb: &mut CallbackState = st.callbacks.get_mut(&id).ok_or_else(invalid)?;
    if cb.answered {
        return Err(invalid());
    }
    cb.answered = true;
    let chat_id = cb.chat_id;
    *out = Some(chat_id);
    let text = p.str("text").filter(|t| !t.is_empty());
    if text.is_some()
        && let Some(chat) = st.chats.get_mut(&chat_id)
    {
        chat.events.push(ChatEvent::CallbackAnswer {
            text,
            show_alert: p.flag("show_alert"),
        });
    }
    Ok(json!(true))
}

/// Telegram's deleteMessage rules for one message.
fn check_deletable(chat: &ChatState, id: i32, now: i64) -> Result<(), ApiError> {
    let m = chat
        .live(id)
        .ok_or_else(|| ApiError::bad_request("message to delete not found"))?;
    let age = now - m.date;
    let too_old = || ApiError::bad_request("message can't be deleted for everyone");
    let forbidden = || ApiError::bad_request("message can't be deleted");
    match chat.chat.kind {
        ChatKind::Private => {
            if m.sender != Sender::Bot
                && m.json.get("dice").is_some()
                && age < DICE_PRIVATE_MIN_AGE_SECS
            {
                return Err(forbidden());
            }
            if age >= DELETE_WINDOW_SECS {
                return Err(too_old());
            }
        }
        ChatKind::Group | ChatKind::Supergroup => {
            let admin_any_age = chat.bot_is_admin && chat.chat.kind == ChatKind::Supergroup;
            if m.sender != Sender::Bot && !chat.bot_is_admin {
                return Err(forbidden());
            }
            if age >= DELETE_WINDOW_SECS && !admin_any_age {
                return Err(too_old());
            }
        }
        ChatKind::Channel => {
            if !chat.bot_is_admin {
                return Err(forbidden());
            }
        }
    }
    Ok(())
}

fn delete_message(st: &mut State, p: &Params, out: &mut Option<i64>) -> Result<Value, ApiError> {
    let chat_id = chat_for_send(st, p, out)?;
    let id = message_id(p)?;
    let now = st.now();
    let chat = chat_mut(st, chat_id)?;
    check_deletable(chat, id, now)?;
    if let Some(m) = chat.messages.get_mut(&id) {
        m.deleted = true;
    }
    Ok(json!(true))
}

fn delete_messages(st: &mut State, p: &Params, out: &mut Option<i64>) -> Result<Value, ApiError> {
    let chat_id = chat_for_send(st, p, out)?;
    let ids: Vec<i64> = match p.json("message_ids")? {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
        _ => Vec::new(),
    };
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "message identifiers are not specified",
        ));
    }
    if ids.len() > 100 {
        return Err(ApiError::bad_request(
            "too many message identifiers specified",
        ));
    }
    let now = st.now();
    let chat = chat_mut(st, chat_id)?;
    // Per the Bot API, messages that can't be found or deleted are skipped.
    for id in ids.into_iter().filter_map(|i| i32::try_from(i).ok()) {
        if check_deletable(chat, id, now).is_ok()
            && let Some(m) = chat.messages.get_mut(&id)
        {
            m.deleted = true;
        }
    }
    Ok(json!(true))
}

fn leave_chat(st: &mut State, p: &Params, out: &mut Option<i64>) -> Result<Value, ApiError> {
    let chat_id = resolve_chat_id(st, p)?;
    let chat = chat_mut(st, chat_id)?;
    *out = Some(chat_id);
    if chat.chat.kind == ChatKind::Private {
        return Err(ApiError::bad_request(
            "chat member status can't be changed in private chats",
        ));
    }
    if chat.bot_left {
        return Err(not_member(chat.chat.kind));
    }
    chat.bot_left = true;
    chat.events.push(ChatEvent::BotLeft);
    Ok(json!(true))
}

fn get_file(st: &State, p: &Params) -> Result<Value, ApiError> {
    let id = p.str("file_id").unwrap_or_default();
    let f = st
        .files
        .get(&id)
        .ok_or_else(|| ApiError::bad_request("invalid file_id"))?;
    if f.file_ref.size > MAX_DOWNLOAD {
        return Err(ApiError::bad_request("file is too big"));
    }
    Ok(json!({
        "file_id": f.file_ref.file_id,
        "file_unique_id": f.file_ref.file_unique_id,
        "file_size": f.file_ref.size,
        "file_path": f.path,
    }))
}

// ------------------------------------------------------------ webhook and bot settings

fn set_webhook(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let url = p.str("url").unwrap_or_default();
    if p.flag("drop_pending_updates") {
        st.pending.clear();
    }
    if url.is_empty() {
        st.webhook = None;
        return Ok(json!(true));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::bad_request(
            "bad webhook: HTTPS url must be provided for webhook",
        ));
    }
    let secret = p.str("secret_token").filter(|s| !s.is_empty());
    if let Some(s) = &secret
        && (s.len() > 256
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(ApiError::bad_request(
            "secret token contains unallowed characters",
        ));
    }
    let allowed_updates = match p.json("allowed_updates")? {
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    };
    let max_connections = p
        .i64("max_connections")?
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(40);
    st.webhook = Some(WebhookState {
        urls: vec![url],
        secret,
        routing: WebhookRouting::RoundRobin,
        next_target: 0,
        max_connections,
        last_error: None,
        allowed_updates,
    });
    Ok(json!(true))
}

fn webhook_info(st: &State) -> Value {
    let pending = st.pending.len();
    match &st.webhook {
        None => {
            json!({ "url": "", "has_custom_certificate": false, "pending_update_count": pending })
        }
        Some(w) => {
            let mut v = json!({
                "url": w.urls.first().cloned().unwrap_or_default(),
                "has_custom_certificate": false,
                "pending_update_count": pending,
                "max_connections": w.max_connections,
                "ip_address": "127.0.0.1",
            });
            if let Some(o) = v.as_object_mut() {
                if let Some((date, msg)) = &w.last_error {
                    o.insert("last_error_date".into(), json!(date));
                    o.insert("last_error_message".into(), json!(msg));
                }
                if let Some(a) = &w.allowed_updates {
                    o.insert("allowed_updates".into(), json!(a));
                }
            }
            v
        }
    }
}

fn commands_key(p: &Params) -> Result<(String, String), ApiError> {
    let scope = p
        .json("scope")?
        .unwrap_or_else(|| json!({ "type": "default" }));
    // serde_json maps are ordered, so equal scopes serialize identically.
    let scope = serde_json::to_string(&scope)
        .map_err(|_| ApiError::bad_request("can't parse scope JSON object"))?;
    Ok((scope, p.str("language_code").unwrap_or_default()))
}

fn set_my_commands(st: &mut State, p: &Params) -> Result<Value, ApiError> {
    let commands = match p.json("commands")? {
        Some(Value::Array(a)) => a,
        _ => return Err(ApiError::bad_request("parameter \"commands\" is required")),
    };
    if commands.len() > 100 {
        return Err(ApiError::bad_request("BOT_COMMANDS_TOO_MUCH"));
    }
    for c in &commands {
        let name = c["command"].as_str().unwrap_or_default();
        let valid = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !valid {
            return Err(ApiError::bad_request("BOT_COMMAND_INVALID"));
        }
        let desc = c["description"].as_str().unwrap_or_default();
        if desc.is_empty() || desc.chars().count() > 256 {
            return Err(ApiError::bad_request("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
    }
    let key = commands_key(p)?;
    let normalized: Vec<Value> = commands
        .iter()
        .map(|c| json!({ "command": c["command"], "description": c["description"] }))
        .collect();
    st.commands.insert(key, Value::Array(normalized));
    Ok(json!(true))
}

fn set_bot_text(st: &mut State, p: &Params, field: &str, max: usize) -> Result<Value, ApiError> {
    let lang = p.str("language_code").unwrap_or_default();
    let value = p.str(field).unwrap_or_default();
    if value.chars().count() > max {
        return Err(ApiError::bad_request(format!(
            "{} is too long",
            field.replace('_', " ")
        )));
    }
    if value.is_empty() {
        st.bot_texts.remove(&(field.to_owned(), lang));
    } else {
        st.bot_texts.insert((field.to_owned(), lang), value);
    }
    Ok(json!(true))
}

fn get_bot_text(st: &State, p: &Params, field: &str) -> Value {
    let lang = p.str("language_code").unwrap_or_default();
    let value = st
        .bot_texts
        .get(&(field.to_owned(), lang))
        .cloned()
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert(field.to_owned(), json!(value));
    Value::Object(m)
}

/// The chat a visible call is about to act on, read before the call runs so
/// a citizen can tell the bot is still busy with its chat.
pub(crate) fn chat_hint(st: &State, method: &str, p: &Params) -> Option<i64> {
    if !super::state::VISIBLE_METHODS.contains(&method) {
        return None;
    }
    if method == "answerCallbackQuery" {
        return p
            .str("callback_query_id")
            .and_then(|id| st.callbacks.get(&id))
            .map(|c| c.chat_id);
    }
    resolve_chat_id(st, p)
        .ok()
        .filter(|id| st.chats.contains_key(id))
}

/// Immediate part of getUpdates: confirms, filters and returns ready updates.
pub(crate) fn take_updates(
    st: &mut State,
    offset: Option<i64>,
    limit: usize,
) -> Result<Vec<Value>, ApiError> {
    if st.webhook.is_some() {
        return Err(ApiError::conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        ));
    }
    match offset {
        Some(off) if off < 0 => {
            // Negative offsets keep only the last |off| updates; older ones are forgotten.
            let keep = usize::try_from(off.unsigned_abs()).unwrap_or(usize::MAX);
            while st.pending.len() > keep {
                st.pending.pop_front();
            }
        }
        Some(off) => {
            while st.pending.front().is_some_and(|u| i64::from(u.id) < off) {
                st.pending.pop_front();
            }
        }
        None => {}
    }
    if let Some(allowed) = st.allowed_updates.as_ref().filter(|a| !a.is_empty()) {
        // Telegram drops updates of kinds the bot did not ask for.
        st.pending.retain(|u| allowed.iter().any(|a| a == u.kind));
    }
    let now = tokio::time::Instant::now();
    let batch: Vec<(u32, Value)> = st
        .pending
        .iter()
        .take(limit)
        .map(|u| (u.id, u.json.clone()))
        .collect();
    Ok(batch
        .into_iter()
        .map(|(id, json)| {
            st.delivered.entry(id).or_insert(now);
            json
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::clock::SimClock;
    use crate::sim::state::BotIdentity;
    use crate::sim::types::{SimChat, SimUser};

    fn state() -> State {
        let bot = BotIdentity {
            id: 1,
            first_name: "Bot".into(),
            username: "bot".into(),
        };
        let mut st = State::new(bot, SimClock::new(Some(1_700_000_000)), 1, true);
        let user = SimUser::new(42, "An");
        st.inject_message(Some(&user), &SimChat::private(&user), &"hi".into())
            .unwrap();
        st
    }

    fn run(st: &mut State, method: &'static str, v: Value) -> Result<Value, ApiError> {
        call(st, method, &mut Params::from_json(v)).result
    }

    #[test]
    fn canonical_names_are_case_insensitive() {
        assert_eq!(canonical("SENDMESSAGE"), Some("sendMessage"));
        assert_eq!(canonical("getupdates"), Some("getUpdates"));
        assert_eq!(canonical("sendCarrierPigeon"), None);
    }

    #[test]
    fn send_validations() {
        let mut st = state();
        let e = run(&mut st, "sendMessage", json!({"chat_id": 42, "text": "  "})).unwrap_err();
        assert_eq!(e.description, "Bad Request: message text is empty");
        let e = run(
            &mut st,
            "sendMessage",
            json!({"chat_id": 42, "text": "x".repeat(4097)}),
        )
        .unwrap_err();
        assert_eq!(e.description, "Bad Request: message is too long");
        let e = run(&mut st, "sendMessage", json!({"chat_id": 7, "text": "x"})).unwrap_err();
        assert_eq!(e.description, "Bad Request: chat not found");
        let e = run(
            &mut st,
            "sendMessage",
            json!({"chat_id": 42, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "A"}]]}}),
        )
        .unwrap_err();
        assert!(e.description.contains("Text buttons are unallowed"));
        let m = run(
            &mut st,
            "sendMessage",
            json!({"chat_id": "42", "text": "ok"}),
        )
        .unwrap();
        assert_eq!(m["message_id"], 2);
    }

    #[test]
    fn edit_without_markup_drops_keyboard_and_detects_no_change() {
        let mut st = state();
        let kb = json!({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]});
        run(
            &mut st,
            "sendMessage",
            json!({"chat_id": 42, "text": "q", "reply_markup": kb}),
        )
        .unwrap();
        let e = run(
            &mut st,
            "editMessageText",
            json!({"chat_id": 42, "message_id": 2, "text": "q", "reply_markup": kb}),
        )
        .unwrap_err();
        assert!(
            e.description
                .starts_with("Bad Request: message is not modified")
        );
        let m = run(
            &mut st,
            "editMessageText",
            json!({"chat_id": 42, "message_id": 2, "text": "q"}),
        )
        .unwrap();
        assert!(m.get("reply_markup").is_none());
        let e = run(
            &mut st,
            "editMessageText",
            json!({"chat_id": 42, "message_id": 1, "text": "z"}),
        )
        .unwrap_err();
        assert_eq!(e.description, "Bad Request: message can't be edited");
    }

    #[test]
    fn delete_rules() {
        let mut st = state();
        assert!(
            run(
                &mut st,
                "deleteMessage",
                json!({"chat_id": 42, "message_id": 1})
            )
            .is_ok()
        );
        let e = run(
            &mut st,
            "deleteMessage",
            json!({"chat_id": 42, "message_id": 1}),
        )
        .unwrap_err();
        assert_eq!(e.description, "Bad Request: message to delete not found");
        run(&mut st, "sendMessage", json!({"chat_id": 42, "text": "x"})).unwrap();
        st.clock.advance(std::time::Duration::from_secs(48 * 3600));
        let e = run(
            &mut st,
            "deleteMessage",
            json!({"chat_id": 42, "message_id": 2}),
        )
        .unwrap_err();
        assert_eq!(
            e.description,
            "Bad Request: message can't be deleted for everyone"
        );
    }

    #[test]
    fn callbacks_markup_edits_and_webhook_validation() {
        let mut st = state();
        let kb = json!({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]});
        run(
            &mut st,
            "sendMessage",
            json!({"chat_id": 42, "text": "q", "reply_markup": kb}),
        )
        .unwrap();
        let user = SimUser::new(42, "An");
        let cb = st
            .inject_callback(&user, 42, 2, "a")
            .unwrap()
            .callback_query_id
            .unwrap();
        assert!(
            run(
                &mut st,
                "answerCallbackQuery",
                json!({"callback_query_id": cb})
            )
            .is_ok()
        );
        let e = run(
            &mut st,
            "answerCallbackQuery",
            json!({"callback_query_id": cb}),
        )
        .unwrap_err();
        assert!(e.description.contains("query is too old"));
        let e = run(
            &mut st,
            "editMessageReplyMarkup",
            json!({"chat_id": 42, "message_id": 2, "reply_markup": kb}),
        )
        .unwrap_err();
        assert!(
            e.description
                .starts_with("Bad Request: message is not modified")
        );
        let m = run(
            &mut st,
            "editMessageReplyMarkup",
            json!({"chat_id": 42, "message_id": 2}),
        )
        .unwrap();
        assert!(m.get("reply_markup").is_none());
        let e = run(
            &mut st,
            "setWebhook",
            json!({"url": "https://x.test/h", "secret_token": "a b"}),
        )
        .unwrap_err();
        assert_eq!(
            e.description,
            "Bad Request: secret token contains unallowed characters"
        );
        let e = run(&mut st, "setWebhook", json!({"url": "ftp://x"})).unwrap_err();
        assert!(e.description.contains("HTTPS url must be provided"));
        run(
            &mut st,
            "setWebhook",
            json!({"url": "http://127.0.0.1:1/h"}),
        )
        .unwrap();
        let info = run(&mut st, "getWebhookInfo", json!({})).unwrap();
        assert_eq!(info["url"], "http://127.0.0.1:1/h");
        assert_eq!(info["pending_update_count"], 2);
        assert_eq!(take_updates(&mut st, None, 10).unwrap_err().code, 409);
    }

    #[test]
    fn group_deletion_needs_admin_for_others_messages() {
        let mut st = state();
        let group = SimChat::public(-5, ChatKind::Group, "G");
        let user = SimUser::new(42, "An");
        st.inject_message(Some(&user), &group, &"x".into()).unwrap();
        let e = run(
            &mut st,
            "deleteMessage",
            json!({"chat_id": -5, "message_id": 1}),
        )
        .unwrap_err();
        assert_eq!(e.description, "Bad Request: message can't be deleted");
        st.chats.get_mut(&-5).unwrap().bot_is_admin = true;
        assert!(
            run(
                &mut st,
                "deleteMessage",
                json!({"chat_id": -5, "message_id": 1})
            )
            .is_ok()
        );
    }

    #[test]
    fn get_updates_offsets() {
        let mut st = state();
        let user = SimUser::new(42, "An");
        for _ in 0..3 {
            st.inject_message(Some(&user), &SimChat::private(&user), &"m".into())
                .unwrap();
        }
        assert_eq!(take_updates(&mut st, None, 100).unwrap().len(), 4);
        assert_eq!(
            take_updates(&mut st, Some(3), 1).unwrap()[0]["update_id"],
            3
        );
        assert_eq!(take_updates(&mut st, Some(0), 100).unwrap().len(), 2);
        assert_eq!(
            take_updates(&mut st, Some(-1), 100).unwrap()[0]["update_id"],
            4
        );
    }
}
