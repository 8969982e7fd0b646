//! [`Citizen`]: a simulated person in a private chat with the bot, so a test
//! reads like the conversation it checks.
//!
//! Every action injects one update and then waits until the bot has
//! responded: at least one successful, visible bot call on this chat
//! (send/edit/delete/callback answer/leave) made after the injection, followed
//! by a quiet period with no further such call and no request for this chat
//! still being served (so a stalled send keeps the citizen waiting). The
//! quiet period is the configured one or, if longer, the time the bot took to
//! respond at all, which keeps waits reliable on a loaded machine. Calls
//! that fail (e.g. a 429 the bot will retry) do not count as a response.
//!
//! The panicking methods are test assertions: on timeout they panic with the
//! transcript so far and the chat's recent failed calls. Each has a `try_`
//! counterpart (or [`Citizen::try_act`]) returning [`CitizenError`] for
//! callers such as `tipline demo` that must not panic.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Simulator;
use super::error::SimError;
use super::transcript;
use super::types::{
    Button, CallOutcome, ChatEvent, ChatMessage, ChatSnapshot, Content, ForwardOrigin, Incoming,
    Injected, Mark, Sender, SimChat, SimUser,
};

/// Default quiet period after the bot's last call. 50 ms proved too short on
/// a loaded 2-core machine (a bot's answerCallbackQuery and its follow-up edit
/// were more than 50 ms apart), so the default leaves some slack.
pub const DEFAULT_QUIET: Duration = Duration::from_millis(100);
/// Default overall wait for a response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a citizen action failed.
#[derive(Debug, thiserror::Error)]
pub enum CitizenError {
    /// The bot did not respond (or never went quiet) in time.
    #[error(
        "the bot did not respond within {waited:?}{failures}\n--- transcript ---\n{transcript}"
    )]
    Timeout {
        /// How long the citizen waited.
        waited: Duration,
        /// The conversation so far.
        transcript: String,
        /// Recent failed bot calls on this chat, one per line (may be empty).
        failures: String,
    },
    /// No button with that label on the bot's latest keyboard.
    #[error("no button {label:?} on the bot's latest keyboard; available: {available:?}")]
    NoSuchButton {
        /// The label asked for.
        label: String,
        /// Labels that are there.
        available: Vec<String>,
    },
    /// The label prefix matches several buttons.
    #[error("{label:?} matches several buttons: {matches:?}")]
    AmbiguousButton {
        /// The label asked for.
        label: String,
        /// The matching labels.
        matches: Vec<String>,
    },
    /// The button opens a URL (or similar) instead of sending callback data.
    #[error("button {label:?} is not a callback button")]
    NotCallbackButton {
        /// The button's label.
        label: String,
    },
    /// A wait predicate never held.
    #[error("condition not met within {waited:?}\n--- transcript ---\n{transcript}")]
    ConditionTimeout {
        /// How long the citizen waited.
        waited: Duration,
        /// The conversation so far.
        transcript: String,
    },
    /// The bot responded although silence was expected.
    #[error("expected no response, but the bot acted\n--- transcript ---\n{transcript}")]
    UnexpectedResponse {
        /// The conversation so far.
        transcript: String,
    },
    /// The simulator rejected the injection.
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// A simulated person talking to the bot in a private chat.
///
/// # Panics
/// Methods without a `try_` prefix that wait for the bot are test assertions:
/// they panic with the transcript when the bot does not respond in time.
#[derive(Clone)]
pub struct Citizen {
    sim: Simulator,
    user: SimUser,
    chat: SimChat,
    quiet: Duration,
    timeout: Duration,
    phone: String,
}

