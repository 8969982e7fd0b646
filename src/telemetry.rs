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

/// True for events from a silenced target. Applied as a separate filter because an
/// `EnvFilter` prefers the most specific directive: `teloxide::dispatching=trace` would beat
/// `teloxide=off`.
pub fn is_silenced(target: &str) -> bool {
    SILENCED_TARGETS.iter().any(|t| {
        target == *t
            || target
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

/// Installs the global subscriber: `RUST_LOG` if set, else `default`.
pub fn init(default: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let directives = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_owned());
    let silence = tracing_subscriber::filter::filter_fn(|meta| !is_silenced(meta.target()));
    let _ = tracing_subscriber::registry()
        .with(filter(&directives))
        .with(silence)
        .with(tracing_subscriber::fmt::layer().with_target(false))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silenced_whatever_the_filter_says() {
        assert!(is_silenced("teloxide"));
        assert!(is_silenced("teloxide::dispatching::dispatcher"));
        assert!(is_silenced("teloxide_core::adaptors::throttle"));
        assert!(is_silenced("sqlx::query"));
        assert!(!is_silenced("tipline::bot"));
        assert!(!is_silenced("teloxidefoo"));
    }
}
