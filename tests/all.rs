//! The integration tests, compiled as one binary.
//!
//! Each file beside this one is a module here rather than a test binary of its own: one link
//! instead of two dozen, and one harness that runs every test of the suite in parallel
//! (`.cargo/config.toml` sets how many at once), where separate binaries ran one after another.
//! The tests that need a process to themselves (`seizure`: it captures the process's log;
//! `memory`: it measures the process's peak memory) run the same binary again for one test
//! ([`common::in_own_process`]).
//!
//! One file's tests: `cargo test --test all bot_dialogue::`.

mod common;

mod adversary;
mod attach_clean;
mod backup;
mod bot_bad_input;
mod bot_binary;
mod bot_dialogue;
mod bot_evidence;
mod bot_report;
mod cli;
mod crash_submit;
mod deid_corpus;
mod deploy;
mod envelope_golden;
mod formats_kat;
mod loadtest;
mod memory;
mod ops;
mod replicas;
mod review_api;
mod review_cli;
mod review_loop;
mod seizure;
mod sim_selftest;
mod store_conformance;
mod threshold;
mod webhook;
