//! The Telegram adapter (teloxide) of the report dialogue ([`crate::dialogue`]).
//!
//! - [`handlers`]: the routing of updates ([`route`]): non-private chats first (the bot says once
//!   that it works only in private and leaves), then commands (so /cancel works at any step),
//!   messages by kind, button presses, edits, and a silent fallback. Each endpoint turns its
//!   update into a dialogue [`Event`](crate::dialogue::event::Event) and hands it to
//!   [`App::turn`].
//! - [`turn`]: one turn for one person: load the sealed draft, run the dialogue, do its
//!   effects through the services, save, and only then speak ([`send`]).
//! - Services the dialogue's effects call: [`submit`] (seal and commit a report, issue its
//!   receipt), [`status`] (a receipt's case and the reporter's reply), [`evidence`] (files).
//! - [`app`]: what the handlers share, and what is held in memory per person (never stored).
//!
//! Privacy: nothing here logs message text, names, usernames, ids or receipts; logs carry
//! counts and durations. teloxide's own logging, whose error paths can print raw updates, is
//! switched off in [`crate::telemetry`], and the dispatcher's default update and error
//! handlers are replaced by content-free ones.

pub mod app;
pub mod cache;
pub mod draft;
pub mod evidence;
pub mod handlers;
pub mod limits;
pub mod outgoing;
pub mod pace;
pub mod queue;
pub mod send;
pub mod status;
pub mod submit;
pub mod turn;

pub use crate::dialogue::{catalog, flow, summary, texts};
pub use app::App;
pub use handlers::{SafeErrorHandler, dispatcher, handle_update, route, run_polling, set_commands};

use teloxide::RequestError;
use teloxide::prelude::*;

use self::draft::DraftError;

/// The bot type: teloxide's Bot. Calls Telegram flood-limits are paced by the bot itself
/// ([`pace`]), with a margin under the limits, rather than by teloxide's Throttle adaptor.
pub type TgBot = Bot;

/// Errors of one handler run. Their `Display` never contains content.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A Bot API request failed.
    #[error("telegram request failed: {0}")]
    Telegram(String),
    /// The store failed after the reporter had been answered.
    #[error("storage failed: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Sealing failed (no recipients).
    #[error("sealing failed")]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A draft could not be sealed or read.
    #[error(transparent)]
    Draft(#[from] DraftError),
    /// The signed keyring did not verify: nothing is sealed until it does.
    #[error("keyring not trusted: {0}")]
    Trust(#[from] crate::trust::TrustError),
}

impl From<RequestError> for HandlerError {
    fn from(e: RequestError) -> Self {
        HandlerError::Telegram(request_error_kind(&e))
    }
}

/// A content-free description of a Bot API error: the kind and code, never the payload.
/// (Errors are counted in [`crate::metrics`] where calls are made, in [`outgoing::deliver`].)
pub fn request_error_kind(e: &RequestError) -> String {
    match e {
        RequestError::Api(api) => {
            format!("api error {:?}", std::mem::discriminant(api)).replace("Discriminant", "")
        }
        RequestError::MigrateToChatId(_) => "migrate to chat id".into(),
        RequestError::RetryAfter(s) => format!("retry after {}s", s.seconds()),
        RequestError::Network(n) => format!(
            "network ({})",
            if n.is_timeout() {
                "timeout"
            } else {
                "connection"
            }
        ),
        RequestError::InvalidJson { .. } => "invalid json in response".into(),
        RequestError::Io(_) => "io".into(),
    }
}

/// Telegram's limits as teloxide's Throttle adaptor should apply them (the load test's bare
/// baseline bot uses it; tipline paces itself, [`pace`]): about one message a second in a
/// private chat (the per-minute figure only smooths bursts), 20 a minute in groups, 30 a
/// second overall (Bot API FAQ). teloxide's default of 20 a minute per chat would stall a
/// citizen who answers quickly.
pub fn telegram_limits() -> teloxide::adaptors::throttle::Limits {
    teloxide::adaptors::throttle::Limits {
        messages_per_sec_chat: 1,
        messages_per_min_chat: 60,
        messages_per_min_channel_or_supergroup: 20,
        messages_per_sec_overall: 30,
    }
}
