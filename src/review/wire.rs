//! JSON shapes shared by the review API server and its client. Envelopes travel as lower-case
//! hex (no new dependency for base64; the size doubles, which matters only for attachments).
//! Days are `YYYY-MM-DD` in Vietnam time; staff times (leases, token expiry) are Unix seconds.

use serde::{Deserialize, Serialize};

use crate::crypto::{KeyId, RecipientRole};
use crate::store::{CaseStatus, DisclosureStatus, Outcome, TokenRole};

/// The API's path prefix.
pub const PREFIX: &str = "/api/v1";

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// A stable machine-readable code (`unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `invalid`, `bad_request`, `too_many_requests`, `unavailable`).
    pub error: String,
    /// One sentence for people; never contains content, tokens or identity data.
    pub message: String,
}

/// `GET /whoami`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhoAmI {
    /// The token's id.
    pub token_id: String,
    /// Its role.
    pub role: TokenRole,
    /// The recipient key it is bound to (none for admin tokens).
    pub key_id: Option<KeyId>,
    /// Unix seconds when it stops working.
    pub expires_at: i64,
}

/// One registered recipient key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecipientView {
    /// Key id.
    pub key_id: KeyId,
    /// Reviewer or custodian.
    pub role: RecipientRole,
    /// Holder's name.
    pub name: String,
    /// The X25519 public key, hex.
    pub public_key: String,
    /// False once retired.
    pub active: bool,
}

/// `GET /keyring`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyringView {
    /// Current epoch.
    pub epoch: i64,
    /// All keys, active first (as the server's table has them: clients trust `statements`).
    pub recipients: Vec<RecipientView>,
    /// The signed keyring chain, in order: what clients verify against the authority they
    /// pinned at login before sealing to any key.
    #[serde(default)]
    pub statements: Vec<StatementView>,
    /// The keyring authority keys the server is configured with (`tlauth1…`), for `login` to
    /// compare with the one the operator gave.
    #[serde(default)]
    pub authority: Vec<String>,
}

/// One stored keyring statement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatementView {
    /// Position, from 1.
    pub seq: i64,
    /// The signed body, hex.
    pub body: String,
    /// The signatures (JSON text, as stored).
    pub signatures: String,
}

/// Flags shown in the queue.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaseFlags {
    /// The case has attachments.
    pub attachments: bool,
    /// The reporter wrote something no reviewer has fetched yet.
    pub unread_from_reporter: bool,
    /// An identity item exists (sealed to custodians).
    pub identity_present: bool,
    /// An identity was disclosed to the caller's key.
    pub identity_disclosed_to_you: bool,
}

/// A case as listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseView {
    /// Public code.
    pub code: String,
    /// The internal id the envelopes are bound to, hex.
    pub case_id: String,
    /// Day submitted.
    pub created: String,
    /// Day of the last change.
    pub updated: String,
    /// Category code.
    pub category: String,
    /// Status.
    pub status: CaseStatus,
    /// Outcome once closed.
    pub outcome: Option<Outcome>,
    /// Day closed.
    pub closed: Option<String>,
    /// Key holding a live lease.
    pub claimed_by: Option<KeyId>,
    /// Lease expiry, Unix seconds.
    pub lease_until: Option<i64>,
    /// Flags.
    pub flags: CaseFlags,
}

/// `GET /cases`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueuePage {
    /// This page.
    pub cases: Vec<CaseView>,
    /// Matching cases in all pages, counted up to 10,000 (see `total_capped`).
    pub total: usize,
    /// There are at least `total` matching cases (the count stopped there).
    #[serde(default)]
    pub total_capped: bool,
    /// Page number, from 1.
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// Pass as `after=` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `POST /cases/claim`: the claimed case, or none when the queue is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimResult {
    /// The case, if one was free.
    pub case: Option<CaseView>,
}

