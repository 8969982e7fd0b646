//! Public value types of the simulator: simulated users and chats, message
//! content a test injects, and the read-only views a test inspects.
//!
//! Invariants: every type here is plain data (no handles into the running
//! simulator), so a view taken by a test never changes under its feet; JSON
//! produced from these types is exactly the shape teloxide-core 0.13
//! deserializes (checked by the self-test).

use serde_json::{Value, json};

/// A simulated Telegram user (a citizen, a group member or another bot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimUser {
    /// Telegram user id; the private chat with the bot has the same id.
    pub id: u64,
    /// First name, always present on Telegram.
    pub first_name: String,
    /// Optional last name.
    pub last_name: Option<String>,
    /// Optional `@username` (without the `@`).
    pub username: Option<String>,
    /// IETF language tag the client reports, e.g. `"vi"` or `"en"`.
    pub language_code: Option<String>,
    /// `true` for bots (messages from other bots in groups).
    pub is_bot: bool,
}

impl SimUser {
    /// A human user with only an id and a first name.
    pub fn new(id: u64, first_name: impl Into<String>) -> Self {
        Self {
            id,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
            is_bot: false,
        }
    }

    /// Sets the last name.
    #[must_use]
    pub fn last_name(mut self, last_name: impl Into<String>) -> Self {
        self.last_name = Some(last_name.into());
        self
    }

    /// Sets the username (without `@`).
    #[must_use]
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the client language, e.g. `"vi"`.
    #[must_use]
    pub fn language(mut self, language_code: impl Into<String>) -> Self {
        self.language_code = Some(language_code.into());
        self
    }

    /// Marks the user as a bot (`from.is_bot = true`).
    #[must_use]
    pub fn bot(mut self) -> Self {
        self.is_bot = true;
        self
    }

    /// The Bot API `User` object.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "is_bot": self.is_bot, "first_name": self.first_name });
        put_opt(&mut v, "last_name", self.last_name.as_deref());
        put_opt(&mut v, "username", self.username.as_deref());
        put_opt(&mut v, "language_code", self.language_code.as_deref());
        v
    }
}

/// Kind of a Telegram chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChatKind {
    /// One-to-one chat between a user and the bot.
    Private,
    /// Basic group.
    Group,
    /// Supergroup.
    Supergroup,
    /// Channel (the bot receives `channel_post` updates).
    Channel,
}

impl ChatKind {
    /// The Bot API `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Group => "group",
            Self::Supergroup => "supergroup",
            Self::Channel => "channel",
        }
    }
}

/// A simulated chat: enough to render the Bot API `Chat` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimChat {
    /// Chat id (positive for private chats, negative for groups/channels).
    pub id: i64,
    /// Chat kind.
    pub kind: ChatKind,
    /// Title of groups, supergroups and channels.
    pub title: Option<String>,
    /// Public `@username` of the chat (without `@`), or the private peer's.
    pub username: Option<String>,
    /// First name of the private peer.
    pub first_name: Option<String>,
    /// Last name of the private peer.
    pub last_name: Option<String>,
}

impl SimChat {
    /// The private chat between `user` and the bot.
    pub fn private(user: &SimUser) -> Self {
        Self {
            // Telegram user ids fit in 52 bits; saturating keeps an absurd test
            // id positive, i.e. still a private chat.
            id: i64::try_from(user.id).unwrap_or(i64::MAX),
            kind: ChatKind::Private,
            title: None,
            username: user.username.clone(),
            first_name: Some(user.first_name.clone()),
            last_name: user.last_name.clone(),
        }
    }

    /// A group, supergroup or channel with an explicit id.
    pub fn public(id: i64, kind: ChatKind, title: impl Into<String>) -> Self {
        Self {
            id,
            kind,
            title: Some(title.into()),
            username: None,
            first_name: None,
            last_name: None,
        }
    }

    /// Sets the public `@username` (without `@`).
    #[must_use]
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The Bot API `Chat` object.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "type": self.kind.as_str() });
        put_opt(&mut v, "title", self.title.as_deref());
        put_opt(&mut v, "username", self.username.as_deref());
        put_opt(&mut v, "first_name", self.first_name.as_deref());
        put_opt(&mut v, "last_name", self.last_name.as_deref());
        v
    }
}

