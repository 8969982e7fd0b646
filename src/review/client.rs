//! The reviewer's and custodian's side of the review API: an HTTP client, and the operations
//! that need a private key — opening items, sealing replies and notes, re-sealing an identity
//! for an approved request, rewrapping content keys — done on the key holder's machine.
//!
//! Invariants: private keys and plaintext never leave this process; what is uploaded is always
//! an envelope (or a recipient header) sealed here; attachment files are written only under
//! their neutral names, never over an existing file; nothing is sealed to a key that the
//! keyring chain, verified against the authority pinned at login, does not prove active (the
//! server's key list and rewrap targets are checked against it, never believed).

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::wire::*;
use crate::attach::EvidenceFile;
use crate::crypto::envelope::{self, Payload};
use crate::crypto::{CryptoError, ItemKind, KeyId, PublicKey, RecipientRole, SecretKey, threshold};
use crate::dialogue::summary::{CaseSummary, Identity, TextMessage};
use crate::ids::CaseId;
use crate::store::{CaseStatus, DisclosureStatus, Outcome};

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error.
    #[error("the server refused ({status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// The server's sentence.
        message: String,
    },
    /// The connection failed, or the server answered nonsense.
    #[error("cannot talk to the review server: {0}")]
    Transport(String),
    /// No connection could be made (nothing listens there, the network or TLS refused).
    #[error("cannot reach the review server: {0}")]
    Unreachable(String),
    /// The server was reached but did not answer within the client's time limit.
    #[error(
        "the review server was reached but did not answer within {0} s: it is slow or overloaded (try again, or ask for less at once)"
    )]
    Slow(u64),
    /// An envelope could not be opened or sealed.
    #[error("cryptography: {0}")]
    Crypto(#[from] CryptoError),
    /// The server sent something malformed.
    #[error("the server sent a malformed {0}")]
    Malformed(&'static str),
    /// Writing a file failed.
    #[error("{0}")]
    Io(String),
    /// The server asked for something the signed keyring does not prove (or the keyring
    /// chain did not verify against the pinned authority): nothing was sealed.
    #[error("refused, nothing was sealed: {0}")]
    Untrusted(String),
}

impl ClientError {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, ClientError>;

/// A connection to the review API with one bearer token.
pub struct Client {
    base: String,
    token: SecretString,
    http: reqwest::Client,
    pin: Option<std::sync::Arc<crate::trust::Trust>>,
    /// The time limit per request (said in [`ClientError::Slow`]).
    limit: std::time::Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({})", self.base)
    }
}

/// How long a request may take once connected, by default.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
/// How long connecting may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

fn transport(e: reqwest::Error) -> ClientError {
    transport_within(e, REQUEST_TIMEOUT)
}

/// Says what happened (reqwest errors carry the URL, which holds at most a case code: no
/// secrets): never reached, reached but slow, or a broken exchange.
fn transport_within(e: reqwest::Error, limit: std::time::Duration) -> ClientError {
    if e.is_connect() {
        ClientError::Unreachable(e.without_url().to_string())
    } else if e.is_timeout() {
        ClientError::Slow(limit.as_secs().max(1))
    } else {
        ClientError::Transport(e.without_url().to_string())
    }
}

impl Client {
    /// A client for `server` (e.g. `http://127.0.0.1:8470`), trusting the public web's
    /// certificate authorities.
    pub fn new(server: &str, token: SecretString) -> Result<Client> {
        Self::with_ca(server, token, None)
    }

    /// A client that, given `ca_pem`, trusts only that certificate authority (the
    /// Inspectorate's internal CA, e.g. Caddy's `tls internal` root): a certificate from any
    /// other authority, public ones included, is refused.
    pub fn with_ca(server: &str, token: SecretString, ca_pem: Option<&[u8]>) -> Result<Client> {
        Self::with_ca_within(server, token, ca_pem, REQUEST_TIMEOUT)
    }

    /// [`Client::with_ca`] with a time limit per request other than the default two minutes.
    pub fn with_ca_within(
        server: &str,
        token: SecretString,
        ca_pem: Option<&[u8]>,
        limit: std::time::Duration,
    ) -> Result<Client> {
        let mut builder = reqwest::Client::builder()
            .timeout(limit)
            .connect_timeout(CONNECT_TIMEOUT.min(limit));
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|_| ClientError::Malformed("CA file (expected PEM certificates)"))?;
            if certs.is_empty() {
                return Err(ClientError::Malformed("CA file (no certificate in it)"));
            }
            builder = builder.tls_built_in_root_certs(false);
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(transport)?;
        Ok(Client {
            base: format!("{}{PREFIX}", server.trim_end_matches('/')),
            token,
            http,
            pin: None,
            limit,
        })
    }

    /// Pins the keyring authority: every key this client seals to must be proven active by
    /// the chain the server sends, verified against it (and extending the newest chain this
    /// pin saw).
    #[must_use]
    pub fn with_pin(mut self, pin: std::sync::Arc<crate::trust::Trust>) -> Client {
        self.pin = Some(pin);
        self
    }

    /// The keyring as the pinned authority proves it, from the chain the server sends.
    pub async fn verified_keyring(&self) -> Result<crate::trust::VerifiedKeyring> {
        let pin = self.pin.as_ref().ok_or_else(|| {
            ClientError::Untrusted(
                "no keyring authority is pinned: log in again with `--authority tlauth1…`".into(),
            )
        })?;
        let view = self.keyring().await?;
        let chain = view
            .statements
            .iter()
            .map(|s| {
                let body = hex::decode(&s.body).map_err(|_| {
                    ClientError::Untrusted(format!("keyring statement {}: malformed", s.seq))
                })?;
                crate::trust::SignedStatement::from_stored(&crate::store::StoredStatement {
                    seq: s.seq,
                    body,
                    signatures: s.signatures.clone(),
                })
                .map_err(|e| ClientError::Untrusted(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        pin.accept(&chain)
            .map_err(|e| ClientError::Untrusted(e.to_string()))
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret());
        if let Some(b) = body {
            req = req.json(b);
        }
        let limit = self.limit;
        let resp = req.send().await.map_err(|e| transport_within(e, limit))?;
        let status = resp.status();
        if !status.is_success() {
            let body: Option<ErrorBody> = resp.json().await.ok();
            return Err(ClientError::Api {
                status: status.as_u16(),
                code: body.as_ref().map(|b| b.error.clone()).unwrap_or_default(),
                message: body
                    .map(|b| b.message)
                    .unwrap_or_else(|| status.to_string()),
            });
        }
        if status == reqwest::StatusCode::NO_CONTENT {
            return serde_json::from_str("null")
                .map_err(|_| ClientError::Malformed("empty answer"));
        }
        resp.json().await.map_err(|e| {
            if e.is_timeout() {
                // The answer began but did not finish in time: slow, not malformed.
                ClientError::Slow(limit.as_secs().max(1))
            } else {
                ClientError::Malformed("answer")
            }
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<(), T>(reqwest::Method::GET, path, None).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// `GET /whoami`.
    pub async fn whoami(&self) -> Result<WhoAmI> {
        self.get("/whoami").await
    }
    /// `GET /keyring`.
    pub async fn keyring(&self) -> Result<KeyringView> {
        self.get("/keyring").await
    }
    /// `GET /cases` with a query string such as `status=new&page=2`.
    pub async fn queue(&self, query: &str) -> Result<QueuePage> {
        self.get(&format!("/cases?{query}")).await
    }
    /// `POST /cases/claim`.
    pub async fn claim_next(&self) -> Result<ClaimResult> {
        self.post("/cases/claim", &()).await
    }
    /// `POST /cases/{code}/claim` (claim or renew).
    pub async fn claim(&self, code: &str) -> Result<CaseView> {
        self.post(&format!("/cases/{}/claim", enc(code)), &()).await
    }
    /// `DELETE /cases/{code}/claim`.
    pub async fn release(&self, code: &str) -> Result<()> {
        self.call::<(), Option<()>>(
            reqwest::Method::DELETE,
            &format!("/cases/{}/claim", enc(code)),
            None,
        )
        .await
        .map(|_| ())
    }
    /// `GET /cases/{code}`.
    pub async fn case(&self, code: &str) -> Result<CaseDetail> {
        self.get(&format!("/cases/{}", enc(code))).await
    }
    /// `GET /cases/{code}/items`, optionally of one kind.
    pub async fn items(&self, code: &str, kind: Option<ItemKind>) -> Result<ItemsView> {
        let q = kind
            .map(|k| format!("?kind={}", k.as_str()))
            .unwrap_or_default();
        self.get(&format!("/cases/{}/items{q}", enc(code))).await
    }
    /// `POST /cases/{code}/items`.
    pub async fn upload(&self, code: &str, item: &UploadItem) -> Result<Created> {
        self.post(&format!("/cases/{}/items", enc(code)), item)
            .await
    }
    /// `POST /cases/{code}/status`.
    pub async fn set_status(
        &self,
        code: &str,
        status: CaseStatus,
        outcome: Option<Outcome>,
    ) -> Result<CaseView> {
        self.post(
            &format!("/cases/{}/status", enc(code)),
            &StatusChange { status, outcome },
        )
        .await
    }
    /// `POST /cases/{code}/disclosure`.
    pub async fn request_identity(
        &self,
        code: &str,
        reason: &str,
        signature: &crate::crypto::sign::Signature,
    ) -> Result<Created> {
        self.post(
            &format!("/cases/{}/disclosure", enc(code)),
            &DisclosureAsk {
                reason: reason.to_owned(),
                signature: Some(hex::encode(signature.as_bytes())),
            },
        )
        .await
    }
    /// `GET /disclosures`, every page.
    pub async fn disclosures(&self, status: Option<DisclosureStatus>) -> Result<DisclosureList> {
        let mut all = DisclosureList {
            requests: Vec::new(),
            next: None,
        };
        let mut before = None;
        loop {
            let mut q = vec!["limit=500".to_owned()];
            if let Some(s) = status {
                q.push(format!("status={}", s.as_str()));
            }
            if let Some(b) = before {
                q.push(format!("before={b}"));
            }
            let page: DisclosureList = self.get(&format!("/disclosures?{}", q.join("&"))).await?;
            all.requests.extend(page.requests);
            match page.next {
                // A server that answers the same page again is not followed round.
                Some(n) if before.is_none_or(|b| n < b) => before = Some(n),
                _ => return Ok(all),
            }
        }
    }

    /// One disclosure request among those the caller may see, or `None`.
    pub async fn disclosure(&self, id: i64) -> Result<Option<DisclosureView>> {
        Ok(self
            .disclosures(None)
            .await?
            .requests
            .into_iter()
            .find(|r| r.id == id))
    }
    /// `POST /disclosures/{id}/decision`.
    pub async fn decide(&self, id: i64, approve: bool, reason: &str) -> Result<DisclosureView> {
        self.decide_signed(id, approve, reason, None).await
    }

    /// `POST /disclosures/{id}/decision` with an approval's signature.
    pub async fn decide_signed(
        &self,
        id: i64,
        approve: bool,
        reason: &str,
        signature: Option<&crate::crypto::sign::Signature>,
    ) -> Result<DisclosureView> {
        self.post(
            &format!("/disclosures/{id}/decision"),
            &DecisionBody {
                approve,
                reason: reason.to_owned(),
                signature: signature.map(|s| hex::encode(s.as_bytes())),
            },
        )
        .await
    }
    /// `GET /rewrap`: the first page of the plan.
    pub async fn rewrap_plan(&self) -> Result<RewrapPlan> {
        self.rewrap_plan_after(None).await
    }

    /// `GET /rewrap?after=NEXT`: the page after the one whose `next` was `after` (a bare case
    /// code is accepted too).
    pub async fn rewrap_plan_after(&self, after: Option<&str>) -> Result<RewrapPlan> {
        match after {
            None => self.get("/rewrap").await,
            Some(a) => {
                let after = match crate::store::QueueCursor::parse(a) {
                    Some(c) => c.to_string(),
                    None => crate::ids::CaseCode::parse(a)
                        .ok_or(ClientError::Malformed("rewrap page"))?
                        .as_str()
                        .to_owned(),
                };
                self.get(&format!("/rewrap?after={after}")).await
            }
        }
    }
    /// `POST /items/{id}/reshare`.
    pub async fn reshare(&self, id: i64, body: &ReshareBody) -> Result<ReshareDone> {
        self.post(&format!("/items/{id}/reshare"), body).await
    }

    /// `POST /items/{id}/rewrap`.
    pub async fn rewrap(&self, id: i64, body: &RewrapBody) -> Result<RewrapDone> {
        self.post(&format!("/items/{id}/rewrap"), body).await
    }
    /// `GET /audit`.
    pub async fn audit(&self, from: i64, limit: i64) -> Result<AuditList> {
        self.get(&format!("/audit?from={from}&limit={limit}")).await
    }
    /// `GET /audit/verify`.
    pub async fn audit_verify(&self) -> Result<AuditVerify> {
        self.get("/audit/verify").await
    }
    /// `GET /tokens`.
    pub async fn tokens(&self) -> Result<TokenList> {
        self.get("/tokens").await
    }
    /// `DELETE /tokens/{id}`.
    pub async fn revoke_token(&self, id: &str) -> Result<()> {
        self.call::<(), Option<()>>(
            reqwest::Method::DELETE,
            &format!("/tokens/{}", enc(id)),
            None,
        )
        .await
        .map(|_| ())
    }
    /// `POST /purge`.
    pub async fn purge(&self) -> Result<PurgeResult> {
        self.post("/purge", &()).await
    }
}

/// Keeps path segments to the characters codes and ids use.
fn enc(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn case_id_of(hex_id: &str) -> Result<CaseId> {
    hex::decode(hex_id)
        .ok()
        .and_then(|b| CaseId::from_slice(&b))
        .ok_or(ClientError::Malformed("case id"))
}

fn public_key_of(hex_key: &str) -> Result<PublicKey> {
    let b = hex::decode(hex_key).map_err(|_| ClientError::Malformed("public key"))?;
    PublicKey::from_slice(&b).map_err(|_| ClientError::Malformed("public key"))
}

fn blob_of(item: &ItemView) -> Result<Vec<u8>> {
    hex::decode(&item.blob).map_err(|_| ClientError::Malformed("envelope"))
}

fn open_as<T: Payload>(
    item: &ItemView,
    kind: ItemKind,
    case_id: &CaseId,
    sk: &SecretKey,
) -> Result<T> {
    let plain = envelope::open(&blob_of(item)?, kind, case_id, sk)?;
    Ok(T::decode(&plain)?)
}

/// One message of a case's thread, opened.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadEntry {
    /// Item id.
    pub id: i64,
    /// `to_reporter`, `from_reporter` or `note`.
    pub kind: String,
    /// Day.
    pub created: String,
    /// The staff key that wrote it (none for the reporter).
    pub author: Option<String>,
    /// The text.
    pub text: String,
}

/// An attachment's description (the bytes stay in memory until written).
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    /// Item id.
    pub id: i64,
    /// Neutral name.
    pub name: String,
    /// Format.
    pub format: String,
    /// Metadata removed.
    pub metadata_removed: bool,
    /// What was removed, or why nothing could be.
    pub note: String,
    /// Size in bytes.
    pub size: usize,
}

/// A case opened with the caller's key.
#[derive(Serialize)]
pub struct OpenedCase {
    /// The case as the server describes it.
    pub case: CaseView,
    /// The summary (reviewers).
    pub summary: Option<CaseSummary>,
    /// Replies, answers and notes, oldest first.
    pub thread: Vec<ThreadEntry>,
    /// Attachments (cleaned copies for reviewers, originals for custodians).
    pub attachments: Vec<AttachmentInfo>,
    /// The identity: disclosed to this reviewer, or the sealed original for custodians.
    pub identity: Option<Identity>,
    /// Items that were listed for this key but did not open (tampered or mis-addressed).
    pub unreadable: usize,
    /// Staff items (replies, notes, a disclosed identity) whose signature does not verify
    /// for their author in the signed keyring: not shown (planted, or altered).
    pub unverified: usize,
    /// Threshold-sealed items (an identity, originals) that this key cannot open alone and
    /// for which not enough custodians' shares have come: they open only when k custodians
    /// approve a disclosure.
    pub threshold_sealed: usize,
}

/// One audit row as the server sent it, in the store's form (to recompute its hash).
fn audit_record(v: &AuditView) -> Result<crate::store::AuditRecord> {
    let bad = || ClientError::Malformed("audit entry");
    Ok(crate::store::AuditRecord {
        seq: v.seq,
        entry: crate::store::AuditEntry {
            day: crate::clock::Day(v.day_number),
            actor: v.actor.clone(),
            action: v.action.clone(),
            case_code: v.case.clone(),
            detail: v.detail.clone(),
            proof: v
                .proof
                .as_deref()
                .map(hex::decode)
                .transpose()
                .map_err(|_| bad())?,
        },
        prev_hash: hex::decode(&v.prev_hash).map_err(|_| bad())?,
        hash: hex::decode(&v.hash).map_err(|_| bad())?,
    })
}

/// Entries fetched per request when checking the audit log.
const AUDIT_PAGE: i64 = 2000;

/// Checks that the server's audit log extends `head`, the newest entry this client verified
/// before ([`crate::trust::audit`]): that entry is still there, unchanged, and every entry
/// after it links to it, with a valid signature for every signed act. Without a head (a first
/// login) the newest entry is taken as it is (print it for comparison out of band). Returns
/// the new head.
pub async fn check_audit(
    client: &Client,
    head: Option<crate::trust::audit::AuditHead>,
) -> Result<crate::trust::audit::AuditHead> {
    use crate::trust::audit::{AuditHead, Keys, check_extends, head_of, needs_keys};
    let untrusted = |e: crate::trust::audit::AuditError| ClientError::Untrusted(e.to_string());
    let Some(mut current) = head else {
        let total = client.audit(1, 1).await?.total;
        let newest = client.audit(total.max(1), 1).await?;
        return match newest.entries.first() {
            None => Ok(AuditHead {
                count: 0,
                hash: [0; 32],
            }),
            Some(v) => head_of(&audit_record(v)?).map_err(untrusted),
        };
    };
    let mut ring = None;
    loop {
        let page = client.audit(current.count.max(1), AUDIT_PAGE).await?;
        let records = page
            .entries
            .iter()
            .map(audit_record)
            .collect::<Result<Vec<_>>>()?;
        if ring.is_none() && needs_keys(&records) {
            ring = Some(self_verified_keyring(client).await?);
        }
        let keys = ring
            .as_ref()
            .map(|(authorities, ring)| Keys { authorities, ring });
        let next =
            check_extends(Some(current), &records, page.total, keys.as_ref()).map_err(untrusted)?;
        let done = i64::try_from(records.len()).unwrap_or(i64::MAX) < AUDIT_PAGE;
        current = next;
        if done {
            return Ok(current);
        }
    }
}

/// The pinned authorities and the keyring they prove.
async fn self_verified_keyring(
    client: &Client,
) -> Result<(crate::trust::Authorities, crate::trust::VerifiedKeyring)> {
    let ring = client.verified_keyring().await?;
    let pin = client
        .pin
        .as_ref()
        .ok_or_else(|| ClientError::Untrusted("no keyring authority is pinned".into()))?;
    Ok((pin.authorities().clone(), ring))
}

/// Whether `item`'s signature verifies for its author as the signed keyring has them: a
/// reply over [`crate::trust::reply_message`] (with `mailbox`), a note or a disclosed
/// identity over [`crate::trust::item_message`]. Items no staff member writes are `true`.
fn signed_by_author(
    ring: &crate::trust::VerifiedKeyring,
    item: &ItemView,
    kind: ItemKind,
    case_id: &CaseId,
    mailbox: Option<&PublicKey>,
) -> bool {
    let (context, role) = match kind {
        ItemKind::ToReporter => (crate::trust::REPLY_CONTEXT, RecipientRole::Reviewer),
        ItemKind::Note => (crate::trust::ITEM_CONTEXT, RecipientRole::Reviewer),
        ItemKind::DisclosedIdentity | ItemKind::IdentityShare => {
            (crate::trust::ITEM_CONTEXT, RecipientRole::Custodian)
        }
        _ => return true,
    };
    let Ok(blob) = blob_of(item) else {
        return false;
    };
    let message = match kind {
        ItemKind::ToReporter => match (mailbox, item.seq) {
            (Some(m), Some(seq)) => crate::trust::reply_message(case_id, seq, m, &blob),
            _ => return false,
        },
        // A disclosed identity's (or share's) number is the request it answers.
        ItemKind::DisclosedIdentity | ItemKind::IdentityShare => match item.seq {
            Some(request) => crate::trust::item_message(kind, case_id, request, &blob),
            None => return false,
        },
        _ => crate::trust::item_message(kind, case_id, 0, &blob),
    };
    let Some(sig) = item
        .signature
        .as_deref()
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| crate::crypto::sign::Signature::from_slice(&b).ok())
    else {
        return false;
    };
    ring.members.iter().any(|m| {
        Some(m.key.key_id()) == item.meta.author
            && m.role == role
            && m.verify.verify(context, &message, &sig).is_ok()
    })
}

/// Fetches a case's items and opens them with `sk`.
pub async fn open_case(client: &Client, sk: &SecretKey, code: &str) -> Result<OpenedCase> {
    let ring = client.verified_keyring().await?;
    let detail = client.case(code).await?;
    let items = client.items(code, None).await?;
    let case_id = case_id_of(&detail.case.case_id)?;
    let mailbox = detail
        .mailbox_public
        .as_deref()
        .map(public_key_of)
        .transpose()?;
    let mut out = OpenedCase {
        case: detail.case,
        summary: None,
        thread: Vec::new(),
        attachments: Vec::new(),
        identity: None,
        unreadable: 0,
        unverified: 0,
        threshold_sealed: 0,
    };
    // Threshold-sealed identity and originals: opened below with custodians' shares, if any.
    let disclosed = open_disclosed(&ring, &items.items, &case_id, sk);
    out.threshold_sealed = disclosed.sealed;
    out.unverified += disclosed.unverified;
    if let Some(identity) = disclosed.identity {
        out.identity = Some(identity);
    }
    for (id, f) in &disclosed.originals {
        out.attachments.push(AttachmentInfo {
            id: *id,
            name: format!("original-{}", f.name),
            format: f.format.clone(),
            metadata_removed: f.metadata_removed,
            note: f.note.clone(),
            size: f.bytes.len(),
        });
    }
    for item in &items.items {
        let Some(kind) = ItemKind::parse(&item.meta.kind) else {
            out.unreadable += 1;
            continue;
        };
        if kind == ItemKind::IdentityShare || is_threshold_item(item, kind) {
            continue;
        }
        // Only what its author provably wrote is shown as theirs: anyone can seal to a
        // public key, so a database writer could plant a note or an identity.
        if !signed_by_author(&ring, item, kind, &case_id, mailbox.as_ref()) {
            out.unverified += 1;
            continue;
        }
        let ok = match kind {
            ItemKind::Summary => {
                open_as::<CaseSummary>(item, kind, &case_id, sk).map(|s| out.summary = Some(s))
            }
            ItemKind::ToReporter | ItemKind::FromReporter | ItemKind::Note => {
                open_as::<TextMessage>(item, kind, &case_id, sk).map(|m| {
                    out.thread.push(ThreadEntry {
                        id: item.meta.id,
                        kind: kind.as_str().to_owned(),
                        created: item.meta.created.clone(),
                        author: item.meta.author.map(|k| k.to_string()),
                        text: m.text,
                    })
                })
            }
            ItemKind::Attachment | ItemKind::AttachmentOriginal => {
                open_as::<EvidenceFile>(item, kind, &case_id, sk).map(|f| {
                    out.attachments.push(AttachmentInfo {
                        id: item.meta.id,
                        name: f.name.clone(),
                        format: f.format.clone(),
                        metadata_removed: f.metadata_removed,
                        note: f.note.clone(),
                        size: f.bytes.len(),
                    })
                })
            }
            ItemKind::Identity | ItemKind::DisclosedIdentity => {
                open_as::<Identity>(item, kind, &case_id, sk).map(|i| out.identity = Some(i))
            }
            // Reasons live in disclosure requests, never as items; shares were used above.
            ItemKind::DisclosureReason | ItemKind::IdentityShare => {
                Err(ClientError::Malformed("item kind"))
            }
        };
        if ok.is_err() {
            out.unreadable += 1;
        }
    }
    Ok(out)
}

/// Whether `item` is a threshold-sealed custodian item (identity or original).
fn is_threshold_item(item: &ItemView, kind: ItemKind) -> bool {
    matches!(kind, ItemKind::Identity | ItemKind::AttachmentOriginal)
        && blob_of(item).is_ok_and(|b| threshold::threshold_of(&b).is_some())
}

/// What custodians' shares opened of a case's threshold-sealed items.
#[derive(Default)]
struct Disclosed {
    identity: Option<Identity>,
    originals: Vec<(i64, EvidenceFile)>,
    /// Threshold-sealed items that stayed closed.
    sealed: usize,
    /// Share items whose signature does not verify.
    unverified: usize,
}

/// Opens a case's threshold-sealed identity and originals with the shares custodians
/// re-sealed to this key: only shares signed by a custodian of the signed keyring, only that
/// custodian's own share (its point in the item's header is its key), only for exactly that
/// item (content digest), and only shares answering the same disclosure request together.
fn open_disclosed(
    ring: &crate::trust::VerifiedKeyring,
    items: &[ItemView],
    case_id: &CaseId,
    sk: &SecretKey,
) -> Disclosed {
    let mut out = Disclosed::default();
    // Shares by request: (request, author, share).
    let mut shares: Vec<(i64, KeyId, threshold::DisclosedShare)> = Vec::new();
    for item in items {
        if item.meta.kind != ItemKind::IdentityShare.as_str() {
            continue;
        }
        if !signed_by_author(ring, item, ItemKind::IdentityShare, case_id, None) {
            out.unverified += 1;
            continue;
        }
        let (Some(request), Some(author)) = (item.seq, item.meta.author) else {
            continue;
        };
        let opened = blob_of(item)
            .ok()
            .and_then(|b| envelope::open(&b, ItemKind::IdentityShare, case_id, sk).ok())
            .and_then(|plain| threshold::decode_shares(&plain).ok());
        for s in opened.into_iter().flatten() {
            shares.push((request, author, s));
        }
    }
    for item in items {
        let Some(kind) = ItemKind::parse(&item.meta.kind) else {
            continue;
        };
        if !is_threshold_item(item, kind) {
            continue;
        }
        let Ok(blob) = blob_of(item) else {
            continue;
        };
        let digest = envelope::content_digest(&blob);
        let holders = envelope::recipients(&blob).unwrap_or_default();
        let mut requests: Vec<i64> = shares.iter().map(|(r, _, _)| *r).collect();
        requests.sort_unstable();
        requests.dedup();
        let plain = requests.iter().find_map(|request| {
            let usable: Vec<threshold::Share> = shares
                .iter()
                .filter(|(r, author, s)| {
                    r == request
                        && s.item_id == item.meta.id
                        && s.kind == kind
                        && s.digest == digest
                        && holders.get(usize::from(s.share.x).wrapping_sub(1)) == Some(author)
                })
                .map(|(_, _, s)| {
                    threshold::Share::new(s.share.x, s.share.k, *s.share.expose_value())
                })
                .collect();
            threshold::open_with_shares(&blob, kind, case_id, &usable).ok()
        });
        let Some(plain) = plain else {
            out.sealed += 1;
            continue;
        };
        let opened = match kind {
            ItemKind::Identity => Identity::decode(&plain).map(|i| out.identity = Some(i)),
            _ => EvidenceFile::decode(&plain).map(|f| out.originals.push((item.meta.id, f))),
        };
        if opened.is_err() {
            out.sealed += 1;
        }
    }
    out
}

/// True for a neutral attachment name that is safe as a file name in `--out`.
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control)
}

/// Refuses a server address that would carry the token and sealed items in clear over a
/// network: `https://` anywhere, `http://` only to this machine (an SSH tunnel, or a test).
pub fn check_server_url(server: &str) -> std::result::Result<(), String> {
    let url = url::Url::parse(server)
        .map_err(|_| format!("{server:?} is not a URL like https://review.example.internal"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let local = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(a)) => a.is_loopback(),
                Some(url::Host::Ipv6(a)) => a.is_loopback(),
                None => false,
            };
            if local {
                Ok(())
            } else {
                Err(format!(
                    "{server} is plain HTTP to another machine: the token and every sealed item would cross the network in clear. \
                     Use the https:// address of the reverse proxy, or an SSH tunnel to http://127.0.0.1"
                ))
            }
        }
        other => Err(format!(
            "the review server is reached over https, not {other}"
        )),
    }
}

