//! The simulator's in-memory Telegram: chats, messages, files, the update
//! queue, recorded calls and configuration.
//!
//! Invariants:
//! - One [`State`] behind one `std::sync::Mutex`; every critical section is
//!   short and synchronous and never spans an `.await`, so a std mutex is both
//!   correct and cheaper than tokio's, and it can be read from sync test code.
//! - Message ids are per chat, start at 1 and are shared by the bot's and the
//!   users' messages, as on Telegram; they never repeat, even after deletion.
//! - Update ids increase by one per update and are never reused; an update
//!   leaves `pending` only when confirmed (getUpdates offset), delivered
//!   (webhook 2xx) or dropped (deleteWebhook with drop_pending_updates).
//! - A chat's `last_touch` only moves when a *successful* call that a person
//!   would notice (send, edit, delete, callback answer, leave) acts on it;
//!   [`crate::sim::Citizen`] relies on this to know the bot has responded.

use std::collections::{BTreeMap, HashMap, VecDeque};

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::clock::SimClock;
use super::faults::{FaultState, Faults};
use super::types::{
    ApiCall, Button, CallOutcome, ChatEvent, ChatKind, ChatMessage, ChatSnapshot, ContentKind,
    FileRef, ReplyKeyboard, Sender, SimChat, WebhookDelivery, WebhookRouting,
};

/// The bot the simulator pretends to serve.
#[derive(Clone, Debug)]
pub(crate) struct BotIdentity {
    pub id: u64,
    pub first_name: String,
    pub username: String,
}

impl BotIdentity {
    pub(crate) fn user_json(&self) -> Value {
        json!({ "id": self.id, "is_bot": true, "first_name": self.first_name, "username": self.username })
    }

    /// `getMe`: every field teloxide-core's `Me` requires.
    pub(crate) fn me_json(&self) -> Value {
        json!({
            "id": self.id,
            "is_bot": true,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": false,
            "can_connect_to_business": false,
            "has_main_web_app": false,
        })
    }
}

/// A registered file.
#[derive(Clone, Debug)]
pub(crate) struct StoredFile {
    pub file_ref: FileRef,
    pub bytes: Bytes,
    pub path: String,
}

/// The reply markup a message was sent with.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Markup {
    None,
    Inline(Value),
    Reply(Value),
    Remove,
    ForceReply,
}

/// One message in a chat.
#[derive(Clone, Debug)]
pub(crate) struct StoredMessage {
    pub id: i32,
    pub sender: Sender,
    pub date: i64,
    /// The full Bot API `Message` in its current state.
    pub json: Value,
    pub markup: Markup,
    pub deleted: bool,
    pub edits: u32,
}

/// When a bot call last acted on a chat.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Touch {
    pub seq: u64,
    pub at: Instant,
}

/// One chat.
#[derive(Debug)]
pub(crate) struct ChatState {
    pub chat: SimChat,
    pub next_message_id: i32,
    pub messages: BTreeMap<i32, StoredMessage>,
    pub events: Vec<ChatEvent>,
    pub bot_left: bool,
    pub blocked: bool,
    /// For private chats: the user has written to the bot at least once.
    pub started: bool,
    pub migrated_to: Option<i64>,
    pub bot_is_admin: bool,
    pub reply_keyboard: Option<Value>,
    pub last_touch: Option<Touch>,
    /// Requests for this chat received but not yet answered (stalls included).
    pub in_flight: u32,
}

impl ChatState {
    pub(crate) fn new(chat: SimChat) -> Self {
        Self {
            chat,
            next_message_id: 1,
            messages: BTreeMap::new(),
            events: Vec::new(),
            bot_left: false,
            blocked: false,
            started: false,
            migrated_to: None,
            bot_is_admin: false,
            reply_keyboard: None,
            last_touch: None,
            in_flight: 0,
        }
    }

    pub(crate) fn alloc_message_id(&mut self) -> i32 {
        let id = self.next_message_id;
        self.next_message_id = self.next_message_id.saturating_add(1);
        id
    }

    /// A live (not deleted) message.
    pub(crate) fn live(&self, id: i32) -> Option<&StoredMessage> {
        self.messages.get(&id).filter(|m| !m.deleted)
    }

    pub(crate) fn snapshot(&self) -> ChatSnapshot {
        ChatSnapshot {
            chat: self.chat.clone(),
            messages: self.messages.values().map(view).collect(),
            events: self.events.clone(),
            bot_left: self.bot_left,
            blocked: self.blocked,
            reply_keyboard: self.reply_keyboard.as_ref().map(reply_keyboard_view),
        }
    }
}

/// An update waiting for getUpdates or webhook delivery.
#[derive(Clone, Debug)]
pub(crate) struct PendingUpdate {
    pub id: u32,
    pub kind: &'static str,
    pub json: Value,
}

/// A callback query the bot may answer.
#[derive(Clone, Debug)]
pub(crate) struct CallbackState {
    pub chat_id: i64,
    pub answered: bool,
}

