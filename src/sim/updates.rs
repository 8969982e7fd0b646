//! Building the updates simulated users cause: new messages of every content
//! kind, edits, channel posts and callback queries (button presses).
//!
//! Invariants: each injection allocates the message id from the chat's shared
//! counter and queues exactly one update; every JSON object built here is a
//! complete Bot API object that teloxide-core 0.13 deserializes into the
//! matching variant (the self-test checks each kind); files referenced by
//! content must already be registered, so `getFile` on any id the bot sees
//! succeeds.

use serde_json::{Map, Value, json};

use super::error::SimError;
use super::markup::utf16_len;
use super::state::{Markup, State, StoredMessage};
use super::types::{
    ChatEvent, ChatKind, Content, ForwardOrigin, Incoming, Injected, Sender, SimChat, SimUser,
};

impl State {
    pub(crate) fn file_json(&self, file_id: &str) -> Result<Map<String, Value>, SimError> {
        let f = self
            .files
            .get(file_id)
            .ok_or_else(|| SimError::UnknownFile(file_id.to_owned()))?;
        let mut m = Map::new();
        m.insert("file_id".into(), json!(f.file_ref.file_id));
        m.insert("file_unique_id".into(), json!(f.file_ref.file_unique_id));
        m.insert("file_size".into(), json!(f.file_ref.size));
        Ok(m)
    }

    /// `[thumbnail, full]` PhotoSize array; the thumbnail is its own file
    /// serving the same bytes (the simulator does no image processing).
    pub(crate) fn photo_sizes(&mut self, file_id: &str) -> Result<Value, SimError> {
        let full = self.file_json(file_id)?;
        let bytes = self
            .files
            .get(file_id)
            .map(|f| f.bytes.clone())
            .unwrap_or_default();
        let thumb_ref = self.register_file(bytes, "photos", "jpg");
        let mut thumb = self.file_json(&thumb_ref.file_id)?;
        thumb.insert("width".into(), json!(90));
        thumb.insert("height".into(), json!(60));
        let mut big = full;
        big.insert("width".into(), json!(1280));
        big.insert("height".into(), json!(853));
        Ok(json!([thumb, big]))
    }

    /// The content fields of a message (merged into the Message object).
    fn content_fields(&mut self, content: &Content) -> Result<Map<String, Value>, SimError> {
        let mut m = Map::new();
        let with = |mut f: Map<String, Value>, extra: Value| {
            if let Value::Object(e) = extra {
                f.extend(e);
            }
            Value::Object(f)
        };
        match content {
            Content::Text(text) => {
                m.insert("text".into(), json!(text));
                if let Some(cmd) = text
                    .split_whitespace()
                    .next()
                    .filter(|w| w.starts_with('/') && w.len() > 1)
                {
                    m.insert(
                        "entities".into(),
                        json!([{ "type": "bot_command", "offset": 0, "length": utf16_len(cmd) }]),
                    );
                }
            }
            Content::Photo { file, caption } => {
                m.insert("photo".into(), self.photo_sizes(&file.file_id)?);
                put_caption(&mut m, caption.as_deref());
            }
            Content::Document {
                file,
                file_name,
                mime_type,
                caption,
            } => {
                let f = self.file_json(&file.file_id)?;
                m.insert(
                    "document".into(),
                    with(f, json!({ "file_name": file_name, "mime_type": mime_type })),
                );
                put_caption(&mut m, caption.as_deref());
            }
            Content::Voice { file, duration } => {
                let f = self.file_json(&file.file_id)?;
                m.insert(
                    "voice".into(),
                    with(f, json!({ "duration": duration, "mime_type": "audio/ogg" })),
                );
            }
            Content::Audio {
                file,
                duration,
                title,
                mime_type,
            } => {
                let f = self.file_json(&file.file_id)?;
                let mut extra = json!({ "duration": duration, "mime_type": mime_type });
                if let (Some(t), Some(o)) = (title, extra.as_object_mut()) {
                    o.insert("title".into(), json!(t));
                }
                m.insert("audio".into(), with(f, extra));
            }
            Content::Video {
                file,
                duration,
                caption,
            } => {
                let f = self.file_json(&file.file_id)?;
                m.insert(
                    "video".into(),
                    with(f, json!({ "width": 1280, "height": 720, "duration": duration, "mime_type": "video/mp4" })),
                );
                put_caption(&mut m, caption.as_deref());
            }
            Content::VideoNote { file, duration } => {
                let f = self.file_json(&file.file_id)?;
                m.insert(
                    "video_note".into(),
                    with(f, json!({ "length": 240, "duration": duration })),
                );
            }
            Content::Sticker { file, emoji } => {
                let f = self.file_json(&file.file_id)?;
                m.insert(
                    "sticker".into(),
                    with(
                        f,
                        json!({ "width": 512, "height": 512, "type": "regular", "is_animated": false,
                                "is_video": false, "emoji": emoji }),
                    ),
                );
            }
            Content::Animation {
                file,
                duration,
                caption,
            } => {
                let f = self.file_json(&file.file_id)?;
                let meta = json!({ "width": 320, "height": 240, "duration": duration,
                                   "file_name": "animation.mp4", "mime_type": "video/mp4" });
                // Telegram duplicates animations into `document` for old clients.
                m.insert(
                    "document".into(),
                    with(
                        f.clone(),
                        json!({ "file_name": "animation.mp4", "mime_type": "video/mp4" }),
                    ),
                );
                m.insert("animation".into(), with(f, meta));
                put_caption(&mut m, caption.as_deref());
            }
            Content::Poll { question, options } => {
                let id = format!("SIMpoll{}", self.next_callback);
                self.next_callback += 1;
                let opts: Vec<Value> = options
                    .iter()
                    .map(|o| json!({ "text": o, "voter_count": 0 }))
                    .collect();
                m.insert(
                    "poll".into(),
                    json!({ "id": id, "question": question, "options": opts, "total_voter_count": 0,
                            "is_closed": false, "is_anonymous": true, "type": "regular",
                            "allows_multiple_answers": false }),
                );
            }
            Content::Dice { emoji, value } => {
                m.insert("dice".into(), json!({ "emoji": emoji, "value": value }));
            }
            Content::Contact {
                phone_number,
                first_name,
                last_name,
                user_id,
            } => {
                let mut c = json!({ "phone_number": phone_number, "first_name": first_name });
                if let Some(o) = c.as_object_mut() {
                    if let Some(l) = last_name {
                        o.insert("last_name".into(), json!(l));
                    }
                    if let Some(u) = user_id {
                        o.insert("user_id".into(), json!(u));
                    }
                }
                m.insert("contact".into(), c);
            }
            Content::Location {
                latitude,
                longitude,
            } => {
                m.insert(
                    "location".into(),
                    json!({ "latitude": latitude, "longitude": longitude }),
                );
            }
            Content::Venue {
                latitude,
                longitude,
                title,
                address,
            } => {
                let loc = json!({ "latitude": latitude, "longitude": longitude });
                m.insert(
                    "venue".into(),
                    json!({ "location": loc, "title": title, "address": address }),
                );
                // Telegram also sends `location` for backward compatibility.
                m.insert("location".into(), loc);
            }
        }
        Ok(m)
    }