/// Writes the case's attachments (cleaned copies for reviewers, originals for custodians)
/// under their neutral names in `dir`. Refuses unsafe names and never overwrites a file.
pub async fn save_attachments(
    client: &Client,
    sk: &SecretKey,
    role: RecipientRole,
    code: &str,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let kind = match role {
        RecipientRole::Reviewer => ItemKind::Attachment,
        RecipientRole::Custodian => ItemKind::AttachmentOriginal,
    };
    let detail = client.case(code).await?;
    let case_id = case_id_of(&detail.case.case_id)?;
    let items = client.items(code, None).await?;
    let mut files: Vec<(i64, EvidenceFile)> = Vec::new();
    for item in &items.items {
        if item.meta.kind != kind.as_str() || is_threshold_item(item, kind) {
            continue;
        }
        files.push((item.meta.id, open_as(item, kind, &case_id, sk)?));
    }
    // Originals a disclosure opened for this reviewer, under the same neutral names.
    if role == RecipientRole::Reviewer {
        let ring = client.verified_keyring().await?;
        for (id, mut f) in open_disclosed(&ring, &items.items, &case_id, sk).originals {
            f.name = format!("original-{}", f.name);
            files.push((id, f));
        }
    }
    let mut written = Vec::new();
    for (id, file) in &files {
        if !safe_file_name(&file.name) {
            return Err(ClientError::Io(format!(
                "attachment #{id} has an unsafe name; nothing more was written"
            )));
        }
        let path = dir.join(&file.name);
        write_new_file(&path, &file.bytes)?;
        written.push(path);
    }
    Ok(written)
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            ClientError::Io(if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} exists already; refusing to overwrite it",
                    path.display()
                )
            } else {
                format!("cannot create {}: {e}", path.display())
            })
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| ClientError::Io(format!("cannot write {}: {e}", path.display())))
}

