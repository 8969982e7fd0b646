//! Drafts at rest: a [`Draft`] sealed under a key derived from the server secret and keyed by
//! the person's pseudonym, saved after every step against the version it was read at.

use crate::crypto::{Pseudonym, ServerSecret};
pub use crate::dialogue::draft::*;
use crate::store::{DraftRow, DraftSave, Store, StoreError};

/// Errors loading or saving drafts.
#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored draft could not be decrypted or parsed (secret rotated out, corruption).
    #[error("the stored draft could not be read")]
    Unreadable,
}

/// A loaded draft and the version it was read at.
pub struct Loaded {
    /// The pseudonym to save under (the current server secret version's).
    pub pseudonym: Pseudonym,
    /// The draft (default when there was none).
    pub draft: Draft,
    /// The stored version to save against; `None` inserts a new row.
    pub version: Option<i64>,
    /// Whether a draft existed (possibly under an older secret version).
    pub exists: bool,
    /// The pseudonym of an older secret version the draft was found under; delete it after
    /// the draft is saved under the current one.
    pub old_pseudonym: Option<Pseudonym>,
}

impl Loaded {
    /// No draft.
    pub fn empty(pseudonym: Pseudonym) -> Self {
        Self {
            pseudonym,
            draft: Draft::default(),
            version: None,
            exists: false,
            old_pseudonym: None,
        }
    }
}

/// The associated data of a draft: its pseudonym and the row version it is stored at, so that
/// a database writer who puts an older state back under the current version (rolling the
/// dialogue back) makes the draft fail to open. Drafts sealed before the version was bound
/// (`tipline draft v1`, at most a draft lifetime old) still open.
fn aad(p: &Pseudonym, version: i64) -> Vec<u8> {
    let mut a = b"tipline draft v2".to_vec();
    a.extend_from_slice(&p.0);
    a.extend_from_slice(&version.to_be_bytes());
    a
}

fn aad_v1(p: &Pseudonym) -> Vec<u8> {
    let mut a = b"tipline draft v1".to_vec();
    a.extend_from_slice(&p.0);
    a
}

/// Loads the draft of a Telegram user, trying every server secret version (newest first) so
/// drafts survive a rotation's grace period. Read-only: a draft found under an older version
/// is moved by the caller's next save (see [`Loaded::old_pseudonym`]).
pub async fn load(
    store: &Store,
    secret: &ServerSecret,
    telegram_id: i64,
) -> Result<Loaded, DraftError> {
    let now = crate::clock::unix_now();
    let current = secret.pseudonym(telegram_id);
    for version in secret.versions_newest_first() {
        let Some(p) = secret.pseudonym_with(version, telegram_id) else {
            continue;
        };
        if let Some(row) = store.load_draft(&p, now).await? {
            let draft = open(secret, &p, &row)?;
            if p == current {
                return Ok(Loaded {
                    pseudonym: p,
                    draft,
                    version: Some(row.version),
                    exists: true,
                    old_pseudonym: None,
                });
            }
            return Ok(Loaded {
                pseudonym: current,
                draft,
                version: None,
                exists: true,
                old_pseudonym: Some(p),
            });
        }
    }
    Ok(Loaded::empty(current))
}

/// A draft sealed for storage under the current server secret version.
pub struct SealedDraft {
    /// The server secret version whose key sealed it.
    pub secret_version: u32,
    /// The sealed state.
    pub state: Vec<u8>,
    /// Unix seconds after which it may be purged.
    pub expires_at: i64,
    /// The version it was read at (`None`: a new row), which the store checks.
    pub expected_version: Option<i64>,
}

impl SealedDraft {
    /// The store's view of it, to be written against the version it was sealed for.
    pub fn to_save<'a>(&'a self, p: &'a Pseudonym) -> DraftSave<'a> {
        DraftSave {
            pseudonym: p,
            secret_version: self.secret_version,
            state: &self.state,
            expected_version: self.expected_version,
            expires_at: self.expires_at,
        }
    }
}

/// Seals `draft` for `p` under the current server secret version, to be written over the row
/// read at `version` (the store then gives it `version + 1`, or 1 for a new row: the version
/// bound into its associated data).
pub fn seal(
    secret: &ServerSecret,
    p: &Pseudonym,
    draft: &Draft,
    version: Option<i64>,
    ttl_hours: i64,
) -> Result<SealedDraft, DraftError> {
    let sv = secret.current_version();
    let key = secret.draft_key(sv).ok_or(DraftError::Unreadable)?;
    let plain =
        zeroize::Zeroizing::new(serde_json::to_vec(draft).map_err(|_| DraftError::Unreadable)?);
    let written = version.map_or(1, |v| v + 1);
    Ok(SealedDraft {
        secret_version: sv,
        state: key.seal(&aad(p, written), &plain),
        expires_at: expiry(crate::clock::unix_now(), ttl_hours),
        expected_version: version,
    })
}

/// When a draft saved at `now` expires: `ttl_hours` later, rounded up to the next midnight in
/// Vietnam, so the stored expiry says on which day the person last wrote, not when (a draft
/// lives between `ttl_hours` and `ttl_hours` + 24 hours).
pub fn expiry(now: i64, ttl_hours: i64) -> i64 {
    let day = crate::clock::Day::from_unix(now + ttl_hours * 3600 - 1).plus(1);
    day.0 * 86_400 - 7 * 3600
}

/// Opens a stored draft row of `p`.
pub fn open(secret: &ServerSecret, p: &Pseudonym, row: &DraftRow) -> Result<Draft, DraftError> {
    let key = secret
        .draft_key(row.secret_version)
        .ok_or(DraftError::Unreadable)?;
    let plain = key
        .open(&aad(p, row.version), &row.state)
        .or_else(|_| key.open(&aad_v1(p), &row.state))
        .map_err(|_| DraftError::Unreadable)?;
    serde_json::from_slice(&plain).map_err(|_| DraftError::Unreadable)
}

/// Saves `draft` if nobody else changed it since `version`; returns the new version. Steps of
/// a dialogue in progress are written without waiting for the disk ([`Store::save_draft_step`]).
pub async fn save(
    store: &Store,
    secret: &ServerSecret,
    p: &Pseudonym,
    draft: &Draft,
    version: Option<i64>,
    ttl_hours: i64,
) -> Result<i64, DraftError> {
    let sealed = seal(secret, p, draft, version, ttl_hours)?;
    let save = sealed.to_save(p);
    // A power cut may undo a step of the dialogue (the person answers again), never what
    // concerns a receipt: an undone "delivered" would issue the reporter a second receipt.
    let saved = if draft.owed.is_some() || draft.receipt_message.is_some() {
        store.save_draft(&save).await
    } else {
        store.save_draft_step(&save).await
    };
    Ok(saved?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn drafts_expire_at_a_midnight_after_their_lifetime() {
        for now in [1_700_000_000i64, 1_700_018_000, 1_700_050_000] {
            let e = super::expiry(now, 24);
            assert!(e >= now + 24 * 3600 && e < now + 48 * 3600);
            assert_eq!((e + 7 * 3600).rem_euclid(86_400), 0, "a Vietnam midnight");
        }
        // Two saves on the same day store the same expiry: it does not tell their times.
        let day_start = crate::clock::Day::from_unix(1_700_000_000).0 * 86_400 - 7 * 3600;
        assert_eq!(
            super::expiry(day_start + 10, 24),
            super::expiry(day_start + 80_000, 24)
        );
    }
}