    fn origin_json(&self, origin: &ForwardOrigin, date: i64) -> Value {
        match origin {
            ForwardOrigin::User { user } => {
                json!({ "type": "user", "date": date, "sender_user": user.to_json() })
            }
            ForwardOrigin::HiddenUser { name } => {
                json!({ "type": "hidden_user", "date": date, "sender_user_name": name })
            }
            ForwardOrigin::Chat { chat } => {
                json!({ "type": "chat", "date": date, "sender_chat": chat.to_json() })
            }
            ForwardOrigin::Channel { chat, message_id } => {
                json!({ "type": "channel", "date": date, "chat": chat.to_json(), "message_id": message_id })
            }
        }
    }

    /// A user's (or, with `from = None`, a channel's) new message.
    pub(crate) fn inject_message(
        &mut self,
        from: Option<&SimUser>,
        chat: &SimChat,
        incoming: &Incoming,
    ) -> Result<Injected, SimError> {
        let now = self.now();
        let mut body = self.content_fields(&incoming.content)?;
        if let Some(origin) = &incoming.forward_origin {
            let date = incoming.forward_date.unwrap_or(now - 3600);
            body.insert("forward_origin".into(), self.origin_json(origin, date));
        }
        if let Some(g) = &incoming.media_group_id {
            body.insert("media_group_id".into(), json!(g));
        }
        let state = self.ensure_chat(chat);
        if let Some(reply_to) = incoming.reply_to {
            let target = state.live(reply_to).ok_or(SimError::UnknownMessage {
                chat_id: chat.id,
                message_id: reply_to,
            })?;
            let mut replied = target.json.clone();
            if let Some(o) = replied.as_object_mut() {
                o.remove("reply_to_message");
            }
            body.insert("reply_to_message".into(), replied);
        }
        // A person who writes to the bot has (re)started it.
        if chat.kind == ChatKind::Private {
            state.blocked = false;
            state.started = true;
        }
        let id = state.alloc_message_id();
        let mut msg = Map::new();
        msg.insert("message_id".into(), json!(id));
        let (sender, kind) = match (chat.kind, from) {
            (ChatKind::Channel, _) => {
                msg.insert("sender_chat".into(), chat.to_json());
                (Sender::Chat(chat.id), "channel_post")
            }
            (_, Some(user)) => {
                msg.insert("from".into(), user.to_json());
                (Sender::User(user.id), "message")
            }
            (_, None) => {
                // Anonymous group admin: Telegram sends the group as sender_chat.
                msg.insert("sender_chat".into(), chat.to_json());
                (Sender::Chat(chat.id), "message")
            }
        };
        msg.insert("chat".into(), chat.to_json());
        msg.insert("date".into(), json!(now));
        msg.extend(body);
        let json = Value::Object(msg);
        state.messages.insert(
            id,
            StoredMessage {
                id,
                sender,
                date: now,
                json: json.clone(),
                markup: Markup::None,
                deleted: false,
                edits: 0,
            },
        );
        state.events.push(ChatEvent::Message(id));
        let update_id = self.push_update(kind, json);
        Ok(Injected {
            update_id,
            message_id: Some(id),
            callback_query_id: None,
        })
    }