fn or_panic<T>(r: Result<T, CitizenError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

impl Citizen {
    pub(crate) fn new(sim: Simulator, user: SimUser) -> Self {
        let chat = SimChat::private(&user);
        // Registering the chat up front lets tests inspect it before the first message.
        sim.shared.lock().ensure_chat(&chat);
        Self {
            sim,
            user,
            chat,
            quiet: DEFAULT_QUIET,
            timeout: DEFAULT_TIMEOUT,
            phone: "+84900000000".into(),
        }
    }

    /// Sets the quiet period that ends a wait.
    #[must_use]
    pub fn with_quiet_period(mut self, quiet: Duration) -> Self {
        self.quiet = quiet;
        self
    }

    /// Sets the overall timeout of a wait.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the phone number shared by "share contact" keyboard buttons.
    #[must_use]
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = phone.into();
        self
    }

    /// The simulated user.
    pub fn user(&self) -> &SimUser {
        &self.user
    }

    /// The private chat's id (equal to the user id).
    pub fn chat_id(&self) -> i64 {
        self.chat.id
    }

    /// The simulator this citizen lives in.
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    // -------------------------------------------------------------- actions

    /// Sends a message and waits for the bot's response.
    ///
    /// # Errors
    /// [`CitizenError::Timeout`] if the bot does not respond and go quiet in time;
    /// [`CitizenError::Sim`] if the injection is invalid.
    pub async fn try_act(&self, incoming: impl Into<Incoming>) -> Result<Injected, CitizenError> {
        let incoming = incoming.into();
        let mut rx = self.sim.shared.activity.subscribe();
        let (injected, mark) = {
            let mut st = self.sim.shared.lock();
            let mark = st.next_call_seq;
            (
                st.inject_message(Some(&self.user), &self.chat, &incoming)?,
                mark,
            )
        };
        self.sim.shared.notify_updates();
        self.wait_response(mark, &mut rx).await?;
        Ok(injected)
    }

    /// Sends a message without waiting for anything.
    ///
    /// # Errors
    /// As [`Simulator::send_message`].
    pub fn inject(&self, incoming: impl Into<Incoming>) -> Result<Injected, SimError> {
        self.sim.send_message(&self.user, &self.chat, incoming)
    }

    /// Sends `incoming` and waits for the response. Panics on timeout.
    pub async fn act(&self, incoming: impl Into<Incoming>) -> Injected {
        or_panic(self.try_act(incoming).await)
    }

    /// Sends a text message and waits for the response.
    pub async fn send(&self, text: &str) -> Injected {
        self.act(Content::text(text)).await
    }

    /// Sends a command such as `/start` (or `/start payload`).
    pub async fn command(&self, command: &str) -> Injected {
        self.act(Content::text(command)).await
    }

    /// Sends a photo (registering the bytes) and waits.
    pub async fn send_photo(&self, bytes: impl Into<Bytes>) -> Injected {
        let file = self.sim.add_file(bytes);
        self.act(Content::Photo {
            file,
            caption: None,
        })
        .await
    }

    /// Sends a photo with a caption and waits.
    pub async fn send_photo_with_caption(
        &self,
        bytes: impl Into<Bytes>,
        caption: &str,
    ) -> Injected {
        let file = self.sim.add_file(bytes);
        self.act(Content::Photo {
            file,
            caption: Some(caption.to_owned()),
        })
        .await
    }

    /// Sends a document and waits.
    pub async fn send_document(
        &self,
        bytes: impl Into<Bytes>,
        file_name: &str,
        mime_type: &str,
    ) -> Injected {
        let file = self.sim.add_file(bytes);
        let content = Content::Document {
            file,
            file_name: file_name.to_owned(),
            mime_type: mime_type.to_owned(),
            caption: None,
        };
        self.act(content).await
    }

    /// Sends a voice note (3 s, `audio/ogg`) and waits.
    pub async fn send_voice(&self, bytes: impl Into<Bytes>) -> Injected {
        let file = self.sim.add_file(bytes);
        self.act(Content::Voice { file, duration: 3 }).await
    }

    /// Sends an audio file and waits.
    pub async fn send_audio(&self, bytes: impl Into<Bytes>) -> Injected {
        let file = self.sim.add_file(bytes);
        self.act(Content::Audio {
            file,
            duration: 30,
            title: None,
            mime_type: "audio/mpeg".into(),
        })
        .await
    }

    /// Sends a video and waits.
    pub async fn send_video(&self, bytes: impl Into<Bytes>) -> Injected {
        let file = self.sim.add_file(bytes);
        self.act(Content::Video {
            file,
            duration: 5,
            caption: None,
        })
        .await
    }

    /// Sends a round video message and waits.
    pub async fn send_video_note(&self, bytes: impl Into<Bytes>) -> Injected {
        let file = self.sim.add_file(bytes);
        self.act(Content::VideoNote { file, duration: 5 }).await
    }

    /// Sends a sticker and waits.
    pub async fn send_sticker(&self, emoji: &str) -> Injected {
        let file = self.sim.add_file(Bytes::from_static(b"RIFF\0\0\0\0WEBP"));
        self.act(Content::Sticker {
            file,
            emoji: emoji.to_owned(),
        })
        .await
    }

    /// Sends a GIF and waits.
    pub async fn send_animation(&self, bytes: impl Into<Bytes>) -> Injected {
        let file = self.sim.add_file(bytes);
        self.act(Content::Animation {
            file,
            duration: 2,
            caption: None,
        })
        .await
    }

    /// Shares a contact and waits.
    pub async fn send_contact(&self, phone_number: &str, first_name: &str) -> Injected {
        self.act(Content::contact(phone_number, first_name)).await
    }

    /// Shares a location and waits.
    pub async fn send_location(&self, latitude: f64, longitude: f64) -> Injected {
        self.act(Content::location(latitude, longitude)).await
    }

    /// Forwards a text from `origin` and waits.
    pub async fn forward(&self, text: &str, origin: ForwardOrigin) -> Injected {
        self.act(Incoming::new(Content::text(text)).forwarded(origin))
            .await
    }

    /// Sends several photos as one album and waits for the response to the
    /// whole group.
    pub async fn send_album(&self, photos: Vec<Bytes>) -> Vec<Injected> {
        let mut rx = self.sim.shared.activity.subscribe();
        let files: Vec<Content> = photos
            .into_iter()
            .map(|b| Content::Photo {
                file: self.sim.add_file(b),
                caption: None,
            })
            .collect();
        let mark = self.sim.shared.lock().next_call_seq;
        let injected = or_panic(
            self.sim
                .media_group(&self.user, &self.chat, files)
                .map_err(CitizenError::from),
        );
        or_panic(self.wait_response(mark, &mut rx).await);
        injected
    }

    /// Edits one of the citizen's earlier text messages and waits.
    pub async fn edit(&self, message_id: i32, new_text: &str) -> Injected {
        let mut rx = self.sim.shared.activity.subscribe();
        let mark = self.sim.shared.lock().next_call_seq;
        let injected = or_panic(
            self.sim
                .edit_message(self.chat.id, message_id, new_text)
                .map_err(CitizenError::from),
        );
        or_panic(self.wait_response(mark, &mut rx).await);
        injected
    }

    /// Presses the inline button labelled `label` (exactly, or as a unique
    /// prefix) on the bot's most recent message with an inline keyboard.
    ///
    /// # Errors
    /// [`CitizenError::NoSuchButton`], [`CitizenError::AmbiguousButton`],
    /// [`CitizenError::NotCallbackButton`], or [`CitizenError::Timeout`].
    pub async fn try_press(&self, label: &str) -> Result<Injected, CitizenError> {
        let snap = self.snapshot();
        let msg = snap
            .bot_messages()
            .filter(|m| !m.deleted && !m.inline_keyboard.is_empty())
            .last();
        let Some(msg) = msg else {
            return Err(CitizenError::NoSuchButton {
                label: label.to_owned(),
                available: Vec::new(),
            });
        };
        let buttons: Vec<&Button> = msg.inline_keyboard.iter().flatten().collect();
        let exact: Vec<&&Button> = buttons.iter().filter(|b| b.text == label).collect();
        let chosen = match exact.as_slice() {
            [b] => **b,
            _ => {
                let prefixed: Vec<&&Button> = buttons
                    .iter()
                    .filter(|b| b.text.starts_with(label))
                    .collect();
                match prefixed.as_slice() {
                    [b] => **b,
                    [] => {
                        return Err(CitizenError::NoSuchButton {
                            label: label.to_owned(),
                            available: buttons.iter().map(|b| b.text.clone()).collect(),
                        });
                    }
                    many => {
                        return Err(CitizenError::AmbiguousButton {
                            label: label.to_owned(),
                            matches: many.iter().map(|b| b.text.clone()).collect(),
                        });
                    }
                }
            }
        };
        let data = chosen
            .callback_data
            .clone()
            .ok_or_else(|| CitizenError::NotCallbackButton {
                label: chosen.text.clone(),
            })?;
        let mut rx = self.sim.shared.activity.subscribe();
        let (injected, mark) = {
            let mut st = self.sim.shared.lock();
            let mark = st.next_call_seq;
            (
                st.inject_callback(&self.user, self.chat.id, msg.message_id, &data)?,
                mark,
            )
        };
        self.sim.shared.notify_updates();
        self.wait_response(mark, &mut rx).await?;
        Ok(injected)
    }

    /// Like [`Self::try_press`]; panics with the available buttons if not found.
    pub async fn press(&self, label: &str) -> Injected {
        or_panic(self.try_press(label).await)
    }

    /// Taps a button of the reply keyboard currently shown: sends its text,
    /// or the citizen's contact/location for request buttons.
    ///
    /// # Panics
    /// If no such button is shown, or the bot does not respond in time.
    pub async fn tap(&self, label: &str) -> Injected {
        let kb = self.snapshot().reply_keyboard;
        let Some(kb) = kb else {
            panic!(
                "{}",
                CitizenError::NoSuchButton {
                    label: label.to_owned(),
                    available: Vec::new()
                }
            );
        };
        let all: Vec<String> = kb.rows.iter().flatten().cloned().collect();
        if !all.iter().any(|b| b == label) {
            panic!(
                "{}",
                CitizenError::NoSuchButton {
                    label: label.to_owned(),
                    available: all
                }
            );
        }
        let content = if kb.request_contact.iter().any(|b| b == label) {
            Content::Contact {
                phone_number: self.phone.clone(),
                first_name: self.user.first_name.clone(),
                last_name: self.user.last_name.clone(),
                user_id: Some(self.user.id),
            }
        } else if kb.request_location.iter().any(|b| b == label) {
            Content::location(12.2388, 109.1967)
        } else {
            Content::text(label)
        };
        if kb.one_time
            && let Some(chat) = self.sim.shared.lock().chats.get_mut(&self.chat.id)
        {
            chat.reply_keyboard = None;
        }
        self.act(content).await
    }

    /// Blocks the bot: further sends to this chat fail with 403 until the
    /// citizen writes again.
    pub fn block_bot(&self) {
        if let Some(chat) = self.sim.shared.lock().chats.get_mut(&self.chat.id) {
            chat.blocked = true;
            chat.events.push(ChatEvent::Blocked);
        }
    }

    // -------------------------------------------------------------- waiting

    async fn wait_response(
        &self,
        mark: u64,
        rx: &mut watch::Receiver<u64>,
    ) -> Result<(), CitizenError> {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let first_response = loop {
            rx.borrow_and_update();
            if let Some((_, at)) = self.last_touch().filter(|(seq, _)| *seq >= mark) {
                break at;
            }
            if Instant::now() >= deadline {
                return Err(self.timeout_error(start));
            }
            tokio::select! {
                r = rx.changed() => if r.is_err() { return Err(self.timeout_error(start)); },
                _ = tokio::time::sleep_until(deadline) => {}
            }
        };
        // A bot that was slow to answer at all (a loaded machine) is likely
        // slow between its calls too, so the quiet period stretches to the
        // observed latency.
        let quiet = self
            .quiet
            .max(first_response.saturating_duration_since(start));
        self.quiet_until(start, deadline, quiet, rx).await
    }

    async fn quiet_until(
        &self,
        start: Instant,
        deadline: Instant,
        quiet: Duration,
        rx: &mut watch::Receiver<u64>,
    ) -> Result<(), CitizenError> {
        loop {
            rx.borrow_and_update();
            let (touch, in_flight) = {
                let st = self.sim.shared.lock();
                st.chats
                    .get(&self.chat.id)
                    .map_or((None, 0), |c| (c.last_touch, c.in_flight))
            };
            let now = Instant::now();
            let wake = if in_flight > 0 {
                deadline
            } else {
                let Some(touch) = touch else { return Ok(()) };
                let until = touch.at + quiet;
                if now >= until {
                    return Ok(());
                }
                until.min(deadline)
            };
            if now >= deadline {
                return Err(self.timeout_error(start));
            }
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    fn last_touch(&self) -> Option<(u64, Instant)> {
        let st = self.sim.shared.lock();
        st.chats
            .get(&self.chat.id)
            .and_then(|c| c.last_touch)
            .map(|t| (t.seq, t.at))
    }

    fn timeout_error(&self, start: Instant) -> CitizenError {
        let failures: Vec<String> = {
            let st = self.sim.shared.lock();
            st.calls
                .iter()
                .rev()
                .filter(|c| c.chat_id == Some(self.chat.id))
                .filter_map(|c| match &c.outcome {
                    CallOutcome::Error { code, description } => {
                        Some(format!("  {} → {code} {description}", c.method))
                    }
                    CallOutcome::Dropped => Some(format!("  {} → connection dropped", c.method)),
                    CallOutcome::Ok => None,
                })
                .take(5)
                .collect()
        };
        let failures = if failures.is_empty() {
            String::new()
        } else {
            format!("\nrecent failed calls:\n{}", failures.join("\n"))
        };
        CitizenError::Timeout {
            waited: start.elapsed(),
            transcript: self.transcript(),
            failures,
        }
    }

    /// Waits (up to the timeout) for the chat to go quiet, without requiring
    /// a new response.
    pub async fn settle(&self) {
        let start = Instant::now();
        let mut rx = self.sim.shared.activity.subscribe();
        or_panic(
            self.quiet_until(start, start + self.timeout, self.quiet, &mut rx)
                .await,
        );
    }

    /// Asserts the bot does not act on this chat during `window`.
    ///
    /// # Panics
    /// If the bot made a visible call on this chat in the window.
    pub async fn expect_silence(&self, window: Duration) {
        let mark = self.sim.shared.lock().next_call_seq;
        tokio::time::sleep(window).await;
        if self.last_touch().is_some_and(|(seq, _)| seq >= mark) {
            panic!(
                "{}",
                CitizenError::UnexpectedResponse {
                    transcript: self.transcript()
                }
            );
        }
    }

    /// Waits until `pred` holds for the chat (re-checked after every bot call).
    ///
    /// # Errors
    /// [`CitizenError::ConditionTimeout`] with the transcript.
    pub async fn try_wait_for(
        &self,
        mut pred: impl FnMut(&ChatSnapshot) -> bool,
    ) -> Result<ChatSnapshot, CitizenError> {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let mut rx = self.sim.shared.activity.subscribe();
        loop {
            rx.borrow_and_update();
            let snap = self.snapshot();
            if pred(&snap) {
                return Ok(snap);
            }
            if Instant::now() >= deadline {
                return Err(CitizenError::ConditionTimeout {
                    waited: start.elapsed(),
                    transcript: self.transcript(),
                });
            }
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Like [`Self::try_wait_for`]; panics with the transcript on timeout.
    pub async fn wait_for(&self, pred: impl FnMut(&ChatSnapshot) -> bool) -> ChatSnapshot {
        or_panic(self.try_wait_for(pred).await)
    }

    // -------------------------------------------------------------- reading

    /// A consistent copy of the chat.
    pub fn snapshot(&self) -> ChatSnapshot {
        let st = self.sim.shared.lock();
        st.chats
            .get(&self.chat.id)
            .map(super::state::ChatState::snapshot)
            .unwrap_or_else(|| ChatSnapshot {
                chat: self.chat.clone(),
                messages: Vec::new(),
                events: Vec::new(),
                bot_left: false,
                blocked: false,
                reply_keyboard: None,
            })
    }

    /// Text (or caption) of the bot's most recent message that is not deleted.
    pub fn last_text(&self) -> Option<String> {
        self.snapshot()
            .last_bot_message()
            .and_then(|m| m.text.clone())
    }

    /// Labels of the inline buttons on the bot's most recent message that has
    /// an inline keyboard (empty if none).
    pub fn last_buttons(&self) -> Vec<String> {
        self.snapshot()
            .bot_messages()
            .filter(|m| !m.deleted && !m.inline_keyboard.is_empty())
            .last()
            .map(ChatMessage::button_labels)
            .unwrap_or_default()
    }

    /// The bot's messages (deleted ones included).
    pub fn bot_messages(&self) -> Vec<ChatMessage> {
        self.snapshot().bot_messages().cloned().collect()
    }

    /// Reply keyboard currently shown, as rows of labels.
    pub fn reply_keyboard(&self) -> Option<Vec<Vec<String>>> {
        self.snapshot().reply_keyboard.map(|k| k.rows)
    }

    /// The text of the most recent callback-query notification.
    pub fn last_notice(&self) -> Option<String> {
        self.snapshot().events.iter().rev().find_map(|e| match e {
            ChatEvent::CallbackAnswer { text, .. } => text.clone(),
            _ => None,
        })
    }

    /// The current point in the conversation.
    pub fn mark(&self) -> Mark {
        let snap = self.snapshot();
        Mark {
            message_id: snap.messages.last().map_or(0, |m| m.message_id),
            events: snap.events.len(),
        }
    }

    /// Messages (bot's and user's) that appeared after `mark`.
    pub fn messages_since(&self, mark: Mark) -> Vec<ChatMessage> {
        self.snapshot()
            .messages
            .into_iter()
            .filter(|m| m.message_id > mark.message_id)
            .collect()
    }

    /// The bot's messages that appeared after `mark`.
    pub fn bot_messages_since(&self, mark: Mark) -> Vec<ChatMessage> {
        self.messages_since(mark)
            .into_iter()
            .filter(|m| m.sender == Sender::Bot)
            .collect()
    }

    /// The conversation as a person would read it.
    pub fn transcript(&self) -> String {
        transcript::render(&self.snapshot())
    }
}