/// A file registered with the simulator (see [`crate::sim::Simulator::add_file`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileRef {
    /// Opaque file id, usable with `getFile` and as an input file.
    pub file_id: String,
    /// Stable unique id of the file.
    pub file_unique_id: String,
    /// Size in bytes.
    pub size: u64,
}

/// What a simulated user sends. Files must have been registered with
/// [`crate::sim::Simulator::add_file`] first (the [`crate::sim::Citizen`] helpers do this).
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    /// A text message; a leading `/command` gets a `bot_command` entity.
    Text(String),
    /// A photo; the simulator derives a thumbnail size serving the same bytes.
    Photo {
        /// The full-size photo.
        file: FileRef,
        /// Optional caption.
        caption: Option<String>,
    },
    /// A general file.
    Document {
        /// The file.
        file: FileRef,
        /// Original file name.
        file_name: String,
        /// MIME type as the client reports it.
        mime_type: String,
        /// Optional caption.
        caption: Option<String>,
    },
    /// A voice note (`audio/ogg`).
    Voice {
        /// The file.
        file: FileRef,
        /// Duration in seconds.
        duration: u32,
    },
    /// A music file.
    Audio {
        /// The file.
        file: FileRef,
        /// Duration in seconds.
        duration: u32,
        /// Optional title.
        title: Option<String>,
        /// MIME type, e.g. `audio/mpeg`.
        mime_type: String,
    },
    /// A video.
    Video {
        /// The file.
        file: FileRef,
        /// Duration in seconds.
        duration: u32,
        /// Optional caption.
        caption: Option<String>,
    },
    /// A round video message.
    VideoNote {
        /// The file.
        file: FileRef,
        /// Duration in seconds.
        duration: u32,
    },
    /// A sticker.
    Sticker {
        /// The file.
        file: FileRef,
        /// Emoji associated with the sticker.
        emoji: String,
    },
    /// A GIF (sent by Telegram as an MPEG-4 animation).
    Animation {
        /// The file.
        file: FileRef,
        /// Duration in seconds.
        duration: u32,
        /// Optional caption.
        caption: Option<String>,
    },
    /// A native poll.
    Poll {
        /// The question.
        question: String,
        /// The answer options.
        options: Vec<String>,
    },
    /// An animated dice.
    Dice {
        /// One of 🎲 🎯 🏀 ⚽ 🎳 🎰.
        emoji: String,
        /// The rolled value.
        value: u8,
    },
    /// A shared contact.
    Contact {
        /// Phone number.
        phone_number: String,
        /// Contact's first name.
        first_name: String,
        /// Contact's last name.
        last_name: Option<String>,
        /// Contact's Telegram user id, when it is a Telegram user.
        user_id: Option<u64>,
    },
    /// A shared location.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
    },
    /// A venue (a location with a title and address).
    Venue {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Venue name.
        title: String,
        /// Venue address.
        address: String,
    },
}

impl Content {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// A location.
    pub fn location(latitude: f64, longitude: f64) -> Self {
        Self::Location {
            latitude,
            longitude,
        }
    }

    /// A contact with only a phone number and a first name.
    pub fn contact(phone_number: impl Into<String>, first_name: impl Into<String>) -> Self {
        Self::Contact {
            phone_number: phone_number.into(),
            first_name: first_name.into(),
            last_name: None,
            user_id: None,
        }
    }
}

/// Where a forwarded message originally came from (`forward_origin`).
#[derive(Clone, Debug, PartialEq)]
pub enum ForwardOrigin {
    /// Forwarded from a user who allows linking.
    User {
        /// The original sender.
        user: SimUser,
    },
    /// Forwarded from a user who hides their account.
    HiddenUser {
        /// The name shown instead of the account.
        name: String,
    },
    /// Sent on behalf of a chat (anonymous group admin).
    Chat {
        /// The chat.
        chat: SimChat,
    },
    /// A channel post.
    Channel {
        /// The channel.
        chat: SimChat,
        /// The post's id in the channel.
        message_id: i32,
    },
}