/// The active keys of `role` in the verified keyring; an error when there is none.
async fn active_keys(client: &Client, role: RecipientRole) -> Result<Vec<PublicKey>> {
    active_in(&client.verified_keyring().await?, role)
}

/// The active keys of `role` in `ring`; an error when there is none.
fn active_in(ring: &crate::trust::VerifiedKeyring, role: RecipientRole) -> Result<Vec<PublicKey>> {
    let keys = ring.active(role);
    if keys.is_empty() {
        return Err(ClientError::Untrusted(format!(
            "the signed keyring has no active {role} key"
        )));
    }
    Ok(keys)
}

/// Seals `text` as a reply to the reporter (to the mailbox key and every active reviewer, so
/// the whole team can read the thread), signs it with the reviewer's signing key (the bot shows
/// the reporter only replies whose signature the signed keyring proves) and uploads it.
pub async fn reply(
    client: &Client,
    signer: &crate::crypto::sign::SigningKey,
    code: &str,
    text: &str,
) -> Result<i64> {
    let detail = client.case(code).await?;
    let case_id = case_id_of(&detail.case.case_id)?;
    let mailbox = public_key_of(
        detail
            .mailbox_public
            .as_deref()
            .ok_or(ClientError::Malformed("case without a mailbox key"))?,
    )?;
    let mut keys = active_keys(client, RecipientRole::Reviewer).await?;
    keys.push(mailbox);
    let seq = i64::try_from(
        client
            .items(code, Some(ItemKind::ToReporter))
            .await?
            .items
            .len(),
    )
    .unwrap_or(i64::MAX - 1)
        + 1;
    let blob = seal_text(ItemKind::ToReporter, &case_id, &keys, text)?;
    let signature = signer.sign(
        crate::trust::REPLY_CONTEXT,
        &crate::trust::reply_message(&case_id, seq, &mailbox, &blob),
    );
    let created = client
        .upload(
            code,
            &UploadItem {
                kind: ItemKind::ToReporter.as_str().to_owned(),
                blob: hex::encode(blob),
                request_id: None,
                seq: Some(seq),
                signature: Some(hex::encode(signature.as_bytes())),
            },
        )
        .await?;
    Ok(created.id)
}