    /// A user edits the text (or caption) of one of their messages.
    pub(crate) fn inject_edit(
        &mut self,
        chat_id: i64,
        message_id: i32,
        new_text: &str,
    ) -> Result<Injected, SimError> {
        let now = self.now();
        let chat = self
            .chats
            .get_mut(&chat_id)
            .ok_or(SimError::UnknownChat(chat_id))?;
        let kind = if chat.chat.kind == ChatKind::Channel {
            "edited_channel_post"
        } else {
            "edited_message"
        };
        let msg = chat
            .messages
            .get_mut(&message_id)
            .filter(|m| !m.deleted && m.sender != super::types::Sender::Bot)
            .ok_or(SimError::UnknownMessage {
                chat_id,
                message_id,
            })?;
        if let Some(o) = msg.json.as_object_mut() {
            let field = if o.contains_key("text") {
                "text"
            } else {
                "caption"
            };
            o.insert(field.into(), json!(new_text));
            o.remove("entities");
            o.insert("edit_date".into(), json!(now));
        }
        msg.edits += 1;
        let json = msg.json.clone();
        let update_id = self.push_update(kind, json);
        Ok(Injected {
            update_id,
            message_id: Some(message_id),
            callback_query_id: None,
        })
    }

    /// A user presses an inline button with `data` under `message_id`.
    pub(crate) fn inject_callback(
        &mut self,
        from: &SimUser,
        chat_id: i64,
        message_id: i32,
        data: &str,
    ) -> Result<Injected, SimError> {
        let n = self.next_callback;
        self.next_callback += 1;
        let chat = self
            .chats
            .get_mut(&chat_id)
            .ok_or(SimError::UnknownChat(chat_id))?;
        let msg = chat.live(message_id).ok_or(SimError::UnknownMessage {
            chat_id,
            message_id,
        })?;
        let label = msg.json["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .find(|b| b["callback_data"].as_str() == Some(data))
            .and_then(|b| b["text"].as_str())
            .map(str::to_owned);
        let message = msg.json.clone();
        chat.events.push(ChatEvent::Pressed {
            message_id,
            label,
            data: data.to_owned(),
        });
        let id = format!("{}{n:06}", from.id);
        let cq = json!({
            "id": id,
            "from": from.to_json(),
            "message": message,
            // Stable per chat, like Telegram's opaque chat_instance.
            "chat_instance": format!("{}", chat_id.unsigned_abs().wrapping_mul(2_654_435_761) % 1_000_000_007),
            "data": data,
        });
        self.callbacks.insert(
            id.clone(),
            super::state::CallbackState {
                chat_id,
                answered: false,
            },
        );
        let update_id = self.push_update("callback_query", cq);
        Ok(Injected {
            update_id,
            message_id: Some(message_id),
            callback_query_id: Some(id),
        })
    }
}

impl State {
    /// `from` adds the bot to `chat` (or changes its membership): a `my_chat_member` update
    /// with the bot's old status `left` and the new one `member`.
    pub(crate) fn inject_bot_added(&mut self, from: &SimUser, chat: &SimChat) -> Injected {
        let date = self.now();
        let bot = self.bot.user_json();
        let payload = json!({
            "chat": chat.to_json(),
            "from": from.to_json(),
            "date": date,
            "old_chat_member": { "status": "left", "user": bot },
            "new_chat_member": { "status": "member", "user": bot },
        });
        let update_id = self.push_update("my_chat_member", payload);
        Injected {
            update_id,
            message_id: None,
            callback_query_id: None,
        }
    }
}

fn put_caption(m: &mut Map<String, Value>, caption: Option<&str>) {
    if let Some(c) = caption {
        m.insert("caption".into(), json!(c));
    }
}
