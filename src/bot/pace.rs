//! Pacing of the calls Telegram flood-limits (sending and editing messages), so that the bot
//! stays under Telegram's limits instead of running into them: about one message a second into
//! one chat, 30 a second overall (Bot API FAQ). A 429 costs the chat a `retry_after` wait of a
//! second or more; pacing costs it only what the limit requires.
//!
//! The windows are counted from when a call *completed*: Telegram counts a message when it
//! processes it, which is after the bot sent it and before the answer arrives, so a gap taken
//! from the answer is never shorter at Telegram's end. Into one chat only one call is in flight
//! at a time, and the next starts a second (plus a margin) after the previous one's answer.
//! Overall, calls in flight count against the budget until they complete, and completed ones
//! for a second after.
//!
//! A call that fails is retried by [`outgoing::deliver`] (a 429 that still arrives, from
//! another process sharing the token, is obeyed there). Replicas pace each on their own:
//! they share the overall budget, so each is given its share (`TIPLINE_TELEGRAM_PER_SECOND`).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use teloxide::RequestError;
use teloxide::requests::{Output, Request};
use teloxide::types::ChatId;
use tokio::time::Instant;

use super::outgoing;

/// How fast the bot may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceLimits {
    /// The least time between the answer to one call into a chat and the next call into it.
    pub chat_gap: Duration,
    /// Calls in flight or completed within the last second, over all chats.
    pub per_second: usize,
}

impl PaceLimits {
    /// Telegram's limits with a margin: 1.05 s between messages in a chat, 28 a second
    /// overall.
    pub const TELEGRAM: PaceLimits = PaceLimits {
        chat_gap: Duration::from_millis(1050),
        per_second: 28,
    };

    /// No pacing (tests that script conversations faster than a person types).
    pub const NONE: PaceLimits = PaceLimits {
        chat_gap: Duration::ZERO,
        per_second: usize::MAX,
    };
}

/// Chats whose gap has passed are forgotten once the map holds this many. The map is keyed by
/// chat id (a private chat's id is the person's Telegram id), so it is kept to the chats sent
/// to in about the last second: at 28 calls a second that is a few dozen, never a list of who
/// talked to the bot in a seized process's memory.
const PRUNE_AT: usize = 64;

/// The pacer of one process.
pub struct Pace {
    limits: PaceLimits,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When each chat may be sent to next; `None` while a call into it is in flight.
    chats: HashMap<i64, Option<Instant>>,
    /// Completion times of the calls of the last second, oldest first.
    recent: VecDeque<Instant>,
    in_flight: usize,
}

/// A call admitted by [`Pace::admit`]; dropping it (the call completed, failed or was
/// cancelled) starts the chat's gap and the overall window.
struct Admitted<'a> {
    pace: &'a Pace,
    chat: i64,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut st = self.pace.lock();
        st.in_flight = st.in_flight.saturating_sub(1);
        st.chats
            .insert(self.chat, Some(now + self.pace.limits.chat_gap));
        if self.pace.limits.per_second != usize::MAX {
            st.recent.push_back(now);
        }
    }
}

impl Pace {
    /// A pacer under `limits`.
    pub fn new(limits: PaceLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `req` into `chat` when the limits allow, with [`outgoing::deliver`]'s retries.
    pub async fn deliver<R>(&self, chat: ChatId, req: R) -> Result<Output<R>, RequestError>
    where
        R: Request<Err = RequestError>,
    {
        let _admitted = self.admit(chat.0).await;
        outgoing::deliver(req).await
    }

    /// Waits until a call into `chat` may start, and reserves it.
    async fn admit(&self, chat: i64) -> Admitted<'_> {
        loop {
            let wait = self.try_admit(chat, Instant::now());
            match wait {
                None => return Admitted { pace: self, chat },
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// Reserves a call into `chat` at `now` (`None`), or says how long to wait first.
    fn try_admit(&self, chat: i64, now: Instant) -> Option<Duration> {
        let second = Duration::from_secs(1);
        let mut st = self.lock();
        while st.recent.front().is_some_and(|t| *t + second <= now) {
            st.recent.pop_front();
        }
        if st.chats.len() >= PRUNE_AT {
            st.chats.retain(|_, next| next.is_none_or(|t| t > now));
        }
        let chat_wait = match st.chats.get(&chat) {
            // In flight: check again shortly (the answer usually takes milliseconds).
            Some(None) => Some(Duration::from_millis(20)),
            Some(Some(t)) if *t > now => Some(*t - now),
            _ => None,
        };
        let busy = st.in_flight.saturating_add(st.recent.len()) >= self.limits.per_second;
        let overall_wait = busy.then(|| {
            st.recent
                .front()
                .map_or(Duration::from_millis(20), |t| {
                    (*t + second).saturating_duration_since(now)
                })
                .max(Duration::from_millis(1))
        });
        match (chat_wait, overall_wait) {
            (None, None) => {
                st.chats.insert(chat, None);
                st.in_flight += 1;
                None
            }
            (a, b) => a.max(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_call_at_a_time_into_a_chat_a_gap_apart() {
        let pace = Pace::new(PaceLimits::TELEGRAM);
        let t0 = Instant::now();
        assert_eq!(pace.try_admit(1, t0), None);
        // In flight: a second call into the same chat waits; another chat does not.
        assert!(pace.try_admit(1, t0).is_some());
        assert_eq!(pace.try_admit(2, t0), None);
        drop(Admitted {
            pace: &pace,
            chat: 1,
        });
        let done = Instant::now();
        let wait = pace.try_admit(1, done).expect("waits for the gap");
        let gap = PaceLimits::TELEGRAM.chat_gap;
        assert!(
            wait <= gap && wait + Duration::from_millis(200) > gap,
            "{wait:?}"
        );
        assert_eq!(
            pace.try_admit(1, done + PaceLimits::TELEGRAM.chat_gap),
            None
        );
    }

    #[tokio::test]
    async fn at_most_the_overall_budget_in_any_second() {
        let limits = PaceLimits {
            chat_gap: Duration::ZERO,
            per_second: 3,
        };
        let pace = Pace::new(limits);
        let t0 = Instant::now();
        let admitted: Vec<_> = (0..3)
            .map(|c| {
                assert_eq!(pace.try_admit(c, t0), None);
                Admitted {
                    pace: &pace,
                    chat: c,
                }
            })
            .collect();
        // Three in flight: a fourth chat waits.
        assert!(pace.try_admit(9, t0).is_some());
        drop(admitted);
        // Completed within the second: still counted.
        let now = Instant::now();
        let wait = pace.try_admit(9, now).expect("the window is full");
        assert!(wait <= Duration::from_secs(1));
        assert_eq!(pace.try_admit(9, now + Duration::from_secs(1)), None);
    }

    #[tokio::test]
    async fn a_cancelled_call_releases_its_chat() {
        let pace = Pace::new(PaceLimits::TELEGRAM);
        {
            let _a = pace.admit(5).await;
        }
        let later = Instant::now() + PaceLimits::TELEGRAM.chat_gap;
        assert_eq!(pace.try_admit(5, later), None);
    }
}