/// Seals `text` as an internal note to every active reviewer, signs it (colleagues' clients
/// show only notes whose signature the signed keyring proves) and uploads it.
pub async fn note(
    client: &Client,
    signer: &crate::crypto::sign::SigningKey,
    code: &str,
    text: &str,
) -> Result<i64> {
    let detail = client.case(code).await?;
    let case_id = case_id_of(&detail.case.case_id)?;
    let keys = active_keys(client, RecipientRole::Reviewer).await?;
    let blob = seal_text(ItemKind::Note, &case_id, &keys, text)?;
    let signature = signer.sign(
        crate::trust::ITEM_CONTEXT,
        &crate::trust::item_message(ItemKind::Note, &case_id, 0, &blob),
    );
    let created = client
        .upload(
            code,
            &UploadItem {
                kind: ItemKind::Note.as_str().to_owned(),
                blob: hex::encode(blob),
                request_id: None,
                seq: None,
                signature: Some(hex::encode(signature.as_bytes())),
            },
        )
        .await?;
    Ok(created.id)
}

fn seal_text(kind: ItemKind, case_id: &CaseId, keys: &[PublicKey], text: &str) -> Result<Vec<u8>> {
    let msg = TextMessage {
        text: text.trim().to_owned(),
    };
    let plain = Zeroizing::new(msg.encode());
    Ok(envelope::seal(kind, case_id, keys, &plain)?)
}

