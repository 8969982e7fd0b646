//! tipline: a Telegram hotline through which citizens of Khánh Hòa report misconduct by public
//! officials to the Provincial Inspectorate without exposing who they are.
//!
//! Module map:
//! - [`config`]: the one `Config`, loaded once in `main` (defaults < file < environment).
//! - [`crypto`]: sealed envelopes (HPKE), key files, receipts, pseudonyms, the server secret.
//! - [`ids`]: identifier newtypes parsed at the edge.
//! - [`store`]: SQLite and PostgreSQL behind one domain-level API; migrations.
//! - [`cli`]: the `tipline` command line (init, migrate, keys, admin).
//! - [`clock`]: days in Vietnam time, the only time reporter activity is stored in.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod ids;
pub mod store;
