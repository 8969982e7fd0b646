//! The state of one person's dialogue, saved after every step, encrypted under a key derived
//! from the server secret and keyed by the person's pseudonym. It never has `Debug`: it holds
//! what the reporter typed.

use serde::{Deserialize, Serialize};

use super::texts::Lang;
use crate::crypto::{Pseudonym, ServerSecret};
use crate::store::{DraftRow, DraftSave, Store, StoreError};

/// Where the dialogue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Choosing the kind of report.
    Category,
    /// Choosing the behaviour.
    Behaviour,
    /// Choosing the sector.
    Sector,
    /// Choosing or typing the office.
    Office,
    /// Picking from one group of offices.
    OfficeGroup(u8),
    /// Confirming a typed office name against matches.
    OfficeConfirm,
    /// Typing the place.
    Place,
    /// Picking among place matches.
    PlacePick,
    /// Choosing when.
    When,
    /// Typing month/year.
    Month,
    /// Naming the officials.
    Who,
    /// Telling what happened.
    Story,
    /// Sending evidence files (photos, documents, voice notes …), or skipping.
    Attachments,
    /// Choosing verification means.
    Verify,
    /// Optional verification note.
    VerifyNote,
    /// May the Inspectorate contact the reporter?
    Contact,
    /// Typing contact details.
    ContactText,
    /// Choosing, for each identifying detail found in the text, whether to remove it.
    Findings,
    /// Reviewing the summary.
    Review,
    /// Choosing which field to edit (drafts from before the review screen carried a button
    /// per field; shown as [`Step::Review`] now).
    EditMenu,
    /// Submitted: the receipt message is shown.
    Submitted,
    /// Offered to wipe the conversation.
    WipeOffer,
    /// /status: waiting for the receipt.
    StatusReceipt,
    /// /status: the status is shown, with a reply button.
    StatusShown,
    /// /status: waiting for the reporter's answer.
    StatusReply,
}

/// Where it happened.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Place {
    /// A commune-level unit, by its current name ("xã Nam Cam Ranh").
    Unit(String),
    /// The reporter preferred not to say.
    Undisclosed,
}

/// When it happened.
#[derive(Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum When {
    /// Today.
    Today,
    /// This week.
    ThisWeek,
    /// This month.
    ThisMonth,
    /// A given month.
    Month {
        /// Year.
        year: i32,
        /// Month 1–12.
        month: u8,
    },
}

/// Which free-text field a finding is in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum TextField {
    /// The office, when typed.
    Office,
    /// The officials named.
    Officials,
    /// What happened (all story messages joined by newlines).
    Story,
    /// The verification note.
    VerificationNote,
}

/// One finding of [`crate::deid`] and whether the reporter wants it removed.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FindingChoice {
    /// The field.
    pub field: TextField,
    /// Byte range in that field's text.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// The finding kind's code.
    pub kind: String,
    /// Remove (default) or keep.
    pub remove: bool,
}

/// How a file arrived in Telegram: decides which warning the reporter gets.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum MediaKind {
    /// A photo (Telegram re-encodes these).
    Photo,
    /// A file sent as a document.
    Document,
    /// A voice note.
    Voice,
    /// An audio file.
    Audio,
    /// A video.
    Video,
    /// A round video message.
    VideoNote,
}

/// One evidence file of a draft. The bytes are never kept between turns: the file is
/// fetched from Telegram again when the report is sent, and `sha256` proves it is the file
/// that was checked and described to the reporter.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DraftAttachment {
    /// Telegram's file id, to fetch it again at submission.
    pub file_id: String,
    /// How it arrived.
    pub media: MediaKind,
    /// Size in bytes, as downloaded.
    pub size: u64,
    /// SHA-256 of the downloaded bytes, hex.
    pub sha256: String,
    /// The format recognised by content ([`crate::attach::clean::Format::label`]).
    pub format: String,
    /// Extension for the neutral name (`attachment-N.ext`).
    pub extension: String,
    /// Whether reviewers get a cleaned copy (metadata removed, none found, or removed in
    /// part — then `remaining` says what stays). False: they get the file as sent.
    pub cleanable: bool,
    /// What cleaning removes, in the cleaner's words.
    pub removed: Vec<String>,
    /// What cleaning leaves in the file (parts it cannot clean), in the cleaner's words.
    #[serde(default)]
    pub remaining: Vec<String>,
    /// The file looked like a format we clean but could not be parsed (or was too large to
    /// clean): not cleanable, and not because of its format.
    #[serde(default)]
    pub unchecked: bool,
}