/// Approves (or denies) a disclosure request; when the approval completes it, opens the
/// identity locally and re-seals it to the requesting reviewer's key only. An approval is
/// signed with `signer` over exactly this request and its verified requester. Returns the
/// request as it stands afterwards and the id of the disclosed item, if one was uploaded.
pub async fn decide_and_disclose(
    client: &Client,
    sk: &SecretKey,
    signer: &crate::crypto::sign::SigningKey,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<(DisclosureView, Option<i64>)> {
    // One verified keyring for the whole operation.
    let ring = client.verified_keyring().await?;
    let request = client
        .disclosure(id)
        .await?
        .ok_or(ClientError::Malformed("disclosure request"))?;
    let case_id = case_id_of(&request.case_id)?;
    let view = if approve {
        // An approval is given only for a requester the signed keyring proves.
        let requester = requester_in(&ring, &request)?;
        let signature = signer.sign(
            crate::trust::APPROVAL_CONTEXT,
            &crate::trust::approval_message(request.id, &case_id, &requester.key, &request.reason),
        );
        let reason = seal_reason_in(&ring, &case_id, Some(&requester.key), reason)?;
        client
            .decide_signed(id, true, &reason, Some(&signature))
            .await?
    } else {
        // A denial's reason goes to the custodians and, when the keyring proves them, the
        // requester.
        let requester = requester_in(&ring, &request).ok();
        let reason = seal_reason_in(&ring, &case_id, requester.as_ref().map(|m| &m.key), reason)?;
        client.decide(id, false, &reason).await?
    };
    // A threshold-sealed identity: each approving custodian gives its own share, whether or
    // not this approval completes the request; k of them open it.
    if approve && let Some(item) = give_shares_in(client, &ring, sk, signer, &view).await? {
        let after = client.disclosure(id).await?.unwrap_or(view);
        return Ok((after, Some(item)));
    }
    if view.status != DisclosureStatus::Approved {
        return Ok((view, None));
    }
    let item = disclose_in(client, &ring, sk, signer, &view).await?;
    let after = client.disclosure(id).await?.unwrap_or(view);
    Ok((after, Some(item)))
}

/// Opens this custodian's shares of the case's threshold-sealed identity and originals and
/// re-seals them, signed, to the requester the signed keyring proves (an `identity_share`
/// item). `None` when the case has no threshold-sealed identity (one custodian opens it: see
/// [`disclose`]).
async fn give_shares_in(
    client: &Client,
    ring: &crate::trust::VerifiedKeyring,
    sk: &SecretKey,
    signer: &crate::crypto::sign::SigningKey,
    request: &DisclosureView,
) -> Result<Option<i64>> {
    let case_id = case_id_of(&request.case_id)?;
    let member = requester_in(ring, request)?;
    let items = client.items(&request.case, None).await?;
    let mut entries = Vec::new();
    let mut identity = false;
    for item in &items.items {
        let Some(kind) = ItemKind::parse(&item.meta.kind) else {
            continue;
        };
        if !is_threshold_item(item, kind) {
            continue;
        }
        let blob = blob_of(item)?;
        let share = match threshold::share_of(&blob, kind, &case_id, sk) {
            Ok(s) => s,
            // The identity must open; an original sealed to others is left out.
            Err(e) if kind == ItemKind::Identity => return Err(e.into()),
            Err(_) => continue,
        };
        identity |= kind == ItemKind::Identity;
        entries.push(threshold::DisclosedShare {
            item_id: item.meta.id,
            kind,
            digest: envelope::content_digest(&blob),
            share,
        });
    }
    if !identity {
        return Ok(None);
    }
    let plain = threshold::encode_shares(&entries)?;
    let blob = envelope::seal(ItemKind::IdentityShare, &case_id, &[member.key], &plain)?;
    let signature = signer.sign(
        crate::trust::ITEM_CONTEXT,
        &crate::trust::item_message(ItemKind::IdentityShare, &case_id, request.id, &blob),
    );
    let created = client
        .upload(
            &request.case,
            &UploadItem {
                kind: ItemKind::IdentityShare.as_str().to_owned(),
                blob: hex::encode(blob),
                request_id: Some(request.id),
                seq: None,
                signature: Some(hex::encode(signature.as_bytes())),
            },
        )
        .await?;
    Ok(Some(created.id))
}

/// How many distinct active custodians of the signed keyring approved exactly this request,
/// for this requester, with a valid signature.
fn approvals_in(
    ring: &crate::trust::VerifiedKeyring,
    request: &DisclosureView,
    requester: &crate::trust::Member,
) -> Result<usize> {
    let case_id = case_id_of(&request.case_id)?;
    let message =
        crate::trust::approval_message(request.id, &case_id, &requester.key, &request.reason);
    let mut approvers: Vec<crate::crypto::KeyId> = Vec::new();
    for d in request.decisions.iter().filter(|d| d.approve) {
        let Some(sig) = d
            .signature
            .as_deref()
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| crate::crypto::sign::Signature::from_slice(&b).ok())
        else {
            continue;
        };
        let valid = ring.members.iter().any(|m| {
            m.active
                && m.role == RecipientRole::Custodian
                && m.key.key_id() == d.custodian
                && m.verify
                    .verify(crate::trust::APPROVAL_CONTEXT, &message, &sig)
                    .is_ok()
        });
        if valid && !approvers.contains(&d.custodian) {
            approvers.push(d.custodian);
        }
    }
    Ok(approvers.len())
}