/// One message a simulated user sends: content plus optional envelope fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    /// The content.
    pub content: Content,
    /// Set for forwarded messages.
    pub forward_origin: Option<ForwardOrigin>,
    /// Unix time of the original message, for forwards (defaults to one hour ago).
    pub forward_date: Option<i64>,
    /// Id of the message in the same chat this one replies to.
    pub reply_to: Option<i32>,
    /// Album id shared by the messages of a media group.
    pub media_group_id: Option<String>,
}

impl Incoming {
    /// A plain (not forwarded, not a reply) message.
    pub fn new(content: Content) -> Self {
        Self {
            content,
            forward_origin: None,
            forward_date: None,
            reply_to: None,
            media_group_id: None,
        }
    }

    /// Marks the message as forwarded from `origin`.
    #[must_use]
    pub fn forwarded(mut self, origin: ForwardOrigin) -> Self {
        self.forward_origin = Some(origin);
        self
    }

    /// Makes the message a reply to `message_id`.
    #[must_use]
    pub fn reply_to(mut self, message_id: i32) -> Self {
        self.reply_to = Some(message_id);
        self
    }
}

impl From<Content> for Incoming {
    fn from(content: Content) -> Self {
        Self::new(content)
    }
}

impl From<&str> for Incoming {
    fn from(text: &str) -> Self {
        Self::new(Content::text(text))
    }
}

/// What an injection produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injected {
    /// Id of the update queued for the bot.
    pub update_id: u32,
    /// Id of the new (or edited) message, when the update carries one.
    pub message_id: Option<i32>,
    /// Id of the callback query, for button presses.
    pub callback_query_id: Option<String>,
}

/// Who sent a message in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The bot under test.
    Bot,
    /// A simulated user.
    User(u64),
    /// A chat itself (channel posts).
    Chat(i64),
}

/// Coarse kind of a message's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentKind {
    /// Text.
    Text,
    /// Photo.
    Photo,
    /// Document.
    Document,
    /// Voice note.
    Voice,
    /// Audio file.
    Audio,
    /// Video.
    Video,
    /// Round video.
    VideoNote,
    /// Sticker.
    Sticker,
    /// GIF animation.
    Animation,
    /// Poll.
    Poll,
    /// Dice.
    Dice,
    /// Contact.
    Contact,
    /// Location.
    Location,
    /// Venue.
    Venue,
    /// Anything else.
    Other,
}

/// An inline keyboard button as the bot defined it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    /// Label shown to the user.
    pub text: String,
    /// `callback_data`, for callback buttons.
    pub callback_data: Option<String>,
    /// `url`, for link buttons.
    pub url: Option<String>,
}

/// A reply keyboard the bot showed (the one under the input field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyKeyboard {
    /// Button labels, row by row.
    pub rows: Vec<Vec<String>>,
    /// `one_time_keyboard`: hidden after one use.
    pub one_time: bool,
    /// Labels of buttons that share the user's phone number.
    pub request_contact: Vec<String>,
    /// Labels of buttons that share the user's location.
    pub request_location: Vec<String>,
}

/// A message in a simulated chat, as a test sees it (current state after edits).
#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    /// Message id (shared counter for the bot and the user in the chat).
    pub message_id: i32,
    /// Sender.
    pub sender: Sender,
    /// Unix date on the simulator clock when it was sent.
    pub date: i64,
    /// Text, or the caption of a media message.
    pub text: Option<String>,
    /// Kind of content.
    pub kind: ContentKind,
    /// File id of the media, if any.
    pub file_id: Option<String>,
    /// File name of a document, if any.
    pub file_name: Option<String>,
    /// Inline keyboard attached to the message.
    pub inline_keyboard: Vec<Vec<Button>>,
    /// Reply keyboard sent with the message.
    pub reply_keyboard: Option<ReplyKeyboard>,
    /// `true` if the message removed the reply keyboard.
    pub removes_keyboard: bool,
    /// `protect_content` (`has_protected_content`).
    pub protected: bool,
    /// `true` once deleted (by the bot, or via the simulator).
    pub deleted: bool,
    /// How many times the message was edited.
    pub edits: u32,
    /// The full Bot API `Message` object in its current state.
    pub raw: Value,
}

impl ChatMessage {
    /// Flattened labels of the inline keyboard.
    pub fn button_labels(&self) -> Vec<String> {
        self.inline_keyboard
            .iter()
            .flatten()
            .map(|b| b.text.clone())
            .collect()
    }
}

