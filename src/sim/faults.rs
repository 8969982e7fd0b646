//! Fault injection: flood limits (429), server errors (502), stalls and
//! dropped connections, all settable at runtime and off by default.
//!
//! Invariants: "every Nth" faults count only calls whose method matches the
//! fault's filter, and counters restart whenever the faults are replaced, so
//! a test gets the same pattern on every run. Flood control uses a sliding
//! one-second window on tokio's monotonic clock (not the simulator clock,
//! which tests move by days); only calls that passed count against it.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// Which methods a fault applies to (names compared case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum MethodFilter {
    /// Every method, getUpdates included.
    #[default]
    All,
    /// Every method but getUpdates (teloxide sleeps 10 s after a 5xx on any
    /// call, so faulting the polling loop makes tests slow).
    ExceptGetUpdates,
    /// Only these methods.
    Only(Vec<String>),
}

impl MethodFilter {
    pub(crate) fn matches(&self, method: &str) -> bool {
        match self {
            Self::All => true,
            Self::ExceptGetUpdates => !method.eq_ignore_ascii_case("getUpdates"),
            Self::Only(list) => list.iter().any(|m| m.eq_ignore_ascii_case(method)),
        }
    }
}

/// "Every `n`-th matching call" (n = 1 means every call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EveryNth {
    /// Period; 0 disables the fault.
    pub n: u32,
    /// Methods counted.
    pub methods: MethodFilter,
}

impl EveryNth {
    /// Every `n`-th call of any method.
    pub fn new(n: u32) -> Self {
        Self {
            n,
            methods: MethodFilter::All,
        }
    }

    /// Restricts the fault to these methods.
    #[must_use]
    pub fn only(mut self, methods: &[&str]) -> Self {
        self.methods = MethodFilter::Only(methods.iter().map(|m| (*m).to_owned()).collect());
        self
    }

    /// Excludes getUpdates.
    #[must_use]
    pub fn except_get_updates(mut self) -> Self {
        self.methods = MethodFilter::ExceptGetUpdates;
        self
    }
}

/// Telegram's documented flood limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloodLimits {
    /// Sends/edits per second into one chat (Telegram: about 1).
    pub per_chat_per_second: u32,
    /// Sends/edits per second over all chats (Telegram: 30).
    pub global_per_second: u32,
}

impl Default for FloodLimits {
    fn default() -> Self {
        Self {
            per_chat_per_second: 1,
            global_per_second: 30,
        }
    }
}

/// Delay some responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stall {
    /// How long to hold the response.
    pub delay: Duration,
    /// Which calls.
    pub every: EveryNth,
}

/// The active fault configuration. `Faults::default()` means no faults.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Faults {
    /// Enforce flood limits on send/edit methods (429 with `retry_after`).
    pub flood: Option<FloodLimits>,
    /// Answer 502 Bad Gateway.
    pub bad_gateway: Option<EveryNth>,
    /// Delay responses.
    pub stall: Option<Stall>,
    /// Close the connection without a response (before the call takes effect).
    pub drop_connection: Option<EveryNth>,
    /// Answer 500 Internal Server Error (before the call takes effect).
    pub internal_error: Option<EveryNth>,
    /// Let the call take effect, then close the connection before the answer: the client
    /// sees a network error for a message that was in fact sent (what makes a retry send a
    /// duplicate, and a client that does not retry believe a sent message lost).
    pub lose_response: Option<EveryNth>,
    /// Let the call take effect, then hold its answer for a while: a process killed in that
    /// window sent the message but never learnt that it did.
    pub hold_response: Option<Stall>,
}

/// What to do to one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    pub stall: Option<Duration>,
    pub drop: bool,
    pub bad_gateway: bool,
    pub internal_error: bool,
    pub lose_response: bool,
    pub hold_response: Option<Duration>,
}

/// Counters behind [`Faults`].
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    stall_count: u64,
    drop_count: u64,
    bad_gateway_count: u64,
    internal_error_count: u64,
    lose_response_count: u64,
    hold_response_count: u64,
    /// 429s answered by the flood limits since the simulator started.
    pub(crate) flood_rejections: u64,
    per_chat: HashMap<i64, VecDeque<Instant>>,
    global: VecDeque<Instant>,
}

const WINDOW: Duration = Duration::from_secs(1);