/// Asks for the identity of the reporter of case `code`, signed by the requesting reviewer
/// (`own`: this reviewer's X25519 key, as the keyring has it).
pub async fn request_identity(
    client: &Client,
    own: &PublicKey,
    signer: &crate::crypto::sign::SigningKey,
    code: &str,
    reason: &str,
) -> Result<Created> {
    let detail = client.case(code).await?;
    let case_id = case_id_of(&detail.case.case_id)?;
    let reason = seal_reason(client, &case_id, Some(own), reason.trim()).await?;
    let signature = signer.sign(
        crate::trust::REQUEST_CONTEXT,
        &crate::trust::request_message(&case_id, own, &reason),
    );
    client.request_identity(code, &reason, &signature).await
}

/// How a sealed reason starts in the review API's `reason` fields (the rest is the envelope,
/// hex). The server stores it as it is and never sees the text.
pub const SEALED_REASON: &str = "sealed:";

/// Seals a disclosure reason (a request's or a decision's) to the active custodians of the
/// verified keyring and to the requester, bound to the case.
async fn seal_reason(
    client: &Client,
    case_id: &CaseId,
    requester: Option<&PublicKey>,
    text: &str,
) -> Result<String> {
    seal_reason_in(&client.verified_keyring().await?, case_id, requester, text)
}

