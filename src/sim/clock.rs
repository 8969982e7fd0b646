//! The simulator's adjustable wall clock.
//!
//! Message dates and the 48-hour deletion rule use this clock, so a test can
//! jump two days ahead without waiting. Invariant: the clock never runs
//! backwards on its own; it follows real elapsed time plus whatever offset
//! the test added. Rate limiting deliberately does NOT use this clock (it uses
//! tokio's monotonic `Instant`), because flood control is about real request
//! spacing, not about message age.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Unix time on the simulated clock.
#[derive(Debug)]
pub(crate) struct SimClock {
    base_unix: i64,
    started: Instant,
    offset_secs: i64,
}

impl SimClock {
    /// A clock that starts at `base_unix`, or at the real current time.
    pub(crate) fn new(base_unix: Option<i64>) -> Self {
        let base_unix = base_unix.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                // A system clock before 1970 is a broken machine; fall back to a fixed date.
                .unwrap_or(1_700_000_000)
        });
        Self {
            base_unix,
            started: Instant::now(),
            offset_secs: 0,
        }
    }

    /// Current unix time.
    pub(crate) fn now(&self) -> i64 {
        let elapsed = i64::try_from(self.started.elapsed().as_secs()).unwrap_or(i64::MAX);
        self.base_unix
            .saturating_add(elapsed)
            .saturating_add(self.offset_secs)
    }

    /// Moves the clock forward.
    pub(crate) fn advance(&mut self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.offset_secs = self.offset_secs.saturating_add(secs);
    }
}
