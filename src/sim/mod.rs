//! A fake Telegram Bot API server for testing the bot end to end: real
//! teloxide, real HTTP, no Telegram.
//!
//! [`Simulator::start`] binds 127.0.0.1 on a random port; point teloxide at
//! it with `Bot::new(sim.token()).set_api_url(sim.api_url())`. Tests inject
//! what users do (messages of every kind, button presses, edits, channel
//! posts) and read back what the bot did (messages with their current text,
//! keyboards, deletions, every API call). [`Citizen`] wraps one user in a
//! private chat and waits for the bot's response after each action.
//!
//! Module map:
//! - `server` — axum routes, long-polled getUpdates, fault injection, file downloads.
//! - `methods` — the Bot API methods with Telegram's rules and error wording.
//! - `params` — JSON / form / multipart / query parameter parsing.
//! - `markup` — `parse_mode` (HTML, MarkdownV2, Markdown) into text and entities.
//! - `state` — chats, messages, files, update queue, recorded calls.
//! - `updates` — the JSON of injected updates.
//! - `webhook` — webhook delivery with secret header and retries.
//! - `faults` — flood limits, 5xx, stalls, dropped connections.
//! - `clock` — the adjustable clock behind dates and the 48-hour rule.
//! - `citizen`, `transcript` — the conversation-shaped test helper.
//!
//! Invariants: the simulator is deterministic given the same sequence of
//! injections and calls (ids are counters; no randomness); it never logs
//! message content above DEBUG and is silent by default; dropping the last
//! [`Simulator`] handle stops the server and the webhook worker.

mod citizen;
mod clock;
mod error;
mod faults;
mod markup;
mod methods;
mod params;
mod server;
mod state;
pub mod transcript;
mod types;
mod updates;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use citizen::{Citizen, CitizenError, DEFAULT_QUIET, DEFAULT_TIMEOUT};
pub use error::{ApiError, SimError};
pub use faults::{EveryNth, Faults, FloodLimits, MethodFilter, Stall};
pub use server::WebhookRetry;
pub use types::{
    ApiCall, Button, CallOutcome, ChatEvent, ChatKind, ChatMessage, ChatSnapshot, Content,
    ContentKind, FileRef, ForwardOrigin, Incoming, Injected, Mark, ReplyKeyboard, Sender, SimChat,
    SimUser, WebhookDelivery, WebhookRouting,
};

use server::Shared;
use state::{BotIdentity, State, WebhookState};

/// Default bot token; the part before `:` is the bot's user id.
pub const DEFAULT_TOKEN: &str = "7000000001:SIMULATOR-test-token";

/// Configures and starts a [`Simulator`].
#[derive(Clone, Debug)]
pub struct SimulatorBuilder {
    token: String,
    bot_first_name: String,
    bot_username: String,
    start_time: Option<i64>,
    first_update_id: u32,
    record_calls: bool,
    webhook_retry: WebhookRetry,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        Self {
            token: DEFAULT_TOKEN.to_owned(),
            bot_first_name: "Tipline".to_owned(),
            bot_username: "tipline_test_bot".to_owned(),
            start_time: None,
            first_update_id: 100_000,
            record_calls: true,
            webhook_retry: WebhookRetry::default(),
        }
    }
}

impl SimulatorBuilder {
    /// The token the bot must use (`<bot id>:<secret>`).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The bot's first name and username as getMe reports them.
    #[must_use]
    pub fn bot_name(mut self, first_name: impl Into<String>, username: impl Into<String>) -> Self {
        self.bot_first_name = first_name.into();
        self.bot_username = username.into();
        self
    }

    /// Starts the simulated clock at this unix time (default: real time now).
    #[must_use]
    pub fn start_time(mut self, unix: i64) -> Self {
        self.start_time = Some(unix);
        self
    }

    /// The first update id handed out.
    #[must_use]
    pub fn first_update_id(mut self, id: u32) -> Self {
        self.first_update_id = id;
        self
    }

    /// Whether to keep the call log (turn off for long load runs).
    #[must_use]
    pub fn record_calls(mut self, on: bool) -> Self {
        self.record_calls = on;
        self
    }

    /// Webhook retry policy.
    #[must_use]
    pub fn webhook_retry(mut self, retry: WebhookRetry) -> Self {
        self.webhook_retry = retry;
        self
    }