/// [`seal_reason`] with a keyring already verified.
fn seal_reason_in(
    ring: &crate::trust::VerifiedKeyring,
    case_id: &CaseId,
    requester: Option<&PublicKey>,
    text: &str,
) -> Result<String> {
    let mut keys = active_in(ring, RecipientRole::Custodian)?;
    if let Some(r) = requester
        && !keys.contains(r)
    {
        keys.push(*r);
    }
    let blob = seal_text(ItemKind::DisclosureReason, case_id, &keys, text)?;
    Ok(format!("{SEALED_REASON}{}", hex::encode(blob)))
}

/// A reason as the review API gives it, opened with `sk` when it is sealed (a reason from
/// before sealing is shown as it is).
pub fn reason_text(reason: &str, case_id_hex: &str, sk: &SecretKey) -> String {
    let Some(sealed) = reason.strip_prefix(SEALED_REASON) else {
        return reason.to_owned();
    };
    let opened = hex::decode(sealed).ok().and_then(|blob| {
        let case_id = CaseId::parse(case_id_hex)?;
        let plain = envelope::open(&blob, ItemKind::DisclosureReason, &case_id, sk).ok()?;
        TextMessage::decode(&plain).ok()
    });
    opened.map_or_else(
        || "(sealed: not readable with this key)".to_owned(),
        |m| m.text,
    )
}

/// `view` with every reason opened with `sk` (for display and `--json`).
pub fn open_reasons(view: &DisclosureView, sk: &SecretKey) -> DisclosureView {
    let mut v = view.clone();
    v.reason = reason_text(&view.reason, &view.case_id, sk);
    for d in &mut v.decisions {
        d.reason = reason_text(&d.reason, &view.case_id, sk);
    }
    v
}

/// The requester of a disclosure request as the signed keyring proves it: an active reviewer
/// key whose id is the request's, and (when the server sends one) the same public key, who
/// signed this very request. A request naming any other key, or not signed by the reviewer it
/// names, is refused before anything is approved or opened.
pub async fn verified_requester(
    client: &Client,
    request: &DisclosureView,
) -> Result<crate::trust::Member> {
    requester_in(&client.verified_keyring().await?, request)
}

/// [`verified_requester`] with a keyring already verified.
fn requester_in(
    ring: &crate::trust::VerifiedKeyring,
    request: &DisclosureView,
) -> Result<crate::trust::Member> {
    let member = ring
        .members
        .iter()
        .find(|m| m.key.key_id() == request.requester)
        .filter(|m| m.active && m.role == RecipientRole::Reviewer)
        .cloned()
        .ok_or_else(|| {
            ClientError::Untrusted(format!(
                "the requester's key {} is not an active reviewer key in the signed keyring",
                request.requester
            ))
        })?;
    if let Some(sent) = request.requester_public.as_deref()
        && public_key_of(sent)? != member.key
    {
        return Err(ClientError::Untrusted(format!(
            "the server sent another public key for the requester {} than the signed keyring",
            request.requester
        )));
    }
    let case_id = case_id_of(&request.case_id)?;
    let signed = request
        .request_signature
        .as_deref()
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| crate::crypto::sign::Signature::from_slice(&b).ok())
        .is_some_and(|sig| {
            member
                .verify
                .verify(
                    crate::trust::REQUEST_CONTEXT,
                    &crate::trust::request_message(&case_id, &member.key, &request.reason),
                    &sig,
                )
                .is_ok()
        });
    if !signed {
        return Err(ClientError::Untrusted(format!(
            "request #{} is not signed by the reviewer it names ({})",
            request.id, request.requester
        )));
    }
    Ok(member)
}

/// Re-seals the identity of an approved request to the requester (custodian side); for a
/// threshold-sealed identity, gives this custodian's share (it must have approved).
pub async fn disclose(
    client: &Client,
    sk: &SecretKey,
    signer: &crate::crypto::sign::SigningKey,
    request: &DisclosureView,
) -> Result<i64> {
    let ring = client.verified_keyring().await?;
    if let Some(item) = give_shares_in(client, &ring, sk, signer, request).await? {
        return Ok(item);
    }
    disclose_in(client, &ring, sk, signer, request).await
}

/// [`disclose`] with a keyring already verified.
async fn disclose_in(
    client: &Client,
    ring: &crate::trust::VerifiedKeyring,
    sk: &SecretKey,
    signer: &crate::crypto::sign::SigningKey,
    request: &DisclosureView,
) -> Result<i64> {
    let case_id = case_id_of(&request.case_id)?;
    let member = requester_in(ring, request)?;
    // The approvals must be real: signed by enough distinct current custodians, for this very
    // request and requester (a status set in the database approves nothing).
    // The signed keyring's number counts even when the server names a lower one.
    let needed = usize::try_from(request.approvals_required.max(i64::from(ring.threshold())))
        .unwrap_or(1)
        .max(1);
    let valid = approvals_in(ring, request, &member)?;
    if valid < needed {
        return Err(ClientError::Untrusted(format!(
            "request #{} carries {valid} valid custodian approval(s) signed for it; {needed} needed",
            request.id
        )));
    }
    let requester = member.key;
    let items = client
        .items(&request.case, Some(ItemKind::Identity))
        .await?;
    let identity = items.items.first().ok_or(ClientError::Malformed(
        "case without an identity sealed to this key",
    ))?;
    // A threshold-sealed identity is never opened here: its shares go to the requester.
    let plain = envelope::open(&blob_of(identity)?, ItemKind::Identity, &case_id, sk)?;
    let blob = envelope::seal(ItemKind::DisclosedIdentity, &case_id, &[requester], &plain)?;
    // Signed, so the requester's client shows only an identity a custodian vouches for.
    let signature = signer.sign(
        crate::trust::ITEM_CONTEXT,
        &crate::trust::item_message(ItemKind::DisclosedIdentity, &case_id, request.id, &blob),
    );
    let created = client
        .upload(
            &request.case,
            &UploadItem {
                kind: ItemKind::DisclosedIdentity.as_str().to_owned(),
                blob: hex::encode(blob),
                request_id: Some(request.id),
                seq: None,
                signature: Some(hex::encode(signature.as_bytes())),
            },
        )
        .await?;
    Ok(created.id)
}

/// What a rewrap run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RewrapReport {
    /// Items given new wraps.
    pub rewrapped: usize,
    /// Items that changed meanwhile or failed to open (run again).
    pub failed: usize,
    /// Items that need new wraps but are not sealed to this key.
    pub not_openable: usize,
    /// Items the server asked to seal to keys the signed keyring does not prove: not done.
    pub refused: usize,
    /// The key ids the server named that the signed keyring does not prove.
    pub unproven_keys: Vec<String>,
    /// Threshold-sealed items this custodian gave its re-share part for; their new header is
    /// made once enough custodians have (run by k custodians in all).
    pub contributed: usize,
    /// Threshold-sealed items this custodian gave its part for earlier, still waiting for
    /// other custodians' parts.
    pub waiting: usize,
}

