//! Errors: the Telegram-shaped errors the fake Bot API returns to the bot, and
//! the errors the simulator's Rust API returns to a test.
//!
//! Invariant: every error the HTTP side emits is rendered by
//! [`ApiError::body`], so its JSON shape is exactly Telegram's:
//! `{"ok":false,"error_code":N,"description":"..."}` plus `parameters` for
//! 429 (`retry_after`) and group migrations (`migrate_to_chat_id`).

use serde_json::{Value, json};

/// An error as the Bot API reports it to the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status and `error_code`.
    pub code: u16,
    /// `description`, worded like Telegram's.
    pub description: String,
    /// `parameters.retry_after` (seconds) for 429.
    pub retry_after: Option<u64>,
    /// `parameters.migrate_to_chat_id` for upgraded groups.
    pub migrate_to_chat_id: Option<i64>,
}

impl ApiError {
    fn new(code: u16, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            retry_after: None,
            migrate_to_chat_id: None,
        }
    }

    /// 400 with `"Bad Request: {what}"`.
    pub fn bad_request(what: impl AsRef<str>) -> Self {
        Self::new(400, format!("Bad Request: {}", what.as_ref()))
    }

    /// 403 with `"Forbidden: {what}"`.
    pub fn forbidden(what: impl AsRef<str>) -> Self {
        Self::new(403, format!("Forbidden: {}", what.as_ref()))
    }

    /// 409 with `"Conflict: {what}"`.
    pub fn conflict(what: impl AsRef<str>) -> Self {
        Self::new(409, format!("Conflict: {}", what.as_ref()))
    }

    /// 401 for a wrong token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized")
    }

    /// 404 for an unknown method.
    pub fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    /// 413 for an oversized upload.
    pub fn entity_too_large() -> Self {
        Self::new(413, "Request Entity Too Large")
    }

    /// 429 flood-control error.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(429, format!("Too Many Requests: retry after {retry_after}"));
        e.retry_after = Some(retry_after);
        e
    }

    /// 502 from the injected 5xx fault.
    pub fn bad_gateway() -> Self {
        Self::new(502, "Bad Gateway")
    }

    /// 500 Internal Server Error, as Telegram answers when it has trouble of its own.
    pub fn internal_server_error() -> Self {
        Self::new(500, "Internal Server Error")
    }

    /// 400 for a message sent to a group that became a supergroup.
    pub fn migrated(to: i64) -> Self {
        let mut e = Self::bad_request("group chat was upgraded to a supergroup chat");
        e.migrate_to_chat_id = Some(to);
        e
    }

    /// 400 `chat not found`.
    pub fn chat_not_found() -> Self {
        Self::bad_request("chat not found")
    }

    /// The JSON response body.
    pub fn body(&self) -> Value {
        let mut v =
            json!({ "ok": false, "error_code": self.code, "description": self.description });
        let mut params = serde_json::Map::new();
        if let Some(s) = self.retry_after {
            params.insert("retry_after".into(), json!(s));
        }
        if let Some(c) = self.migrate_to_chat_id {
            params.insert("migrate_to_chat_id".into(), json!(c));
        }
        if !params.is_empty()
            && let Some(obj) = v.as_object_mut()
        {
            obj.insert("parameters".into(), Value::Object(params));
        }
        v
    }
}

/// Errors of the simulator's own Rust API.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding the loopback listener failed.
    #[error("could not bind the simulator's listener: {0}")]
    Bind(#[source] std::io::Error),
    /// Building the HTTP client for webhook delivery failed.
    #[error("could not build the webhook HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The referenced file was never registered with this simulator.
    #[error("file {0} is not registered with the simulator")]
    UnknownFile(String),
    /// The referenced chat does not exist in the simulator.
    #[error("chat {0} is not known to the simulator")]
    UnknownChat(i64),
    /// The referenced message does not exist (or is deleted).
    #[error("message {message_id} not found in chat {chat_id}")]
    UnknownMessage {
        /// Chat searched.
        chat_id: i64,
        /// Message id that was not found.
        message_id: i32,
    },
    /// The referenced update is not in the simulator's history.
    #[error("update {0} not found")]
    UnknownUpdate(u32),
    /// No update is waiting for delivery.
    #[error("no pending update to deliver")]
    NothingPending,
    /// The operation needs a different chat kind (e.g. migrating a private chat).
    #[error("operation not possible for this kind of chat")]
    WrongChatKind,
    /// A webhook delivery failed at the transport level.
    #[error("webhook delivery failed: {0}")]
    Delivery(#[source] reqwest::Error),
}
