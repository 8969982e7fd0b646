//! Drafts as this process last wrote them, so that a step does not read back and decrypt what
//! the previous step of the same person just sealed and wrote. Used only where this process is
//! the bot's only instance (long polling: Telegram hands updates to one consumer); replicas
//! behind a webhook share the database and always read it.
//!
//! Every write of a draft by this process goes through it (saved, committed with a case,
//! deleted), so an entry is never older than the stored row. A database writer changing a row
//! meanwhile is not seen until the entry goes (the row's version then no longer matches and
//! the next save is refused, as for any concurrent change). Entries last no longer than the
//! draft itself and at most [`CACHED_DRAFTS`] are kept: what a memory dump of the running
//! process shows is what the server secret already opens in the database.

use std::collections::HashMap;
use std::sync::Mutex;

use super::draft::Draft;
use crate::crypto::Pseudonym;

/// The most drafts kept (about 2 KB each).
pub const CACHED_DRAFTS: usize = 2_000;

struct Cached {
    draft: Draft,
    version: i64,
    expires_at: i64,
}

/// See the module docs.
pub struct DraftCache {
    on: bool,
    map: Mutex<HashMap<[u8; 32], Cached>>,
}

impl DraftCache {
    /// A cache that keeps drafts when `on`, and nothing otherwise.
    pub fn new(on: bool) -> Self {
        Self {
            on,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Cached>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The draft of `p` and its stored version, if kept and not expired at `now`.
    pub fn get(&self, p: &Pseudonym, now: i64) -> Option<(Draft, i64)> {
        if !self.on {
            return None;
        }
        let mut map = self.lock();
        match map.get(&p.0) {
            Some(c) if c.expires_at > now => Some((c.draft.clone(), c.version)),
            Some(_) => {
                map.remove(&p.0);
                None
            }
            None => None,
        }
    }

    /// Keeps `draft` as stored for `p` at `version`, until `expires_at`.
    pub fn put(&self, p: &Pseudonym, draft: &Draft, version: i64, expires_at: i64, now: i64) {
        if !self.on {
            return;
        }
        let mut map = self.lock();
        if map.len() >= CACHED_DRAFTS && !map.contains_key(&p.0) {
            map.retain(|_, c| c.expires_at > now);
            if map.len() >= CACHED_DRAFTS
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, c)| c.expires_at)
                    .map(|(k, _)| *k)
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            p.0,
            Cached {
                draft: draft.clone(),
                version,
                expires_at,
            },
        );
    }

    /// Forgets `p`'s draft (deleted, or its stored state unknown after a failed write).
    pub fn forget(&self, p: &Pseudonym) {
        if self.on {
            self.lock().remove(&p.0);
        }
    }

    /// Drafts kept now (tests).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u8) -> Pseudonym {
        Pseudonym([n; 32])
    }

    #[test]
    fn keeps_until_expiry_forgets_and_stays_bounded() {
        let c = DraftCache::new(true);
        let d = Draft::default();
        c.put(&p(1), &d, 3, 100, 0);
        assert_eq!(c.get(&p(1), 50).map(|(_, v)| v), Some(3));
        assert!(c.get(&p(1), 100).is_none(), "expired");
        c.put(&p(1), &d, 4, 100, 0);
        c.forget(&p(1));
        assert!(c.get(&p(1), 0).is_none());
        for i in 0..(CACHED_DRAFTS + 10) {
            let mut k = [0u8; 32];
            k[..8].copy_from_slice(&(i as u64).to_be_bytes());
            c.put(&Pseudonym(k), &d, 1, 1_000 + i as i64, 0);
        }
        assert_eq!(c.len(), CACHED_DRAFTS);
    }

    #[test]
    fn off_keeps_nothing() {
        let c = DraftCache::new(false);
        c.put(&p(1), &Draft::default(), 1, 100, 0);
        assert!(c.get(&p(1), 0).is_none());
        assert!(c.is_empty());
    }
}