/// An item without its envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemMeta {
    /// Item id.
    pub id: i64,
    /// Kind (`summary`, `attachment`, `to_reporter`, …).
    pub kind: String,
    /// Day stored.
    pub created: String,
    /// Uploading staff key.
    pub author: Option<KeyId>,
    /// For disclosed identities: the key it is for.
    pub for_key: Option<KeyId>,
    /// Envelope size in bytes.
    pub size: i64,
    /// Swap version (for rewrap).
    pub version: i64,
}

/// `GET /cases/{code}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseDetail {
    /// The case.
    pub case: CaseView,
    /// The reporter's mailbox public key, hex (reviewers only; replies are sealed to it).
    pub mailbox_public: Option<String>,
    /// Items sealed to the caller.
    pub items: Vec<ItemMeta>,
}

/// An item with its envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemView {
    /// Metadata.
    #[serde(flatten)]
    pub meta: ItemMeta,
    /// The envelope, hex.
    pub blob: String,
    /// The author's Ed25519 signature, hex, for a reply ([`crate::trust::reply_message`]),
    /// a note or a disclosed identity ([`crate::trust::item_message`]); clients show such an
    /// item only when it verifies against the signed keyring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The number signed with it: a reply's place in the thread, a disclosed identity's
    /// request id, 0 for a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

/// `GET /cases/{code}/items`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemsView {
    /// Items sealed to the caller, oldest first.
    pub items: Vec<ItemView>,
}

/// `POST /cases/{code}/items`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadItem {
    /// `to_reporter` or `note` (reviewers), `disclosed_identity` (custodians).
    pub kind: String,
    /// The envelope, hex.
    pub blob: String,
    /// For `disclosed_identity`: the approved request it fulfils.
    pub request_id: Option<i64>,
    /// For `to_reporter`: the reply's number in the thread (1 for the first) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// … and the reviewer's Ed25519 signature, hex, over [`crate::trust::reply_message`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// Answer to an upload or a request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    /// The new object's id.
    pub id: i64,
}

/// `POST /cases/{code}/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusChange {
    /// The new status.
    pub status: CaseStatus,
    /// Required when closing.
    pub outcome: Option<Outcome>,
}

/// `POST /cases/{code}/disclosure`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisclosureAsk {
    /// Why the identity is needed (staff text, shown to custodians).
    pub reason: String,
    /// The requester's signature, hex ([`crate::trust::request_message`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// `POST /disclosures/{id}/decision`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionBody {
    /// Approve or deny.
    pub approve: bool,
    /// Why.
    pub reason: String,
    /// An approval's signature by the custodian, hex ([`crate::trust::approval_message`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// One custodian decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionView {
    /// The custodian key.
    pub custodian: KeyId,
    /// Approve or deny.
    pub approve: bool,
    /// Why.
    pub reason: String,
    /// Day decided.
    pub day: String,
    /// An approval's signature, hex (clients verify it against the signed keyring).
    #[serde(default)]
    pub signature: Option<String>,
}

/// A disclosure request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisclosureView {
    /// Request id.
    pub id: i64,
    /// Case code.
    pub case: String,
    /// Case id, hex.
    pub case_id: String,
    /// Requesting reviewer key.
    pub requester: KeyId,
    /// The requester's public key, hex (custodians re-seal the identity to it).
    pub requester_public: Option<String>,
    /// Why.
    pub reason: String,
    /// Where it stands.
    pub status: DisclosureStatus,
    /// Day requested.
    pub created: String,
    /// Day decided.
    pub decided: Option<String>,
    /// Decisions so far.
    pub decisions: Vec<DecisionView>,
    /// Approvals needed.
    pub approvals_required: i64,
    /// The requester's signature of the request, hex (custodians verify it against the
    /// signed keyring before approving).
    #[serde(default)]
    pub request_signature: Option<String>,
}

