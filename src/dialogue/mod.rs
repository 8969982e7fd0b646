//! The report dialogue, knowing nothing of Telegram: a state machine over its own types.
//!
//! - [`event`]: what the citizen did ([`event::Event`]), as an adapter reports it;
//! - [`machine`]: one turn, [`machine::decide`], and the functions that take back what an
//!   [`machine::Effect`] (submit, check a receipt, store a reply, fetch a file) found;
//! - [`flow`]: the report's steps, their prompts and answers;
//! - [`files`]: evidence files at the dialogue's level (limits, what the reporter is told);
//! - [`draft`]: the state of one person's dialogue, which the adapter seals and stores;
//! - [`outbox`], [`keyboard`]: what a turn says and does, and buttons, in the dialogue's terms;
//! - [`summary`]: the de-identified summary the reporter reviews, exactly what is sealed;
//! - [`catalog`], [`texts`]: the choices and every word, in Vietnamese and English.
//!
//! No module here imports teloxide, tokio or the store: the Telegram adapter (`crate::bot`)
//! turns updates into events and outboxes into Bot API calls, and a second intake channel
//! would do the same with its own adapter.

pub mod catalog;
pub mod draft;
pub mod event;
pub mod files;
pub mod flow;
pub mod keyboard;
pub mod machine;
pub mod outbox;
pub mod summary;
pub mod texts;

#[cfg(test)]
mod tests;