fn hit(every: Option<&EveryNth>, counter: &mut u64, method: &str) -> bool {
    match every {
        Some(e) if e.n > 0 && e.methods.matches(method) => {
            *counter += 1;
            (*counter).is_multiple_of(u64::from(e.n))
        }
        _ => false,
    }
}

/// Methods subject to flood control: sending and editing messages.
pub(crate) fn flood_limited(method: &str) -> bool {
    (method.starts_with("send") && method != "sendChatAction")
        || method.starts_with("edit")
        || method == "copyMessage"
        || method == "forwardMessage"
}

impl FaultState {
    /// Decides the transport-level faults for one call.
    pub(crate) fn decide(&mut self, faults: &Faults, method: &str) -> Decision {
        let stall = faults
            .stall
            .as_ref()
            .filter(|s| hit(Some(&s.every), &mut self.stall_count, method))
            .map(|s| s.delay);
        let drop = hit(
            faults.drop_connection.as_ref(),
            &mut self.drop_count,
            method,
        );
        let bad_gateway = !drop
            && hit(
                faults.bad_gateway.as_ref(),
                &mut self.bad_gateway_count,
                method,
            );
        let internal_error = !drop
            && !bad_gateway
            && hit(
                faults.internal_error.as_ref(),
                &mut self.internal_error_count,
                method,
            );
        let lose_response = !drop
            && !bad_gateway
            && !internal_error
            && hit(
                faults.lose_response.as_ref(),
                &mut self.lose_response_count,
                method,
            );
        let hold_response = faults
            .hold_response
            .as_ref()
            .filter(|s| hit(Some(&s.every), &mut self.hold_response_count, method))
            .map(|s| s.delay);
        Decision {
            stall,
            drop,
            bad_gateway,
            internal_error,
            lose_response,
            hold_response,
        }
    }

    /// `Err(retry_after_secs)` if a send to `chat_id` now would exceed `limits`.
    pub(crate) fn flood_check(
        &mut self,
        limits: &FloodLimits,
        chat_id: i64,
        now: Instant,
    ) -> Result<(), u64> {
        let cutoff = now.checked_sub(WINDOW);
        let prune = |q: &mut VecDeque<Instant>| {
            if let Some(cutoff) = cutoff {
                while q.front().is_some_and(|t| *t <= cutoff) {
                    q.pop_front();
                }
            }
        };
        let retry = |q: &VecDeque<Instant>| {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = (oldest + WINDOW).saturating_duration_since(now);
            // Telegram reports whole seconds, at least one.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        };
        prune(&mut self.global);
        let chat_q = self.per_chat.entry(chat_id).or_default();
        prune(chat_q);
        if chat_q.len() >= limits.per_chat_per_second as usize {
            return Err(retry(chat_q));
        }
        if self.global.len() >= limits.global_per_second as usize {
            return Err(retry(&self.global));
        }
        Ok(())
    }

    /// Counts a send that passed [`Self::flood_check`].
    pub(crate) fn flood_register(&mut self, chat_id: i64, now: Instant) {
        self.per_chat.entry(chat_id).or_default().push_back(now);
        self.global.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_counts_only_matching_methods() {
        let faults = Faults {
            bad_gateway: Some(EveryNth::new(2).only(&["sendMessage"])),
            ..Faults::default()
        };
        let mut st = FaultState::default();
        let seq: Vec<bool> = [
            "sendMessage",
            "getMe",
            "sendmessage",
            "sendMessage",
            "sendMessage",
        ]
        .iter()
        .map(|m| st.decide(&faults, m).bad_gateway)
        .collect();
        assert_eq!(seq, [false, false, true, false, true]);
    }

    #[test]
    fn flood_window() {
        let limits = FloodLimits::default();
        let mut st = FaultState::default();
        let t0 = Instant::now();
        assert_eq!(st.flood_check(&limits, 1, t0), Ok(()));
        st.flood_register(1, t0);
        assert_eq!(
            st.flood_check(&limits, 1, t0 + Duration::from_millis(300)),
            Err(1)
        );
        assert_eq!(
            st.flood_check(&limits, 2, t0 + Duration::from_millis(300)),
            Ok(())
        );
        assert_eq!(
            st.flood_check(&limits, 1, t0 + Duration::from_millis(1001)),
            Ok(())
        );
    }

    #[test]
    fn flood_limited_methods() {
        assert!(flood_limited("sendMessage"));
        assert!(flood_limited("editMessageText"));
        assert!(!flood_limited("sendChatAction"));
        assert!(!flood_limited("getUpdates"));
    }
}
