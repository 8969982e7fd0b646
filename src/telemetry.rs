//! Logging that cannot betray a reporter.
//!
//! tipline's own events carry case codes, pseudonym prefixes, counts and durations only.
//! Libraries are another matter: teloxide's error paths log whole updates (for instance when an
//! update fails to parse), and HTTP client internals at debug level can log request bodies. So
//! those targets are switched off here *after* the operator's filter is applied, which no
//! `RUST_LOG` or `TIPLINE_LOG` setting can undo.

use tracing_subscriber::EnvFilter;

/// Targets that are never logged, whatever the filter says.
pub const SILENCED_TARGETS: &[&str] = &[
    "teloxide",
    "teloxide_core",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "sqlx::query",
    "lopdf",
];

/// The effective filter for a user-supplied directive string (e.g. `info` or `tipline=debug`).
pub fn filter(directives: &str) -> EnvFilter {
    let mut f = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in SILENCED_TARGETS {
        if let Ok(d) = format!("{target}=off").parse() {
            f = f.add_directive(d);
        }
    }
    f
}

/// Installs the global subscriber: `RUST_LOG` if set, else `default`.
pub fn init(default: &str) {
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(&directives))
        .with_target(false)
        .try_init();
}