/// The key a reviewer's disclosed identities move to when that reviewer's key rotates, as the
/// signed keyring proves it: the one other active reviewer key the authority signed under the
/// same name as `own`. `None` when there is none, or more than one.
fn successor_in(ring: &crate::trust::VerifiedKeyring, own: &PublicKey) -> Option<PublicKey> {
    let me = ring
        .member(own)
        .filter(|m| m.role == RecipientRole::Reviewer)?;
    let others: Vec<PublicKey> = ring
        .members
        .iter()
        .filter(|m| {
            m.active && m.role == RecipientRole::Reviewer && m.name == me.name && m.key != *own
        })
        .map(|m| m.key)
        .collect();
    match others[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// The role whose keys an item of `kind` is sealed to, for rewrap: `None` for a disclosed
/// identity, which is sealed to its requester only and moves only to that reviewer's next key
/// ([`successor_in`]).
fn rewrap_role(kind: ItemKind) -> Option<RecipientRole> {
    match kind {
        ItemKind::Identity | ItemKind::AttachmentOriginal => Some(RecipientRole::Custodian),
        ItemKind::DisclosedIdentity => None,
        _ => Some(RecipientRole::Reviewer),
    }
}

/// Gives every item this key can open, and whose wraps differ from the current key set, a new
/// header wrapping the same content key to exactly the current keys — the keys the signed
/// keyring proves, never the server's word: an item whose target names any other key (but a
/// reply's one mailbox key) is refused and reported. An identity disclosed to this reviewer
/// key moves to the key the authority signed next under the same name, and only there.
pub async fn rewrap_all(client: &Client, sk: &SecretKey) -> Result<RewrapReport> {
    rewrap_all_with_progress(client, sk, &mut |_| {}).await
}

/// [`rewrap_all`], calling `progress(done)` after each item. The plan comes page by page
/// (`GET /rewrap?after=…`), so neither side holds every envelope at once.
pub async fn rewrap_all_with_progress(
    client: &Client,
    sk: &SecretKey,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<RewrapReport> {
    let ring = client.verified_keyring().await?;
    let mut report = RewrapReport::default();
    let mut after: Option<String> = None;
    let mut done = 0usize;
    loop {
        let plan = client.rewrap_plan_after(after.as_deref()).await?;
        report.not_openable += plan.not_openable;
        for item in &plan.items {
            progress(done);
            done += 1;
            rewrap_one(client, sk, &ring, item, &mut report).await?;
        }
        match plan.next {
            Some(n) => after = Some(n),
            None => return Ok(report),
        }
    }
}

/// Rewraps (or re-shares) one item of the plan, counting the result in `report`.
async fn rewrap_one(
    client: &Client,
    sk: &SecretKey,
    ring: &crate::trust::VerifiedKeyring,
    item: &RewrapItem,
    report: &mut RewrapReport,
) -> Result<()> {
    let Some(kind) = ItemKind::parse(&item.kind) else {
        report.failed += 1;
        return Ok(());
    };
    let case_id = case_id_of(&item.case_id)?;
    let target: Vec<PublicKey> = item
        .target
        .iter()
        .map(|k| public_key_of(k))
        .collect::<Result<_>>()?;
    let proven = match rewrap_role(kind) {
        Some(role) => ring.active(role),
        None => successor_in(ring, &sk.public_key()).into_iter().collect(),
    };
    let mut unproven: Vec<&PublicKey> = target.iter().filter(|k| !proven.contains(k)).collect();
    // A reply is also sealed to the reporter's mailbox key, which the keyring does not
    // hold: one such key, for replies only.
    if kind == ItemKind::ToReporter && unproven.len() == 1 {
        unproven.clear();
    }
    let complete = proven.iter().all(|k| target.contains(k));
    if !unproven.is_empty() || !complete || proven.is_empty() {
        report.refused += 1;
        for k in unproven {
            let id = k.key_id().to_string();
            if !report.unproven_keys.contains(&id) {
                report.unproven_keys.push(id);
            }
        }
        return Ok(());
    }
    let blob = hex::decode(&item.blob).map_err(|_| ClientError::Malformed("envelope"))?;
    // Identities and originals are split among k custodians, k as the signed keyring
    // (not the server) says.
    let custodial = rewrap_role(kind) == Some(RecipientRole::Custodian);
    let k = u8::try_from(ring.threshold()).unwrap_or(u8::MAX);
    if custodial && threshold::threshold_of(&blob).is_some() {
        let own = sk.public_key().key_id().to_string();
        if item.dealers.contains(&own) {
            report.waiting += 1;
            return Ok(());
        }
        let Ok(part) = threshold::reshare_part(&blob, kind, &case_id, sk, &target, k) else {
            report.failed += 1;
            return Ok(());
        };
        match client
            .reshare(
                item.id,
                &ReshareBody {
                    version: item.version,
                    part: hex::encode(part),
                },
            )
            .await
        {
            Ok(done) if done.version.is_some() => report.rewrapped += 1,
            Ok(_) => report.contributed += 1,
            Err(ClientError::Api { status: 409, .. }) => report.failed += 1,
            Err(e) => return Err(e),
        }
        return Ok(());
    }
    let header = if custodial && k >= 2 {
        threshold::to_threshold(&blob, kind, &case_id, sk, &target, k)
    } else {
        envelope::rewrap(&blob, kind, &case_id, sk, &target)
    };
    let Ok(header) = header else {
        report.failed += 1;
        return Ok(());
    };
    match client
        .rewrap(
            item.id,
            &RewrapBody {
                version: item.version,
                header: hex::encode(header),
            },
        )
        .await
    {
        Ok(_) => report.rewrapped += 1,
        Err(ClientError::Api { status: 409, .. }) => report.failed += 1,
        Err(e) => return Err(e),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Client, check_server_url, safe_file_name};
    use secrecy::SecretString;

    #[test]
    fn server_urls_never_carry_tokens_in_clear_over_a_network() {
        for ok in [
            "https://review.thanhtra.internal",
            "http://127.0.0.1:8470",
            "http://[::1]:8470",
            "http://localhost:8470/",
        ] {
            assert!(check_server_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://review.thanhtra.internal",
            "http://10.20.0.5:8470",
            "ftp://x",
            "review.thanhtra.internal",
        ] {
            assert!(check_server_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let t = SecretString::from("x".to_owned());
        assert!(Client::with_ca("https://x", t.clone(), Some(b"not pem")).is_err());
        assert!(Client::with_ca("https://x", t, None).is_ok());
    }

    #[test]
    fn attachment_names_cannot_escape_the_directory() {
        assert!(safe_file_name("attachment-1.jpg"));
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            ".hidden",
            "x\0y",
            "line\nbreak",
        ] {
            assert!(!safe_file_name(bad), "{bad:?}");
        }
        assert!(!safe_file_name(&"a".repeat(200)));
    }
}