/// Webhook configuration (from setWebhook or from the test).
#[derive(Clone, Debug)]
pub(crate) struct WebhookState {
    pub urls: Vec<String>,
    pub secret: Option<String>,
    pub routing: WebhookRouting,
    pub next_target: usize,
    pub max_connections: u32,
    pub last_error: Option<(i64, String)>,
    pub allowed_updates: Option<Vec<String>>,
}

/// Everything the fake Telegram knows.
#[derive(Debug)]
pub(crate) struct State {
    pub clock: SimClock,
    pub bot: BotIdentity,
    pub next_update_id: u32,
    pub pending: VecDeque<PendingUpdate>,
    pub history: HashMap<u32, Value>,
    /// When each update was first handed to the bot (getUpdates), for reply times measured
    /// from delivery. Entries are taken by [`crate::sim::Simulator::take_delivery_time`].
    pub delivered: HashMap<u32, Instant>,
    pub poll_generation: u64,
    pub allowed_updates: Option<Vec<String>>,
    pub chats: HashMap<i64, ChatState>,
    pub files: HashMap<String, StoredFile>,
    pub file_paths: HashMap<String, String>,
    pub next_file: u64,
    pub callbacks: HashMap<String, CallbackState>,
    pub next_callback: u64,
    pub next_media_group: u64,
    pub next_public_chat: i64,
    pub calls: Vec<ApiCall>,
    pub record_calls: bool,
    pub next_call_seq: u64,
    /// setMyCommands storage, keyed by (canonical scope JSON, language code).
    pub commands: BTreeMap<(String, String), Value>,
    /// setMyDescription / setMyShortDescription / setMyName, keyed by (field, language).
    pub bot_texts: BTreeMap<(String, String), String>,
    pub webhook: Option<WebhookState>,
    pub deliveries: Vec<WebhookDelivery>,
    pub faults: Faults,
    pub fault_state: FaultState,
    /// Requests received per method name (counted on arrival, before faults or the call).
    pub received: HashMap<String, u64>,
}

/// Methods whose success means "the bot visibly responded in this chat".
pub(crate) const VISIBLE_METHODS: &[&str] = &[
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendVoice",
    "sendAudio",
    "sendVideo",
    "sendAnimation",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "deleteMessages",
    "leaveChat",
];