/// `GET /disclosures`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisclosureList {
    /// Requests, newest first.
    pub requests: Vec<DisclosureView>,
    /// Pass as `before=` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// One item that needs new wraps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RewrapItem {
    /// Item id.
    pub id: i64,
    /// Case code.
    pub case: String,
    /// Case id, hex.
    pub case_id: String,
    /// Kind.
    pub kind: String,
    /// Swap version to name when uploading.
    pub version: i64,
    /// The envelope, hex.
    pub blob: String,
    /// Public keys (hex) the new header must wrap to: exactly these.
    pub target: Vec<String>,
    /// For a custodian item: how many custodians must open it together under the new header
    /// (the signed keyring's threshold; the client checks it against its own verified copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// The item is threshold-sealed already: it moves by re-share parts
    /// (`POST /items/{id}/reshare`), not by a new header.
    #[serde(default)]
    pub reshare: bool,
    /// Key ids of the custodians whose re-share parts for this version are in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dealers: Vec<String>,
    /// Parts needed before the server assembles the new header (the item's current threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_needed: Option<u8>,
}

/// `POST /items/{id}/reshare`: one custodian's re-share part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReshareBody {
    /// The version the part was made from.
    pub version: i64,
    /// The part, hex ([`crate::crypto::threshold::reshare_part`]).
    pub part: String,
}

/// Answer to a re-share part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReshareDone {
    /// Distinct custodians' parts now held for this version.
    pub parts: usize,
    /// Parts needed to assemble the new header.
    pub needed: usize,
    /// The item's new version once the new header is in; `None` while parts are missing.
    pub version: Option<i64>,
}

/// `GET /rewrap`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RewrapPlan {
    /// Keyring epoch.
    pub epoch: i64,
    /// Items the caller can open whose wraps differ from the current key set.
    pub items: Vec<RewrapItem>,
    /// Items that need new wraps but are not sealed to the caller (someone else must run it),
    /// on this page.
    pub not_openable: usize,
    /// More items may follow: ask again with `after` = this case code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `POST /items/{id}/rewrap`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RewrapBody {
    /// The version the header was made from.
    pub version: i64,
    /// The new recipient header, hex ([`crate::crypto::envelope::rewrap`]).
    pub header: String,
}

/// Answer to a rewrap.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RewrapDone {
    /// The item's new version.
    pub version: i64,
}

/// One audit row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditView {
    /// Sequence number.
    pub seq: i64,
    /// Day.
    pub day: String,
    /// Actor.
    pub actor: String,
    /// Action.
    pub action: String,
    /// Case code.
    pub case: Option<String>,
    /// Detail.
    pub detail: String,
    /// The day as a number (days since 1970-01-01, Vietnam time), as the hash covers it.
    #[serde(default)]
    pub day_number: i64,
    /// The previous entry's hash, hex.
    #[serde(default)]
    pub prev_hash: String,
    /// This entry's hash, hex.
    #[serde(default)]
    pub hash: String,
    /// For a signed act, its proof, hex (`AuditProof` in docs/FORMATS.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

/// `GET /audit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditList {
    /// Rows.
    pub entries: Vec<AuditView>,
    /// How many entries the log held when it was read (the newest one's number).
    #[serde(default)]
    pub total: i64,
}

/// `GET /audit/verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditVerify {
    /// True when the chain is intact.
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// Head hash, hex (when intact).
    pub head: Option<String>,
    /// First broken entry.
    pub broken_at: Option<i64>,
}

/// One token (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenView {
    /// Token id.
    pub id: String,
    /// Role.
    pub role: TokenRole,
    /// Bound key.
    pub key_id: Option<KeyId>,
    /// Day issued.
    pub issued: String,
    /// Unix seconds of expiry.
    pub expires_at: i64,
    /// Revoked.
    pub revoked: bool,
}

/// `GET /tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenList {
    /// Tokens.
    pub tokens: Vec<TokenView>,
}

/// `POST /purge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurgeResult {
    /// Codes of the purged cases.
    pub cases: Vec<String>,
    /// Expired drafts deleted.
    pub drafts: u64,
}
