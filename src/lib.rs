//! tipline: a Telegram hotline through which citizens of Khánh Hòa report misconduct by public
//! officials to the Provincial Inspectorate without exposing who they are.
//!
//! Module map:
//! - [`attach`]: evidence files; metadata removal before sealing.
//! - [`dialogue`]: the report dialogue as a pure state machine: events in; messages, draft
//!   changes and effects (submit, check a receipt, …) out. No Telegram, no store, no runtime.
//! - [`bot`]: the Telegram adapter (teloxide): updates to events, outboxes to Bot API calls,
//!   and the services the dialogue's effects call (submission, receipts, replies, files).
//! - [`config`]: the one `Config`, loaded once in `main` (defaults < file < environment).
//! - [`crypto`]: sealed envelopes (HPKE), key files, receipts, pseudonyms, the server secret.
//! - [`demo`]: `tipline demo`, the pipeline end to end against the simulator.
//! - [`deid`]: finds what identifies a reporter in free text; redaction.
//! - [`ids`]: identifier newtypes parsed at the edge.
//! - [`loadtest`]: `tipline loadtest`, citizens against the real bot under flood limits.
//! - [`places`]: Khánh Hòa's communes (with pre-2025 names) and agencies.
//! - [`review`]: the review API, its tokens, and the reviewer's and custodian's client.
//! - [`reviewload`]: `tipline reviewload`, the review API timed under a large synthetic queue.
//! - [`sim`]: a Telegram Bot API simulator for tests, the demo and load runs.
//! - [`store`]: SQLite and PostgreSQL behind one domain-level API; migrations.
//! - [`cli`]: the `tipline` command line (init, migrate, keys, admin, serve).
//! - [`clock`]: days in Vietnam time, the only time reporter activity is stored in.
//! - [`telemetry`]: logging that silences libraries able to print raw updates.
//! - [`trust`]: the keyring as a chain signed by an offline authority, verified before sealing.
//! - [`webhook`]: webhook mode; the per-update guard that lets replicas act as one bot.
//! - [`metrics`], [`ops`]: Prometheus metrics, /healthz, /readyz.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod attach;
pub mod bot;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod deid;
pub mod demo;
pub mod dialogue;
pub mod ids;
pub mod loadtest;
pub mod metrics;
pub mod ops;
pub mod places;
pub mod review;
pub mod reviewload;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod trust;
pub mod webhook;