impl State {
    pub(crate) fn new(
        bot: BotIdentity,
        clock: SimClock,
        first_update_id: u32,
        record_calls: bool,
    ) -> Self {
        Self {
            clock,
            bot,
            next_update_id: first_update_id,
            pending: VecDeque::new(),
            history: HashMap::new(),
            delivered: HashMap::new(),
            poll_generation: 0,
            allowed_updates: None,
            chats: HashMap::new(),
            files: HashMap::new(),
            file_paths: HashMap::new(),
            next_file: 1,
            callbacks: HashMap::new(),
            next_callback: 1,
            next_media_group: 1,
            next_public_chat: 1,
            calls: Vec::new(),
            record_calls,
            next_call_seq: 1,
            commands: BTreeMap::new(),
            bot_texts: BTreeMap::new(),
            webhook: None,
            deliveries: Vec::new(),
            faults: Faults::default(),
            fault_state: FaultState::default(),
            received: HashMap::new(),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Registers a chat, or refreshes its description if already known.
    pub(crate) fn ensure_chat(&mut self, chat: &SimChat) -> &mut ChatState {
        let entry = self
            .chats
            .entry(chat.id)
            .or_insert_with(|| ChatState::new(chat.clone()));
        if entry.chat != *chat {
            entry.chat = chat.clone();
        }
        entry
    }

    /// Queues an update of `kind` (e.g. `"message"`) and returns its id.
    pub(crate) fn push_update(&mut self, kind: &'static str, payload: Value) -> u32 {
        let id = self.next_update_id;
        self.next_update_id = self.next_update_id.wrapping_add(1);
        let mut json = json!({ "update_id": id });
        if let Some(obj) = json.as_object_mut() {
            obj.insert(kind.to_owned(), payload);
        }
        // The history serves duplicate webhook deliveries; long load runs
        // turn recording off and skip it to keep memory flat.
        if self.record_calls {
            self.history.insert(id, json.clone());
        }
        self.pending.push_back(PendingUpdate { id, kind, json });
        id
    }

    /// Registers bytes as a file under `dir` (Telegram-style path prefix).
    pub(crate) fn register_file(&mut self, bytes: Bytes, dir: &str, ext: &str) -> FileRef {
        let n = self.next_file;
        self.next_file += 1;
        let file_ref = FileRef {
            file_id: format!("SIMf{n:08}{}", dir.chars().next().unwrap_or('x')),
            file_unique_id: format!("SIMu{n:08}"),
            size: bytes.len() as u64,
        };
        let path = format!("{dir}/file_{n}.{ext}");
        self.file_paths
            .insert(path.clone(), file_ref.file_id.clone());
        self.files.insert(
            file_ref.file_id.clone(),
            StoredFile {
                file_ref: file_ref.clone(),
                bytes,
                path,
            },
        );
        file_ref
    }

    /// Records a finished API call and, for visible successes, touches the chat.
    /// `params` is only evaluated when calls are being recorded.
    pub(crate) fn record_call(
        &mut self,
        method: &str,
        params: impl FnOnce() -> Value,
        chat_id: Option<i64>,
        outcome: CallOutcome,
    ) -> u64 {
        let seq = self.next_call_seq;
        self.next_call_seq += 1;
        if outcome == CallOutcome::Ok
            && VISIBLE_METHODS.contains(&method)
            && let Some(chat) = chat_id.and_then(|id| self.chats.get_mut(&id))
        {
            chat.last_touch = Some(Touch {
                seq,
                at: Instant::now(),
            });
        }
        if self.record_calls {
            let date = self.now();
            let params = params();
            self.calls.push(ApiCall {
                seq,
                method: method.to_owned(),
                params,
                date,
                chat_id,
                outcome,
            });
        }
        seq
    }

    /// Allocates an id for a new group, supergroup or channel.
    pub(crate) fn alloc_public_chat_id(&mut self, kind: ChatKind) -> i64 {
        let n = self.next_public_chat;
        self.next_public_chat += 1;
        match kind {
            // Basic groups have small negative ids; supergroups and channels
            // the "-100…" form, as on Telegram.
            ChatKind::Group => -(4_000_000_000 + n),
            _ => -(1_000_000_000_000 + n),
        }
    }
}

/// The test-facing view of a stored message.
pub(crate) fn view(m: &StoredMessage) -> ChatMessage {
    let j = &m.json;
    let text = j["text"]
        .as_str()
        .or_else(|| j["caption"].as_str())
        .map(str::to_owned);
    let kind = content_kind(j);
    let media = match kind {
        ContentKind::Photo => j["photo"].as_array().and_then(|a| a.last()),
        ContentKind::Document => Some(&j["document"]),
        ContentKind::Voice => Some(&j["voice"]),
        ContentKind::Audio => Some(&j["audio"]),
        ContentKind::Video => Some(&j["video"]),
        ContentKind::VideoNote => Some(&j["video_note"]),
        ContentKind::Sticker => Some(&j["sticker"]),
        ContentKind::Animation => Some(&j["animation"]),
        _ => None,
    };
    let file_id = media.and_then(|v| v["file_id"].as_str()).map(str::to_owned);
    let file_name = media
        .and_then(|v| v["file_name"].as_str())
        .map(str::to_owned);
    let inline_keyboard = j["reply_markup"]["inline_keyboard"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|r| {
                            r.iter()
                                .map(|b| Button {
                                    text: b["text"].as_str().unwrap_or_default().to_owned(),
                                    callback_data: b["callback_data"].as_str().map(str::to_owned),
                                    url: b["url"].as_str().map(str::to_owned),
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    ChatMessage {
        message_id: m.id,
        sender: m.sender,
        date: m.date,
        text,
        kind,
        file_id,
        file_name,
        inline_keyboard,
        reply_keyboard: match &m.markup {
            Markup::Reply(v) => Some(reply_keyboard_view(v)),
            _ => None,
        },
        removes_keyboard: m.markup == Markup::Remove,
        protected: j["has_protected_content"].as_bool().unwrap_or(false),
        deleted: m.deleted,
        edits: m.edits,
        raw: m.json.clone(),
    }
}

/// Kind of content of a `Message` JSON object.
pub(crate) fn content_kind(j: &Value) -> ContentKind {
    const KEYS: &[(&str, ContentKind)] = &[
        ("text", ContentKind::Text),
        ("photo", ContentKind::Photo),
        ("animation", ContentKind::Animation),
        ("document", ContentKind::Document),
        ("voice", ContentKind::Voice),
        ("audio", ContentKind::Audio),
        ("video_note", ContentKind::VideoNote),
        ("video", ContentKind::Video),
        ("sticker", ContentKind::Sticker),
        ("poll", ContentKind::Poll),
        ("dice", ContentKind::Dice),
        ("contact", ContentKind::Contact),
        ("venue", ContentKind::Venue),
        ("location", ContentKind::Location),
    ];
    KEYS.iter()
        .find(|(k, _)| j.get(*k).is_some())
        .map(|(_, kind)| *kind)
        .unwrap_or(ContentKind::Other)
}

fn button_label(b: &Value) -> String {
    match b {
        Value::String(s) => s.clone(),
        _ => b["text"].as_str().unwrap_or_default().to_owned(),
    }
}

pub(crate) fn reply_keyboard_view(v: &Value) -> ReplyKeyboard {
    let rows: Vec<&Value> = v["keyboard"]
        .as_array()
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let all = || rows.iter().filter_map(|r| r.as_array()).flatten();
    ReplyKeyboard {
        rows: rows
            .iter()
            .map(|r| {
                r.as_array()
                    .map(|r| r.iter().map(button_label).collect())
                    .unwrap_or_default()
            })
            .collect(),
        one_time: v["one_time_keyboard"].as_bool().unwrap_or(false),
        request_contact: all()
            .filter(|b| b["request_contact"].as_bool() == Some(true))
            .map(button_label)
            .collect(),
        request_location: all()
            .filter(|b| b["request_location"].as_bool() == Some(true))
            .map(button_label)
            .collect(),
    }
}