/// Something that happened in a chat, in order; the transcript is rendered from these.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// A message appeared (rendered in its current state).
    Message(i32),
    /// The user pressed an inline button.
    Pressed {
        /// The message carrying the button.
        message_id: i32,
        /// Label of the button, when it could be found.
        label: Option<String>,
        /// The callback data sent to the bot.
        data: String,
    },
    /// The bot answered a callback query with a notification.
    CallbackAnswer {
        /// Notification text, if any.
        text: Option<String>,
        /// `true` for a modal alert rather than a toast.
        show_alert: bool,
    },
    /// The bot left the chat.
    BotLeft,
    /// The user blocked the bot.
    Blocked,
}

/// A point in a chat's history (see [`crate::sim::Citizen::mark`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark {
    /// Highest message id in the chat when the mark was taken.
    pub message_id: i32,
    /// Number of chat events at that time.
    pub events: usize,
}

/// A consistent copy of one chat's state.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatSnapshot {
    /// The chat.
    pub chat: SimChat,
    /// All messages (bot's and users'), ordered by id, deleted ones included.
    pub messages: Vec<ChatMessage>,
    /// Chat events in order.
    pub events: Vec<ChatEvent>,
    /// `true` once the bot called `leaveChat` here.
    pub bot_left: bool,
    /// `true` if the user blocked the bot.
    pub blocked: bool,
    /// The reply keyboard currently shown to the user, if any.
    pub reply_keyboard: Option<ReplyKeyboard>,
}

impl ChatSnapshot {
    /// Messages sent by the bot (deleted ones included).
    pub fn bot_messages(&self) -> impl Iterator<Item = &ChatMessage> {
        self.messages.iter().filter(|m| m.sender == Sender::Bot)
    }

    /// Messages sent by users (deleted ones included).
    pub fn user_messages(&self) -> impl Iterator<Item = &ChatMessage> {
        self.messages
            .iter()
            .filter(|m| matches!(m.sender, Sender::User(_)))
    }

    /// The bot's most recent message that is not deleted.
    pub fn last_bot_message(&self) -> Option<&ChatMessage> {
        self.bot_messages().filter(|m| !m.deleted).last()
    }

    /// A message by id.
    pub fn message(&self, message_id: i32) -> Option<&ChatMessage> {
        self.messages.iter().find(|m| m.message_id == message_id)
    }
}

/// How a recorded API call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum CallOutcome {
    /// `{"ok":true,...}`.
    Ok,
    /// A Telegram-shaped error.
    Error {
        /// `error_code`.
        code: u16,
        /// `description`.
        description: String,
    },
    /// The connection was closed without a response (fault injection).
    Dropped,
}

/// One Bot API call the bot made.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiCall {
    /// Sequence number, increasing across all calls.
    pub seq: u64,
    /// Canonical method name (e.g. `sendMessage`), or the name as sent if unknown.
    pub method: String,
    /// Parameters, merged from query, JSON, form or multipart; uploads appear
    /// as `{"upload": {"file_name", "size", "file_id"}}`.
    pub params: Value,
    /// Simulator-clock unix time of the call.
    pub date: i64,
    /// Chat the call acted on, when it acted on one.
    pub chat_id: Option<i64>,
    /// Outcome.
    pub outcome: CallOutcome,
}

impl ApiCall {
    /// `true` if the call succeeded.
    pub fn is_ok(&self) -> bool {
        self.outcome == CallOutcome::Ok
    }
}

/// How updates are spread over several webhook URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WebhookRouting {
    /// Deliver automatically, rotating through the URLs.
    #[default]
    RoundRobin,
    /// Keep updates queued; the test delivers each with
    /// [`crate::sim::Simulator::deliver_next_to`].
    Manual,
}

/// One webhook delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The update delivered.
    pub update_id: u32,
    /// Target URL.
    pub url: String,
    /// 1-based attempt number for this update.
    pub attempt: u32,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Transport error kind, when none did.
    pub error: Option<String>,
}

pub(crate) fn put_opt(v: &mut Value, key: &str, val: Option<&str>) {
    if let (Some(val), Some(obj)) = (val, v.as_object_mut()) {
        obj.insert(key.to_owned(), Value::String(val.to_owned()));
    }
}