    /// Binds 127.0.0.1 on a random port and starts serving.
    ///
    /// # Errors
    /// [`SimError::Bind`] if no loopback port can be bound, [`SimError::HttpClient`]
    /// if the webhook client cannot be built.
    pub async fn start(self) -> Result<Simulator, SimError> {
        let bot_id = self
            .token
            .split(':')
            .next()
            .and_then(|id| id.parse::<u64>().ok())
            .unwrap_or(7_000_000_001);
        let bot = BotIdentity {
            id: bot_id,
            first_name: self.bot_first_name,
            username: self.bot_username,
        };
        let state = State::new(
            bot,
            clock::SimClock::new(self.start_time),
            self.first_update_id,
            self.record_calls,
        );
        // Webhook targets are on loopback; never route them through a proxy
        // configured in the environment.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(SimError::HttpClient)?;
        let shared = Arc::new(Shared::new(state, self.token, http, self.webhook_retry));
        let (listener, addr) = server::bind().await.map_err(SimError::Bind)?;
        let app = server::router(shared.clone())
            .into_make_service_with_connect_info::<server::ConnHandle>();
        let server = tokio::spawn(async move {
            // `serve` only returns on an I/O error of the listener itself.
            if let Err(e) = axum::serve(listener, app).await {
                tracing::debug!(error = %e, "simulator server stopped");
            }
        });
        let webhook = tokio::spawn(webhook::run(shared.clone()));
        let guard = Arc::new(Tasks {
            shared: shared.clone(),
            server,
            webhook,
        });
        Ok(Simulator {
            shared,
            addr,
            _tasks: guard,
        })
    }
}

/// Background tasks; stopped when the last [`Simulator`] handle drops.
struct Tasks {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    webhook: JoinHandle<()>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        self.server.abort();
        self.webhook.abort();
    }
}

