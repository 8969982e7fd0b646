//! The state of one person's dialogue. The adapter saves it after every step (sealed under a
//! key derived from the server secret and keyed by the person's pseudonym: `bot::draft`). It
//! never has `Debug`: it holds what the reporter typed.

use serde::{Deserialize, Serialize};

use super::texts::Lang;

/// Where the dialogue stands. Steps marked "older drafts" are no longer entered; a draft saved
/// at one is brought to the nearest step of today's path when it is read ([`Step::current`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Older drafts: choosing the kind of report (now derived from the behaviour).
    Category,
    /// What did the official do (or "other cases": [`Step::Redirect`]).
    Behaviour,
    /// Choosing the sector.
    Sector,
    /// Choosing the sector's office, or typing one.
    Office,
    /// Picking from one group of offices.
    OfficeGroup(u8),
    /// Choosing a group of offices ("another office…").
    OfficeGroups,
    /// Confirming a typed office name against matches.
    OfficeConfirm,
    /// Typing the place.
    Place,
    /// Picking among place matches.
    PlacePick,
    /// Choosing when.
    When,
    /// Older drafts: typing month/year.
    Month,
    /// Naming or describing the officials.
    Who,
    /// Telling what happened.
    Story,
    /// Sending evidence files (photos, documents, voice notes …), or none.
    Attachments,
    /// After the story: can it be verified (one answer); more story text is still taken.
    Verify,
    /// Older drafts: the verification note (now [`Step::ReviewNote`]).
    VerifyNote,
    /// Older drafts: the contact question (now [`Step::ReviewContact`]).
    Contact,
    /// Older drafts: typing contact details.
    ContactText,
    /// Older drafts: the findings screen (now part of the review).
    Findings,
    /// Reviewing the summary, with the redaction toggles and the optional fields.
    Review,
    /// Choosing which part to change, from the review.
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
    /// "Other cases": the redirects (formal denunciation, complaint, feedback, emergency).
    Redirect,
    /// One redirect explained (the index in [`super::catalog::REDIRECTS`]), with a way on.
    Redirected(u8),
    /// From the review: typing a way to be contacted (optional).
    ReviewContact,
    /// From the review: typing a note that helps verify (optional).
    ReviewNote,
}

impl Step {
    /// The step of today's path that a draft saved at `self` continues at.
    pub fn current(self) -> Step {
        match self {
            Step::Category => Step::Behaviour,
            Step::Month => Step::When,
            Step::VerifyNote | Step::Contact | Step::ContactText | Step::Findings => Step::Review,
            other => other,
        }
    }
}

/// Where it happened.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Place {
    /// A commune-level unit, by its current name ("xã Nam Cam Ranh").
    Unit(String),
    /// The reporter preferred not to say.
    Undisclosed,
}

/// When it happened (the latest time, if more than once), resolved to months against the day
/// the review was first shown.
#[derive(Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum When {
    /// Older drafts: today.
    Today,
    /// Older drafts: this week.
    ThisWeek,
    /// This month.
    ThisMonth,
    /// Last month.
    LastMonth,
    /// Two to six months ago.
    Months2To6,
    /// Longer ago than six months.
    Older,
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
    /// The office, when typed and kept as typed.
    Office,
    /// The office name as typed, kept beside the listed office it was matched to.
    OfficeTyped,
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
    /// Remove or keep (the default follows the owner: the reporter's removed, an official's or
    /// an office's kept).
    pub remove: bool,
    /// Whose it seems to be ([`crate::deid::Owner::code`]); absent in older drafts (the
    /// reporter's).
    #[serde(default)]
    pub owner: Option<String>,
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
    /// Office name (chosen, or typed and kept as typed).
    pub office: Option<String>,
    /// A typed office name awaiting confirmation.
    pub office_typed: Option<String>,
    /// The office name as the reporter typed it, kept beside the listed office they matched it
    /// to (their words often name the unit; the list only the body).
    #[serde(default)]
    pub office_as_typed: Option<String>,
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
    /// Older drafts: whether the contact question was answered.
    pub contact_answered: bool,
    /// Came from the review screen to edit one field: go back there afterwards.
    pub editing: bool,
    /// The first message of this conversation, for wiping: /wipe deletes from it to the
    /// latest (message ids of a private chat are consecutive), so the draft need not change
    /// when the bot speaks. A list for drafts written before; only its lowest id counts.
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

/// The most messages one wipe deletes (a month of dialogue; Telegram refuses older ones anyway).
pub const MAX_WIPE: i32 = 1000;

impl Draft {
    /// Remembers messages of this conversation for /wipe: only the first counts.
    pub fn track(&mut self, ids: impl IntoIterator<Item = i32>) {
        let first = self
            .messages
            .iter()
            .copied()
            .chain(ids)
            .filter(|m| *m > 0)
            .min();
        self.messages = first.into_iter().collect();
    }

    /// The messages /wipe deletes when `last` is the latest: from the first of the
    /// conversation, at most [`MAX_WIPE`] back.
    pub fn wipe_range(&self, last: i32) -> Vec<i32> {
        let first = self.messages.iter().copied().filter(|m| *m > 0).min();
        let from = first.unwrap_or(last).max(last.saturating_sub(MAX_WIPE));
        (from..=last).collect()
    }
}
