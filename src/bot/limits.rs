//! Per-person limits (reports a day, receipt attempts an hour), counted in memory only.
//!
//! A counter keyed by a person is a record that the person did something: written to the
//! database under the server-secret pseudonym, it told whoever seized the database and the
//! secret exactly who had reported today and who had tried receipts (issue: "Nothing a seized
//! server holds links a person to a report"). So nothing of it is written anywhere. Each
//! bucket's counters live in this process's memory, keyed by HMAC-SHA256 of the Telegram id
//! under a random key drawn for the current window and replaced (zeroized) when the window
//! ends: a key once replaced can test no one, and the server secret tests nothing here.
//!
//! The cost, stated in the threat model: a restart forgets the counts (a person could send a
//! few more reports that day), and with several replicas each counts on its own.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

/// At most this many people per bucket and window: beyond it, the oldest window's counting
/// is full and everyone new is refused until the window turns (memory stays bounded under a
/// flood of fresh accounts).
const MAX_PEOPLE: usize = 200_000;

struct Window {
    start: i64,
    key: Zeroizing<[u8; 32]>,
    counts: HashMap<[u8; 16], i64>,
}

/// The limits of one process.
#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<&'static str, Window>>,
}

impl Limiter {
    /// Counts one event of `telegram_id` in `bucket` (a fixed window of `window_secs`
    /// seconds) and says whether it is within `max`.
    pub fn hit(
        &self,
        bucket: &'static str,
        telegram_id: i64,
        window_secs: i64,
        max: i64,
        now: i64,
    ) -> bool {
        let start = now - now.rem_euclid(window_secs.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let w = buckets.entry(bucket).or_insert_with(|| Window {
            start,
            key: Zeroizing::new(crate::crypto::random_array()),
            counts: HashMap::new(),
        });
        if w.start != start {
            // A new window: a new key, and the old one (and every count under it) is gone.
            *w = Window {
                start,
                key: Zeroizing::new(crate::crypto::random_array()),
                counts: HashMap::new(),
            };
        }
        let mac = crate::crypto::hmac_sha256(
            &w.key[..],
            &[bucket.as_bytes(), &telegram_id.to_be_bytes()],
        );
        let mut id = [0u8; 16];
        id.copy_from_slice(&mac[..16]);
        if !w.counts.contains_key(&id) && w.counts.len() >= MAX_PEOPLE {
            return false;
        }
        let n = w.counts.entry(id).or_insert(0);
        *n += 1;
        *n <= max
    }
}

/// People whose minute has passed are forgotten once this many are held by [`Flood`].
const FLOOD_PRUNE_AT: usize = 64;

/// Updates per person per minute. A window opens with a person's first update and lasts a
/// minute (a calendar minute would let a burst across its boundary through twice). Keyed by the
/// start of the person's pseudonym, which the server secret computes from a Telegram id: so
/// that a seized process with its secret cannot test who wrote to the bot in the past days,
/// people whose minute has passed are forgotten as soon as a few dozen are held, leaving only
/// those active within about the last minute.
#[derive(Default)]
pub struct Flood {
    map: Mutex<HashMap<[u8; 8], (i64, u32, bool)>>,
}

impl Flood {
    /// Counts an update of `key` at `now`; `Some(true)` = over `per_minute` and warn now,
    /// `Some(false)` = over and already warned, `None` = fine.
    pub fn check(&self, key: [u8; 8], now: i64, per_minute: u32) -> Option<bool> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= FLOOD_PRUNE_AT {
            map.retain(|_, (start, _, _)| now - *start < 60);
        }
        let entry = map.entry(key).or_insert((now, 0, false));
        if now - entry.0 >= 60 {
            *entry = (now, 0, false);
        }
        entry.1 += 1;
        if entry.1 <= per_minute {
            return None;
        }
        let first = !entry.2;
        entry.2 = true;
        Some(first)
    }

    /// People held now (tests).
    pub fn held(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_person_and_window() {
        let l = Limiter::default();
        let day = 86_400;
        assert!(l.hit("reports", 1, day, 2, 10));
        assert!(l.hit("reports", 1, day, 2, 20));
        assert!(!l.hit("reports", 1, day, 2, 30));
        assert!(l.hit("reports", 2, day, 2, 30), "another person");
        assert!(l.hit("receipt", 1, 3600, 2, 30), "another bucket");
        assert!(l.hit("reports", 1, day, 2, day + 5), "the next window");
    }

    #[test]
    fn flood_warns_once_and_forgets_people_whose_minute_passed() {
        let f = Flood::default();
        assert_eq!(f.check([1; 8], 0, 2), None);
        assert_eq!(f.check([1; 8], 1, 2), None);
        assert_eq!(f.check([1; 8], 2, 2), Some(true));
        assert_eq!(f.check([1; 8], 3, 2), Some(false));
        assert_eq!(f.check([1; 8], 60, 2), None, "a new minute");
        for i in 0..200u8 {
            f.check([i, 9, 9, 9, 9, 9, 9, 9], 100, 30);
        }
        // Two minutes on, one more person: only people active within the minute stay.
        f.check([7; 8], 220, 30);
        assert_eq!(f.held(), 1);
        for i in 0..(FLOOD_PRUNE_AT as u8 + 5) {
            f.check([i, 8, 8, 8, 8, 8, 8, 8], 230, 30);
        }
        assert!(
            f.held() <= FLOOD_PRUNE_AT + 6,
            "all within the minute are kept"
        );
    }

    #[test]
    fn a_new_window_replaces_the_key() {
        let l = Limiter::default();
        l.hit("reports", 7, 60, 5, 0);
        let before = *l.buckets.lock().unwrap()["reports"].key;
        l.hit("reports", 7, 60, 5, 61);
        let after = *l.buckets.lock().unwrap()["reports"].key;
        assert_ne!(before, after);
        assert_eq!(l.buckets.lock().unwrap()["reports"].counts.len(), 1);
    }
}