/// A running fake Bot API server. Cheap to clone; all clones share one state.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) shared: Arc<Shared>,
    addr: SocketAddr,
    _tasks: Arc<Tasks>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of Debug output, as for teloxide's Bot.
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts a simulator with default settings.
    ///
    /// # Errors
    /// As [`SimulatorBuilder::start`].
    pub async fn start() -> Result<Self, SimError> {
        SimulatorBuilder::default().start().await
    }

    /// A builder for non-default settings.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// Base URL for `Bot::set_api_url`, e.g. `http://127.0.0.1:41234/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token the bot must use.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The bot as a Telegram user (as getMe describes it).
    pub fn bot_user(&self) -> SimUser {
        let st = self.shared.lock();
        SimUser::new(st.bot.id, st.bot.first_name.clone())
            .username(st.bot.username.clone())
            .bot()
    }

    /// A citizen (a person in a private chat with the bot).
    pub fn citizen(&self, user: SimUser) -> Citizen {
        Citizen::new(self.clone(), user)
    }

    // ------------------------------------------------------------ clock

    /// Current unix time on the simulated clock.
    pub fn now(&self) -> i64 {
        self.shared.lock().now()
    }

    /// Moves the simulated clock forward (e.g. 48 hours to test deletion rules).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.lock().clock.advance(by);
    }

    // ------------------------------------------------------------ files

    /// Registers bytes as a Telegram file the bot can fetch with getFile.
    pub fn add_file(&self, bytes: impl Into<Bytes>) -> FileRef {
        self.shared
            .lock()
            .register_file(bytes.into(), "documents", "bin")
    }

    /// The bytes behind a file id (files users sent and files the bot uploaded).
    pub fn file_bytes(&self, file_id: &str) -> Option<Bytes> {
        self.shared
            .lock()
            .files
            .get(file_id)
            .map(|f| f.bytes.clone())
    }

    // ------------------------------------------------------------ chats

    /// Creates a group, supergroup or channel with a fresh id.
    pub fn create_chat(&self, kind: ChatKind, title: &str) -> SimChat {
        let mut st = self.shared.lock();
        let id = st.alloc_public_chat_id(kind);
        let chat = SimChat::public(id, kind, title);
        st.ensure_chat(&chat);
        chat
    }

    /// Grants or revokes the bot's admin rights in a group or channel
    /// (affects which messages it may delete).
    ///
    /// # Errors
    /// [`SimError::UnknownChat`] if the chat does not exist.
    pub fn set_bot_admin(&self, chat_id: i64, admin: bool) -> Result<(), SimError> {
        let mut st = self.shared.lock();
        let chat = st
            .chats
            .get_mut(&chat_id)
            .ok_or(SimError::UnknownChat(chat_id))?;
        chat.bot_is_admin = admin;
        Ok(())
    }

    /// Upgrades a basic group to a supergroup: sends to the old id then fail
    /// with `migrate_to_chat_id`. Returns the new supergroup.
    ///
    /// # Errors
    /// [`SimError::UnknownChat`], or [`SimError::WrongChatKind`] if it is not a basic group.
    pub fn migrate_to_supergroup(&self, chat_id: i64) -> Result<SimChat, SimError> {
        let mut st = self.shared.lock();
        let old = st
            .chats
            .get(&chat_id)
            .ok_or(SimError::UnknownChat(chat_id))?;
        if old.chat.kind != ChatKind::Group {
            return Err(SimError::WrongChatKind);
        }
        let title = old.chat.title.clone().unwrap_or_default();
        let id = st.alloc_public_chat_id(ChatKind::Supergroup);
        let chat = SimChat::public(id, ChatKind::Supergroup, title);
        st.ensure_chat(&chat);
        if let Some(old) = st.chats.get_mut(&chat_id) {
            old.migrated_to = Some(id);
        }
        Ok(chat)
    }

    /// A consistent copy of one chat.
    pub fn chat(&self, chat_id: i64) -> Option<ChatSnapshot> {
        self.shared
            .lock()
            .chats
            .get(&chat_id)
            .map(state::ChatState::snapshot)
    }

    /// The bot's messages in a chat (current state, deleted ones included).
    pub fn bot_messages(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.chat(chat_id)
            .map(|c| c.bot_messages().cloned().collect())
            .unwrap_or_default()
    }

    /// How many messages the bot has sent in a chat (deleted ones included), without copying
    /// the chat: for load runs, where thousands of citizens poll.
    pub fn bot_message_count(&self, chat_id: i64) -> usize {
        let st = self.shared.lock();
        st.chats.get(&chat_id).map_or(0, |c| {
            c.messages
                .values()
                .filter(|m| m.sender == Sender::Bot)
                .count()
        })
    }

    /// The newest bot message in a chat with a callback button whose label starts with
    /// `label`: its message id and the button's data (without copying the chat).
    pub fn find_button(&self, chat_id: i64, label: &str) -> Option<(i32, String)> {
        let st = self.shared.lock();
        let chat = st.chats.get(&chat_id)?;
        chat.messages.values().rev().find_map(|m| {
            if m.sender != Sender::Bot || m.deleted {
                return None;
            }
            m.json["reply_markup"]["inline_keyboard"]
                .as_array()?
                .iter()
                .filter_map(Value::as_array)
                .flatten()
                .find(|b| b["text"].as_str().is_some_and(|t| t.starts_with(label)))
                .and_then(|b| b["callback_data"].as_str())
                .map(|d| (m.id, d.to_owned()))
        })
    }

    /// Users' messages in a chat (deleted ones included).
    pub fn user_messages(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.chat(chat_id)
            .map(|c| c.user_messages().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the bot left the chat.
    pub fn bot_left(&self, chat_id: i64) -> bool {
        self.chat(chat_id).is_some_and(|c| c.bot_left)
    }

    /// The transcript of a chat (see [`transcript::render`]).
    pub fn transcript(&self, chat_id: i64) -> String {
        self.chat(chat_id)
            .map(|c| transcript::render(&c))
            .unwrap_or_default()
    }

    // ------------------------------------------------------------ injection

    fn injected<T>(&self, r: Result<T, SimError>) -> Result<T, SimError> {
        if r.is_ok() {
            self.shared.notify_updates();
        }
        r
    }

    /// `from` sends `incoming` into `chat` (private, group or supergroup).
    ///
    /// # Errors
    /// [`SimError::UnknownFile`] for unregistered files, [`SimError::UnknownMessage`]
    /// for a reply to a missing message.
    pub fn send_message(
        &self,
        from: &SimUser,
        chat: &SimChat,
        incoming: impl Into<Incoming>,
    ) -> Result<Injected, SimError> {
        let r = self
            .shared
            .lock()
            .inject_message(Some(from), chat, &incoming.into());
        self.injected(r)
    }

    /// `from` writes to the bot in their private chat.
    ///
    /// # Errors
    /// As [`Simulator::send_message`].
    pub fn private_message(
        &self,
        from: &SimUser,
        incoming: impl Into<Incoming>,
    ) -> Result<Injected, SimError> {
        self.send_message(from, &SimChat::private(from), incoming)
    }

    /// Queues an update of `kind` with an arbitrary `payload`, e.g. one teloxide cannot parse
    /// (which must not make the bot print it). Returns its update id.
    pub fn inject_raw(&self, kind: &'static str, payload: Value) -> u32 {
        let id = self.shared.lock().push_update(kind, payload);
        self.shared.notify_updates();
        id
    }

    /// How many requests for `method` have arrived (counted on arrival, so a stalled call
    /// counts while it is still waiting; works with call recording off).
    pub fn requests_received(&self, method: &str) -> u64 {
        self.shared
            .lock()
            .received
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// How many getUpdates calls have been made (a bot that polls has started).
    pub fn poll_count(&self) -> u64 {
        self.shared.lock().poll_generation
    }

    /// How many calls the flood limits have answered with 429 (counted even when call
    /// recording is off).
    pub fn flood_rejections(&self) -> usize {
        usize::try_from(self.shared.lock().fault_state.flood_rejections).unwrap_or(usize::MAX)
    }

    /// When the bot first received update `update_id` through getUpdates (and forgets it).
    pub fn take_delivery_time(&self, update_id: u32) -> Option<tokio::time::Instant> {
        self.shared.lock().delivered.remove(&update_id)
    }

    /// `from` adds the bot to `chat` (the bot receives `my_chat_member`).
    pub fn add_bot_to_chat(&self, from: &SimUser, chat: &SimChat) -> Injected {
        let injected = self.shared.lock().inject_bot_added(from, chat);
        self.shared.notify_updates();
        injected
    }

    /// A post in a channel (the bot receives `channel_post`).
    ///
    /// # Errors
    /// As [`Simulator::send_message`].
    pub fn channel_post(
        &self,
        channel: &SimChat,
        incoming: impl Into<Incoming>,
    ) -> Result<Injected, SimError> {
        let r = self
            .shared
            .lock()
            .inject_message(None, channel, &incoming.into());
        self.injected(r)
    }

    /// Several messages sharing one `media_group_id` (an album).
    ///
    /// # Errors
    /// As [`Simulator::send_message`]; items before the failing one stay injected.
    pub fn media_group(
        &self,
        from: &SimUser,
        chat: &SimChat,
        items: Vec<Content>,
    ) -> Result<Vec<Injected>, SimError> {
        let r = {
            let mut st = self.shared.lock();
            let group = format!("SIMalbum{}", st.next_media_group);
            st.next_media_group += 1;
            items
                .into_iter()
                .map(|content| {
                    let mut incoming = Incoming::new(content);
                    incoming.media_group_id = Some(group.clone());
                    st.inject_message(Some(from), chat, &incoming)
                })
                .collect::<Result<Vec<_>, _>>()
        };
        self.injected(r)
    }

    /// The sender edits a message (`edited_message` / `edited_channel_post`).
    ///
    /// # Errors
    /// [`SimError::UnknownChat`] or [`SimError::UnknownMessage`] (also for the bot's own messages).
    pub fn edit_message(
        &self,
        chat_id: i64,
        message_id: i32,
        new_text: &str,
    ) -> Result<Injected, SimError> {
        let r = self
            .shared
            .lock()
            .inject_edit(chat_id, message_id, new_text);
        self.injected(r)
    }

    /// `from` presses a callback button with `data` under the bot's `message_id`.
    ///
    /// # Errors
    /// [`SimError::UnknownChat`] or [`SimError::UnknownMessage`] (missing or deleted).
    pub fn press_button(
        &self,
        from: &SimUser,
        chat_id: i64,
        message_id: i32,
        data: &str,
    ) -> Result<Injected, SimError> {
        let r = self
            .shared
            .lock()
            .inject_callback(from, chat_id, message_id, data);
        self.injected(r)
    }

    /// Number of updates not yet confirmed or delivered.
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().pending.len()
    }

    // ------------------------------------------------------------ calls

    /// Every recorded API call, oldest first.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.shared.lock().calls.clone()
    }

    /// Recorded calls of one method (canonical name, e.g. `"sendMessage"`).
    pub fn calls_to(&self, method: &str) -> Vec<ApiCall> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// Forgets recorded calls (sequence numbers keep increasing).
    pub fn clear_calls(&self) {
        self.shared.lock().calls.clear();
    }

    /// Waits until `pred` holds, re-checking after every call the bot makes.
    /// Returns `false` on timeout.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&Simulator) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut rx = self.shared.activity.subscribe();
        loop {
            rx.borrow_and_update();
            if pred(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    // ------------------------------------------------------------ bot settings

    /// Commands set with setMyCommands for the default scope and `language_code`
    /// (`""` for the fallback list), as `(command, description)`.
    pub fn commands(&self, language_code: &str) -> Vec<(String, String)> {
        self.commands_for_scope(&json!({ "type": "default" }), language_code)
    }

    /// Commands for an explicit `BotCommandScope` JSON object.
    pub fn commands_for_scope(&self, scope: &Value, language_code: &str) -> Vec<(String, String)> {
        let key = (
            serde_json::to_string(scope).unwrap_or_default(),
            language_code.to_owned(),
        );
        let st = self.shared.lock();
        st.commands
            .get(&key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
                        (s("command"), s("description"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    // ------------------------------------------------------------ faults

    /// Replaces the fault configuration (and restarts its counters).
    pub fn set_faults(&self, faults: Faults) {
        let mut st = self.shared.lock();
        st.faults = faults;
        st.fault_state = faults::FaultState::default();
    }

    /// Turns all faults off.
    pub fn clear_faults(&self) {
        self.set_faults(Faults::default());
    }

    // ------------------------------------------------------------ webhook

    /// Configures webhook delivery as if setWebhook had been called, but with
    /// any number of target URLs (e.g. two replicas) and a routing policy.
    pub fn set_webhook_targets(
        &self,
        urls: Vec<String>,
        secret: Option<String>,
        routing: WebhookRouting,
    ) {
        self.shared.lock().webhook = Some(WebhookState {
            urls,
            secret,
            routing,
            next_target: 0,
            max_connections: 40,
            last_error: None,
            allowed_updates: None,
        });
        self.shared.notify_updates();
    }

    /// Removes the webhook (updates queue for getUpdates again).
    pub fn clear_webhook(&self) {
        self.shared.lock().webhook = None;
        self.shared.notify_updates();
    }

    /// The webhook URL(s) currently configured, if any.
    pub fn webhook_urls(&self) -> Vec<String> {
        self.shared
            .lock()
            .webhook
            .as_ref()
            .map(|w| w.urls.clone())
            .unwrap_or_default()
    }

    /// Delivers the oldest pending update to `url` (for [`WebhookRouting::Manual`]).
    /// Returns the HTTP status; the update leaves the queue on 2xx.
    ///
    /// # Errors
    /// [`SimError::NothingPending`], or [`SimError::Delivery`] if no HTTP response arrived.
    pub async fn deliver_next_to(&self, url: &str) -> Result<u16, SimError> {
        webhook::deliver_next_to(&self.shared, url).await
    }

    /// Delivers an update again (duplicate delivery) to `url`.
    ///
    /// # Errors
    /// [`SimError::UnknownUpdate`] (also when call recording, and with it the
    /// update history, is off), or [`SimError::Delivery`].
    pub async fn redeliver(&self, update_id: u32, url: &str) -> Result<u16, SimError> {
        webhook::redeliver(&self.shared, update_id, url, None).await
    }

    /// Delivers an update to `url` and hangs up after `after` if no answer came by then (a
    /// dropped connection, as when a proxy or Telegram gives up). `Ok(None)`: hung up.
    ///
    /// # Errors
    /// As [`Simulator::redeliver`], for failures other than the hang-up.
    pub async fn redeliver_and_hang_up(
        &self,
        update_id: u32,
        url: &str,
        after: std::time::Duration,
    ) -> Result<Option<u16>, SimError> {
        match webhook::redeliver(&self.shared, update_id, url, Some(after)).await {
            Ok(status) => Ok(Some(status)),
            Err(SimError::Delivery(e)) if e.is_timeout() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every webhook delivery attempt so far.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.shared.lock().deliveries.clone()
    }
}