/// A dialogue in progress.
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct Draft {
    /// Conversation language.
    pub lang: Lang,
    /// Current step; `None` before a report starts (consent given, nothing else).
    pub step: Option<Step>,
    /// Increases with every prompt; buttons carry it so stale or forged presses are caught.
    pub token: u32,
    /// Report kind code.
    pub category: Option<String>,
    /// Behaviour code.
    pub behaviour: Option<String>,
    /// Sector code.
    pub sector: Option<String>,
    /// Office name (chosen or typed).
    pub office: Option<String>,
    /// A typed office name awaiting confirmation.
    pub office_typed: Option<String>,
    /// Place matches offered (unit indices).
    pub place_options: Vec<usize>,
    /// Place.
    pub place: Option<Place>,
    /// When.
    pub when: Option<When>,
    /// Officials involved; `Some("")` when skipped.
    pub officials: Option<String>,
    /// What happened, one entry per message.
    pub story: Vec<String>,
    /// Verification codes.
    pub verification: Vec<String>,
    /// Verification note; `Some("")` when skipped.
    pub verification_note: Option<String>,
    /// Volunteered contact details (sealed with the identity only).
    pub contact: Option<String>,
    /// Whether the contact question was answered.
    pub contact_answered: bool,
    /// Came from the review screen to edit one field: go back there afterwards.
    pub editing: bool,
    /// Message ids of this conversation, for wiping.
    pub messages: Vec<i32>,
    /// The message holding the receipt, to delete once saved.
    pub receipt_message: Option<i32>,
    /// Whether the person agreed to the processing notice (Law 91/2025/QH15).
    pub consented: bool,
    /// The day the review screen was first shown, so the summary sent is the one reviewed.
    pub review_day: Option<i64>,
    /// Findings of the de-identification check and the reporter's decision for each.
    pub findings: Vec<FindingChoice>,
    /// The report step to return to after a /status detour.
    pub return_step: Option<Step>,
    /// Evidence files, in the order sent.
    #[serde(default)]
    pub attachments: Vec<DraftAttachment>,
    /// The reporter chose to rewrite what happened: their next story message replaces the old
    /// text (kept until then, so Back or Done loses nothing).
    #[serde(default)]
    pub replacing_story: bool,
    /// A submitted report whose receipt Telegram has not yet confirmed delivered. Committed
    /// with the case; cleared as soon as the receipt message is confirmed. While it is set,
    /// the person's next update (or the start-up sweep after a crash) issues a fresh receipt
    /// for this case instead of anything else: the receipt itself is never stored.
    #[serde(default)]
    pub owed: Option<OwedReceipt>,
}

/// What a crash must not lose between committing a case and the reporter seeing its
/// receipt: which case, and where to send the replacement. Only inside the sealed draft,
/// and only for that window (see docs/THREAT_MODEL.md, "Crash between Send and receipt").
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OwedReceipt {
    /// The case's internal id, hex.
    pub case_id: String,
    /// The private chat to deliver to (the Telegram user id, in a private chat).
    pub chat: i64,
}

impl Draft {
    /// Remembers messages of this conversation for /wipe.
    pub fn track(&mut self, ids: impl IntoIterator<Item = i32>) {
        self.messages.extend(ids);
    }
}

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

/// Saves `draft` if nobody else changed it since `version`; returns the new version.
pub async fn save(
    store: &Store,
    secret: &ServerSecret,
    p: &Pseudonym,
    draft: &Draft,
    version: Option<i64>,
    ttl_hours: i64,
) -> Result<i64, DraftError> {
    let sealed = seal(secret, p, draft, version, ttl_hours)?;
    Ok(store.save_draft(&sealed.to_save(p)).await?)
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
