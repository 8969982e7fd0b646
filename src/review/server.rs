//! The review API (axum), under `/api/v1`, JSON. Documented endpoint by endpoint in
//! `docs/review-api.md`.
//!
//! Invariants:
//! - The server never holds a private key: it hands out envelopes and accepts envelopes and
//!   recipient headers, checking only what it can check without keys (kind, case binding,
//!   recipient key ids, approvals).
//! - A caller receives only items whose envelope wraps the content key to the caller's key
//!   (reviewers never receive identity or original-attachment items, custodians nothing but
//!   those); a case with no such item answers exactly like a case that does not exist.
//! - Every request that reaches a handler is audited with the caller's key id (or
//!   `unauthenticated`), an action, the case code and counts: never content.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;

use super::auth::{self, AuthFailure, Caller, FailureLimiter};
use super::peer::{self, Net};
use super::wire::*;
use crate::clock::{Day, unix_now};
use crate::crypto::envelope;
use crate::crypto::{ItemKind, KeyId, PublicKey, RecipientRole};
use crate::ids::{CaseCode, CaseId};
use crate::store::keys::{CUSTODIAN_KINDS, class_of, disclosed_kind};
use crate::store::{
    AuditEntry, AuditProof, CaseRow, DisclosureRequest, ItemHeader, NewItem, QueueCursor,
    QueueFilter, QueueViewer, Store, StoreError, TokenRole,
};

/// How long a claim lasts before another reviewer may take the case.
pub const LEASE_SECS: i64 = 2 * 3600;

/// Shared state of the API.
pub struct ApiState {
    /// The store.
    pub store: Store,
    /// Custodian approvals needed for a disclosure.
    pub approvals_required: i64,
    /// Closed cases are purged this many days after closure.
    pub closed_case_days: i64,
    /// Failed-authentication counters.
    pub limiter: FailureLimiter,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see [`super::peer`]).
    pub trusted_proxies: Vec<Net>,
    /// The keyring authority keys this server is configured with (shown to `login`, which
    /// compares them with the operator's; clients never take them from here).
    pub authority: Vec<String>,
    /// The same, parsed with the configured threshold: the number of approvals a disclosure
    /// needs is read from the chain they verify (`None`: only `approvals_required` counts).
    pub authorities: Option<crate::trust::Authorities>,
}

impl ApiState {
    /// New state; `trusted_proxies` from `review.trusted_proxies`.
    pub fn new(
        store: Store,
        approvals_required: i64,
        closed_case_days: i64,
        trusted_proxies: Vec<Net>,
        authority: Vec<String>,
        authorities: Option<crate::trust::Authorities>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            approvals_required,
            closed_case_days,
            limiter: FailureLimiter::default(),
            trusted_proxies,
            authority,
            authorities,
        })
    }

    /// Distinct custodian approvals a disclosure needs: the configured number or the one the
    /// signed keyring sets, whichever is higher (a database writer can lower neither). A chain
    /// that does not verify stops disclosures.
    pub async fn approvals_needed(&self) -> ApiResult<i64> {
        let Some(ring) = self.verified_ring().await? else {
            return Ok(self.approvals_required.max(1));
        };
        Ok(self
            .approvals_required
            .max(i64::from(ring.threshold()))
            .max(1))
    }

    /// The signed keyring as the pinned authorities prove it; `None` without a pinned
    /// authority (tests of the bare API). A chain that does not verify is an error.
    async fn verified_ring(&self) -> ApiResult<Option<crate::trust::VerifiedKeyring>> {
        let Some(authorities) = &self.authorities else {
            return Ok(None);
        };
        crate::trust::stored_chain(&self.store)
            .await
            .and_then(|chain| authorities.verify_chain(&chain))
            .map(Some)
            .map_err(|e| {
                tracing::warn!(error = %e, "the signed keyring does not verify");
                ApiError::Invalid(format!(
                    "the signed keyring does not verify ({e}): no disclosure decision is taken"
                ))
            })
    }

    /// `k` for custodian items (identities and originals): the signed keyring's threshold, 1
    /// without a pinned authority.
    pub async fn threshold(&self) -> ApiResult<u8> {
        Ok(self
            .verified_ring()
            .await?
            .map_or(1, |r| u8::try_from(r.threshold()).unwrap_or(u8::MAX)))
    }

    /// New state with a given failed-authentication limiter (tests use a generous one).
    pub fn with_limiter(
        store: Store,
        approvals_required: i64,
        closed_case_days: i64,
        limiter: FailureLimiter,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            approvals_required,
            closed_case_days,
            limiter,
            trusted_proxies: Vec::new(),
            authority: Vec::new(),
            authorities: None,
        })
    }
}

type AppState = Arc<ApiState>;

/// An error answer.
#[derive(Debug)]
pub enum ApiError {
    /// 401: no, unknown, expired or revoked token (one answer for all).
    Unauthorized,
    /// 403: the token's role may not use this endpoint.
    Forbidden,
    /// 404: no such object, or not one the caller may see (one answer for both).
    NotFound,
    /// 409: the state changed or is held by someone else.
    Conflict(String),
    /// 422: the request is understood but not allowed in the object's state.
    Invalid(String),
    /// 400: malformed input.
    BadRequest(String),
    /// 429: too many failed authentications from this address.
    TooManyRequests,
    /// 503: the database failed.
    Unavailable,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict => {
                ApiError::Conflict("the record was changed or is held by someone else".into())
            }
            StoreError::AlreadyExists => ApiError::Conflict("this exists already".into()),
            StoreError::Invalid(m) => ApiError::Invalid(m),
            other => {
                tracing::warn!(error = %other, "review API store error");
                ApiError::Unavailable
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required".to_owned(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token's role may not do this".to_owned(),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "not found".to_owned()),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            ApiError::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            ApiError::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many failed attempts from this address; wait a minute".to_owned(),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is not available; try again".to_owned(),
            ),
        };
        let mut r = (
            status,
            Json(ErrorBody {
                error: code.to_owned(),
                message,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        r
    }
}

type ApiResult<T> = Result<T, ApiError>;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let ip = peer::limit_key(peer::client_address(
            peer,
            forwarded,
            &state.trusted_proxies,
        ));
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match auth::authenticate(&state.store, &state.limiter, ip, bearer).await? {
            Ok(c) => {
                if let Some(slot) = parts.extensions.get::<ActorSlot>() {
                    *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.actor());
                }
                Ok(c)
            }
            Err(AuthFailure::RateLimited) => Err(ApiError::TooManyRequests),
            Err(_) => Err(ApiError::Unauthorized),
        }
    }
}

impl Caller {
    fn require(&self, roles: &[TokenRole]) -> ApiResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    fn key_id(&self) -> ApiResult<KeyId> {
        self.key.ok_or(ApiError::Forbidden)
    }
}

/// Filled by the [`Caller`] extractor, read by [`audit_refusals`] after the handler ran.
#[derive(Clone, Default)]
struct ActorSlot(Arc<std::sync::Mutex<Option<String>>>);

/// Audits every refusal of an authenticated caller (400, 403, 404, 409, 422): who tried which
/// endpoint and what the answer was. Successes are audited by the handlers and the store, in
/// the same transaction as the change; failed authentication by [`auth::authenticate`]. The
/// route template is recorded, never the path itself (a probed case code is the caller's input).
async fn audit_refusals(
    State(state): State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let slot = ActorSlot::default();
    req.extensions_mut().insert(slot.clone());
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let method = req.method().clone();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    if matches!(status, 400 | 403 | 404 | 409 | 422) {
        let actor = slot.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(actor) = actor {
            let entry =
                AuditEntry::new(actor, "refused").detail(format!("{method} {route} {status}"));
            if let Err(e) = state.store.audit(entry).await {
                tracing::warn!(error = %e, status, "could not audit a refused request");
            }
        }
    }
    response
}

/// The API's routes, without the connection-info layer (see [`serve`]).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/whoami", get(whoami))
        .route("/keyring", get(keyring))
        .route("/cases", get(list_cases))
        .route("/cases/claim", post(claim_next))
        .route("/cases/{code}", get(case_detail))
        .route("/cases/{code}/items", get(case_items).post(upload_item))
        .route("/cases/{code}/claim", post(claim_case).delete(release_case))
        .route("/cases/{code}/status", post(change_status))
        .route("/cases/{code}/disclosure", post(request_disclosure))
        .route("/disclosures", get(list_disclosures))
        .route("/disclosures/{id}/decision", post(decide))
        .route("/rewrap", get(rewrap_plan))
        .route("/items/{id}/rewrap", post(rewrap_item))
        .route("/items/{id}/reshare", post(reshare_item))
        .route("/audit", get(audit_list))
        .route("/audit/verify", get(audit_verify))
        .route("/tokens", get(token_list))
        .route("/tokens/{id}", delete(token_revoke))
        .route("/purge", post(purge))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit_refusals,
        ))
        .with_state(state);
    Router::new()
        .nest(PREFIX, api)
        // Envelopes of replies, notes and identities are small; headers for rewrap smaller.
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        // Request latency by route template (never the path asked for, which names a case).
        .layer(axum::middleware::from_fn(|r, n| {
            crate::metrics::track_http("review", r, n)
        }))
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

// ---- visibility -----------------------------------------------------------------------------

/// Whether the caller may see item `h`: it is sealed to the caller's key and of the kinds the
/// caller's role opens (the rule `case_keys` indexes, [`crate::store::keys::class_of`]).
fn item_visible(h: &ItemHeader, caller: &Caller) -> bool {
    let Some(key) = caller.key else {
        return false;
    };
    h.recipients.contains(&key)
        && caller.role != TokenRole::Admin
        && class_of(h.kind, h.for_key.as_ref(), &key) == Some(caller.role)
}

/// [`item_visible`], and for the requester custodians gave shares to, the threshold-sealed
/// identity and originals of that case (which open only with enough of those shares).
fn item_visible_in(h: &ItemHeader, headers: &[ItemHeader], caller: &Caller) -> bool {
    item_visible(h, caller)
        || (caller.role == TokenRole::Reviewer
            && CUSTODIAN_KINDS.contains(&h.kind)
            && caller.key.is_some_and(|k| {
                headers
                    .iter()
                    .any(|o| o.kind == ItemKind::IdentityShare && o.for_key == Some(k))
            }))
}

fn hex_id(id: &CaseId) -> String {
    hex::encode(id.as_bytes())
}

fn case_view(c: &CaseRow, headers: &[ItemHeader], caller: &Caller, now: i64) -> CaseView {
    let live = c.lease_until.is_some_and(|t| t > now);
    CaseView {
        code: c.code.as_str().to_owned(),
        case_id: hex_id(&c.id),
        created: c.created_day.to_string(),
        updated: c.updated_day.to_string(),
        category: c.category.clone(),
        status: c.status,
        outcome: c.outcome,
        closed: c.closed_day.map(|d| d.to_string()),
        claimed_by: if live { c.claimed_by } else { None },
        lease_until: if live { c.lease_until } else { None },
        flags: CaseFlags {
            attachments: headers.iter().any(|h| h.kind == ItemKind::Attachment),
            unread_from_reporter: c.unread_from_reporter,
            identity_present: headers.iter().any(|h| h.kind == ItemKind::Identity),
            identity_disclosed_to_you: headers
                .iter()
                .any(|h| disclosed_kind(h.kind) && caller.key.is_some() && h.for_key == caller.key),
        },
    }
}

fn item_meta(h: &ItemHeader) -> ItemMeta {
    ItemMeta {
        id: h.id,
        kind: h.kind.as_str().to_owned(),
        created: h.created_day.to_string(),
        author: h.author,
        for_key: h.for_key,
        size: h.size,
        version: h.version,
    }
}

/// The case `code` if the caller may see it, with its item headers; otherwise `NotFound`
/// (unknown and not-yours are indistinguishable).
async fn visible_case(
    state: &ApiState,
    caller: &Caller,
    code: &str,
) -> ApiResult<(CaseRow, Vec<ItemHeader>)> {
    let code = CaseCode::parse(code).ok_or(ApiError::NotFound)?;
    let case = state.store.case_by_code(&code).await?;
    let headers = state.store.item_headers(&case.id).await?;
    if headers.iter().any(|h| item_visible(h, caller)) {
        Ok((case, headers))
    } else {
        Err(ApiError::NotFound)
    }
}

async fn audit(
    state: &ApiState,
    caller: &Caller,
    action: &str,
    case: Option<&str>,
    detail: String,
) -> ApiResult<()> {
    let mut e = AuditEntry::new(caller.actor(), action).detail(detail);
    if let Some(c) = case {
        e = e.case(c);
    }
    state.store.audit(e).await?;
    Ok(())
}

// ---- handlers ---------------------------------------------------------------------------------

async fn whoami(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WhoAmI>> {
    audit(&state, &caller, "whoami", None, String::new()).await?;
    Ok(Json(WhoAmI {
        token_id: caller.token_id.clone(),
        role: caller.role,
        key_id: caller.key,
        expires_at: caller.expires_at,
    }))
}

async fn keyring(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<KeyringView>> {
    let ring = state.store.keyring().await?;
    let recipients = state
        .store
        .recipients()
        .await?
        .into_iter()
        .map(|r| RecipientView {
            key_id: r.key_id,
            role: r.role,
            name: r.name,
            public_key: hex::encode(r.public_key.as_bytes()),
            active: r.active,
        })
        .collect();
    let statements = state
        .store
        .keyring_statements()
        .await?
        .into_iter()
        .map(|s| StatementView {
            seq: s.seq,
            body: hex::encode(&s.body),
            signatures: s.signatures,
        })
        .collect();
    audit(&state, &caller, "keyring.read", None, String::new()).await?;
    Ok(Json(KeyringView {
        epoch: ring.epoch,
        recipients,
        statements,
        authority: state.authority.clone(),
    }))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    unread: Option<bool>,
    mine: Option<bool>,
    page: Option<usize>,
    per_page: Option<usize>,
    after: Option<String>,
}

/// `total` counts no further than this, so that a listing never reads more of the index.
const LIST_COUNT_CAP: i64 = 10_000;

async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<QueuePage>> {
    caller.require(&[TokenRole::Reviewer, TokenRole::Custodian])?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(crate::store::CaseStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest(
                "status is one of new, in_review, awaiting_reporter, closed".into(),
            )
        })?),
    };
    let after = match q.after.as_deref() {
        None | Some("") => None,
        Some(a) => Some(QueueCursor::parse(a).ok_or_else(|| {
            ApiError::BadRequest("after is the `next` of a previous page".into())
        })?),
    };
    let per_page = q.per_page.unwrap_or(50).clamp(1, 200);
    // With `after` the page is the next one; `page` alone skips pages (cost grows with it).
    let page = if after.is_some() {
        1
    } else {
        q.page.unwrap_or(1).max(1)
    };
    let offset = i64::try_from((page - 1).saturating_mul(per_page)).unwrap_or(i64::MAX);
    let viewer = QueueViewer {
        key: caller.key_id()?,
        class: caller.role,
    };
    let filter = QueueFilter {
        status,
        unread: q.unread,
        claimed_by: if q.mine == Some(true) {
            caller.key
        } else {
            None
        },
    };
    let rows = state
        .store
        .queue_page(&viewer, &filter, after.as_ref(), offset, per_page as i64)
        .await?;
    let next = (rows.len() == per_page)
        .then(|| rows.last().map(|c| QueueCursor::after(c).to_string()))
        .flatten();
    let ids: Vec<CaseId> = rows.iter().map(|c| c.id).collect();
    let mut headers = state.store.item_headers_of(&ids).await?;
    let now = unix_now();
    // The index only proposes: each case is shown after its own items say the caller can
    // open one of them.
    let cases: Vec<CaseView> = rows
        .iter()
        .filter_map(|c| {
            let h = headers.remove(&c.id).unwrap_or_default();
            h.iter()
                .any(|i| item_visible(i, &caller))
                .then(|| case_view(c, &h, &caller, now))
        })
        .collect();
    let counted = state
        .store
        .queue_count(&viewer, &filter, LIST_COUNT_CAP)
        .await?;
    let total_capped = counted >= LIST_COUNT_CAP;
    let total = usize::try_from(counted).unwrap_or(usize::MAX);
    audit(
        &state,
        &caller,
        "cases.list",
        None,
        format!(
            "{} of {total}{}",
            cases.len(),
            if total_capped { "+" } else { "" }
        ),
    )
    .await?;
    Ok(Json(QueuePage {
        cases,
        total,
        total_capped,
        page,
        per_page,
        next,
    }))
}

async fn claim_next(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ClaimResult>> {
    caller.require(&[TokenRole::Reviewer])?;
    let key = caller.key_id()?;
    let now = unix_now();
    // The next case in claim order that this reviewer can open (as the queue shows it); a
    // case sealed to other keys only is never taken from the others.
    let mut case = None;
    for candidate in state.store.claim_candidates(now, 200).await? {
        let headers = state.store.item_headers(&candidate.id).await?;
        if !headers.iter().any(|h| item_visible(h, &caller)) {
            continue;
        }
        match state
            .store
            .claim_case(&candidate.id, &key, now + LEASE_SECS, now)
            .await
        {
            Ok(c) => {
                case = Some(c);
                break;
            }
            // Taken by another reviewer meanwhile: the next one.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let case = match case {
        Some(c) => {
            let headers = state.store.item_headers(&c.id).await?;
            Some(case_view(&c, &headers, &caller, now))
        }
        None => {
            audit(&state, &caller, "case.claim", None, "queue empty".into()).await?;
            None
        }
    };
    Ok(Json(ClaimResult { case }))
}

async fn claim_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<CaseView>> {
    caller.require(&[TokenRole::Reviewer])?;
    let key = caller.key_id()?;
    let (case, headers) = visible_case(&state, &caller, &code).await?;
    let now = unix_now();
    let case = match state
        .store
        .claim_case(&case.id, &key, now + LEASE_SECS, now)
        .await
    {
        Err(StoreError::Conflict) => {
            return Err(ApiError::Conflict(
                "another reviewer holds this case".into(),
            ));
        }
        other => other?,
    };
    Ok(Json(case_view(&case, &headers, &caller, now)))
}

async fn release_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(&[TokenRole::Reviewer])?;
    let key = caller.key_id()?;
    let (case, _) = visible_case(&state, &caller, &code).await?;
    match state.store.release_case(&case.id, &key).await {
        Err(StoreError::Conflict) => Err(ApiError::Conflict("you do not hold this case".into())),
        other => {
            other?;
            Ok(StatusCode::NO_CONTENT)
        }
    }
}

async fn case_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<CaseDetail>> {
    caller.require(&[TokenRole::Reviewer, TokenRole::Custodian])?;
    let (case, headers) = visible_case(&state, &caller, &code).await?;
    let mailbox_public = if caller.role == TokenRole::Reviewer {
        state
            .store
            .mailbox_of(&case.id)
            .await?
            .map(|k| hex::encode(k.as_bytes()))
    } else {
        None
    };
    let items: Vec<ItemMeta> = headers
        .iter()
        .filter(|h| item_visible_in(h, &headers, &caller))
        .map(item_meta)
        .collect();
    audit(
        &state,
        &caller,
        "case.view",
        Some(case.code.as_str()),
        format!("{} items", items.len()),
    )
    .await?;
    Ok(Json(CaseDetail {
        case: case_view(&case, &headers, &caller, unix_now()),
        mailbox_public,
        items,
    }))
}

#[derive(Debug, Deserialize)]
struct ItemsQuery {
    kind: Option<String>,
}

async fn case_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> ApiResult<Json<ItemsView>> {
    caller.require(&[TokenRole::Reviewer, TokenRole::Custodian])?;
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(
            ItemKind::parse(k).ok_or_else(|| ApiError::BadRequest("unknown item kind".into()))?,
        ),
    };
    let (case, headers) = visible_case(&state, &caller, &code).await?;
    let mut items = Vec::new();
    let mut reporter_input = false;
    let signatures = state.store.item_signatures(&case.id).await?;
    for h in headers
        .iter()
        .filter(|h| item_visible_in(h, &headers, &caller))
    {
        if kind.is_some_and(|k| k != h.kind) {
            continue;
        }
        let full = state.store.item(h.id).await?;
        reporter_input |= h.kind == ItemKind::FromReporter;
        let signed = signatures.get(&h.id);
        items.push(ItemView {
            meta: item_meta(h),
            blob: hex::encode(&full.item.blob),
            signature: signed.map(|(_, sig)| hex::encode(sig)),
            seq: signed.map(|(seq, _)| *seq),
        });
    }
    if reporter_input && caller.role == TokenRole::Reviewer && case.unread_from_reporter {
        state.store.mark_read(&case.id).await?;
    }
    audit(
        &state,
        &caller,
        "items.fetch",
        Some(case.code.as_str()),
        format!("{} items", items.len()),
    )
    .await?;
    Ok(Json(ItemsView { items }))
}

fn key_set(keys: &[PublicKey]) -> BTreeSet<KeyId> {
    keys.iter().map(PublicKey::key_id).collect()
}

async fn upload_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<UploadItem>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(&[TokenRole::Reviewer, TokenRole::Custodian])?;
    let key = caller.key_id()?;
    let kind = ItemKind::parse(&body.kind)
        .ok_or_else(|| ApiError::BadRequest("unknown item kind".into()))?;
    let allowed: &[ItemKind] = match caller.role {
        TokenRole::Reviewer => &[ItemKind::ToReporter, ItemKind::Note],
        _ => &[ItemKind::DisclosedIdentity, ItemKind::IdentityShare],
    };
    if !allowed.contains(&kind) {
        return Err(ApiError::Forbidden);
    }
    let (case, headers) = visible_case(&state, &caller, &code).await?;
    let blob = hex::decode(body.blob.trim())
        .map_err(|_| ApiError::BadRequest("blob is not hex".into()))?;
    let parsed = envelope::parse(&blob)
        .map_err(|_| ApiError::BadRequest("blob is not an envelope".into()))?;
    if parsed.kind != kind || parsed.case_id != case.id {
        return Err(ApiError::Invalid(
            "the envelope is sealed for another kind or case".into(),
        ));
    }
    let recipients: BTreeSet<KeyId> = parsed.recipients.iter().copied().collect();
    let ring = state.store.keyring().await?;
    if kind == ItemKind::IdentityShare {
        return upload_share(&state, &key, &case, &headers, body, blob, recipients).await;
    }
    if kind == ItemKind::DisclosedIdentity {
        let request_id = body
            .request_id
            .ok_or_else(|| ApiError::BadRequest("request_id is required".into()))?;
        let request = state.store.disclosure_request(request_id).await?;
        if request.case_id != case.id {
            return Err(ApiError::NotFound);
        }
        if recipients != BTreeSet::from([request.requester]) {
            return Err(ApiError::Invalid(
                "a disclosed identity must be sealed to the requesting reviewer's key only".into(),
            ));
        }
        // Signed by the custodian who re-sealed it: the reviewer's client shows only an
        // identity a custodian of the signed keyring vouches for.
        let signature = signature_of(body.signature.as_deref(), "a disclosed identity")?;
        let proof = proof_of(
            &state,
            &key,
            crate::trust::ITEM_CONTEXT,
            crate::trust::item_message(kind, &case.id, request_id, &blob),
            signature,
        )
        .await?;
        let item = NewItem {
            kind,
            blob,
            author: Some(key),
            for_key: Some(request.requester),
        };
        let id = state
            .store
            .fulfil_disclosure(request_id, &case.id, &item, &key, Some(&proof))
            .await?;
        return Ok((StatusCode::CREATED, Json(Created { id })));
    }
    if case.status == crate::store::CaseStatus::Closed {
        return Err(ApiError::Invalid("the case is closed".into()));
    }
    let mut expected = key_set(&ring.reviewers);
    if kind == ItemKind::ToReporter {
        let mailbox = state
            .store
            .mailbox_of(&case.id)
            .await?
            .ok_or_else(|| ApiError::Invalid("the reporter's mailbox is gone".into()))?;
        expected.insert(mailbox.key_id());
    }
    if recipients != expected {
        return Err(ApiError::Invalid(
            "the envelope must be sealed to exactly the active reviewers (and, for replies, the reporter's mailbox); fetch /keyring and seal again".into(),
        ));
    }
    // A reply to the reporter carries its author's signature; the bot checks it against the
    // signed keyring before showing it (the server only insists that there is one). A note is
    // signed too: the client that shows it checks it.
    let (seq, proof) = if kind == ItemKind::ToReporter {
        let seq = body.seq.filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::Invalid("a reply to the reporter must carry its number (seq)".into())
        })?;
        let signature = signature_of(body.signature.as_deref(), "a reply to the reporter")?;
        let mailbox = state
            .store
            .mailbox_of(&case.id)
            .await?
            .ok_or_else(|| ApiError::Invalid("the reporter's mailbox is gone".into()))?;
        let message = crate::trust::reply_message(&case.id, seq, &mailbox, &blob);
        let proof = proof_of(
            &state,
            &key,
            crate::trust::REPLY_CONTEXT,
            message,
            signature,
        );
        (seq, proof.await?)
    } else {
        let signature = signature_of(body.signature.as_deref(), "a note")?;
        let message = crate::trust::item_message(kind, &case.id, 0, &blob);
        let proof = proof_of(&state, &key, crate::trust::ITEM_CONTEXT, message, signature);
        (0, proof.await?)
    };
    let item = NewItem {
        kind,
        blob,
        author: Some(key),
        for_key: None,
    };
    let id = state
        .store
        .add_item_signed(&case.id, &item, &caller.actor(), Some((seq, &proof)))
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A custodian's shares of a case's threshold-sealed identity and originals, re-sealed to the
/// requester of a disclosure that custodian approved (signed like a disclosed identity).
async fn upload_share(
    state: &ApiState,
    key: &KeyId,
    case: &CaseRow,
    headers: &[ItemHeader],
    body: UploadItem,
    blob: Vec<u8>,
    recipients: BTreeSet<KeyId>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let kind = ItemKind::IdentityShare;
    let request_id = body
        .request_id
        .ok_or_else(|| ApiError::BadRequest("request_id is required".into()))?;
    let request = state.store.disclosure_request(request_id).await?;
    if request.case_id != case.id {
        return Err(ApiError::NotFound);
    }
    if recipients != BTreeSet::from([request.requester]) {
        return Err(ApiError::Invalid(
            "a share must be sealed to the requesting reviewer's key only".into(),
        ));
    }
    let signature = signature_of(body.signature.as_deref(), "an identity share")?;
    let proof = proof_of(
        state,
        key,
        crate::trust::ITEM_CONTEXT,
        crate::trust::item_message(kind, &case.id, request_id, &blob),
        signature,
    )
    .await?;
    // As many shares as the identity needs, and never fewer than the approvals.
    let mut needed = state.approvals_needed().await?;
    if let Some(h) = headers.iter().find(|h| h.kind == ItemKind::Identity) {
        let identity = state.store.item(h.id).await?;
        if let Some(k) = crate::crypto::threshold::threshold_of(&identity.item.blob) {
            needed = needed.max(i64::from(k));
        }
    }
    let item = NewItem {
        kind,
        blob,
        author: Some(*key),
        for_key: Some(request.requester),
    };
    let (id, _) = state
        .store
        .add_identity_share(request_id, &case.id, &item, key, Some(&proof), needed)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

async fn change_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<StatusChange>,
) -> ApiResult<Json<CaseView>> {
    caller.require(&[TokenRole::Reviewer])?;
    let key = caller.key_id()?;
    let (case, headers) = visible_case(&state, &caller, &code).await?;
    let now = unix_now();
    let case = match state
        .store
        .set_status(&case.id, &key, body.status, body.outcome, now)
        .await
    {
        Err(StoreError::Conflict) => {
            return Err(ApiError::Conflict(
                "another reviewer holds this case".into(),
            ));
        }
        other => other?,
    };
    Ok(Json(case_view(&case, &headers, &caller, now)))
}

async fn request_disclosure(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<DisclosureAsk>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(&[TokenRole::Reviewer])?;
    let key = caller.key_id()?;
    let reason = body.reason.trim();
    check_reason(reason)?;
    let (case, headers) = visible_case(&state, &caller, &code).await?;
    if !headers.iter().any(|h| h.kind == ItemKind::Identity) {
        return Err(ApiError::Invalid(
            "this case has no identity to disclose".into(),
        ));
    }
    // Signed by the requesting reviewer (custodians verify it against the signed keyring).
    let signature = signature_of(body.signature.as_deref(), "a disclosure request")?;
    let own = state.store.recipient(&key).await?.public_key;
    let proof = proof_of(
        &state,
        &key,
        crate::trust::REQUEST_CONTEXT,
        crate::trust::request_message(&case.id, &own, reason),
        signature,
    )
    .await?;
    let id = match state
        .store
        .request_disclosure(&case.id, &key, reason, Some(&proof))
        .await
    {
        Err(StoreError::AlreadyExists) => {
            return Err(ApiError::Conflict(
                "you have an open request for this case already".into(),
            ));
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize)]
struct DisclosureQuery {
    status: Option<String>,
    before: Option<i64>,
    limit: Option<usize>,
}

/// Requests on one page of `GET /disclosures`, at most (default 100).
const DISCLOSURE_PAGE_MAX: usize = 500;

async fn disclosure_view(
    state: &ApiState,
    r: DisclosureRequest,
    approvals_required: i64,
) -> ApiResult<DisclosureView> {
    let requester_public = match state.store.recipient(&r.requester).await {
        Ok(rec) if rec.active && rec.role == RecipientRole::Reviewer => {
            Some(hex::encode(rec.public_key.as_bytes()))
        }
        Ok(_) | Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(DisclosureView {
        id: r.id,
        case: r.case_code.as_str().to_owned(),
        case_id: hex_id(&r.case_id),
        requester: r.requester,
        requester_public,
        reason: r.reason,
        status: r.status,
        created: r.created_day.to_string(),
        decided: r.decided_day.map(|d| d.to_string()),
        decisions: r
            .decisions
            .into_iter()
            .map(|d| DecisionView {
                custodian: d.custodian,
                approve: d.approve,
                reason: d.reason,
                day: d.day.to_string(),
                signature: d.signature.map(hex::encode),
            })
            .collect(),
        approvals_required,
        request_signature: r.signature.map(hex::encode),
    })
}

async fn list_disclosures(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DisclosureQuery>,
) -> ApiResult<Json<DisclosureList>> {
    caller.require(&[TokenRole::Reviewer, TokenRole::Custodian])?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(crate::store::DisclosureStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest("status is one of pending, approved, denied, fulfilled".into())
        })?),
    };
    // Reviewers see their own requests; custodians all of them.
    let own = if caller.role == TokenRole::Reviewer {
        caller.key
    } else {
        None
    };
    let limit = q.limit.unwrap_or(100).clamp(1, DISCLOSURE_PAGE_MAX);
    let mut requests = Vec::new();
    let needed = state
        .approvals_needed()
        .await
        .unwrap_or(state.approvals_required);
    let page = state
        .store
        .disclosure_page(own.as_ref(), status, q.before, limit as i64)
        .await?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|r| r.id))
        .flatten();
    for r in page {
        requests.push(disclosure_view(&state, r, needed).await?);
    }
    audit(
        &state,
        &caller,
        "disclosures.list",
        None,
        format!("{} requests", requests.len()),
    )
    .await?;
    Ok(Json(DisclosureList { requests, next }))
}

async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<DecisionBody>,
) -> ApiResult<Json<DisclosureView>> {
    caller.require(&[TokenRole::Custodian])?;
    let key = caller.key_id()?;
    let reason = body.reason.trim();
    check_reason(reason)?;
    // An approval carries the custodian's signature (the custodian who re-seals the identity
    // verifies it against the signed keyring; here only its presence is required).
    let proof = if body.approve {
        let signature = signature_of(body.signature.as_deref(), "an approval")?;
        let request = state.store.disclosure_request(id).await?;
        let requester = state.store.recipient(&request.requester).await?.public_key;
        Some(
            proof_of(
                &state,
                &key,
                crate::trust::APPROVAL_CONTEXT,
                crate::trust::approval_message(id, &request.case_id, &requester, &request.reason),
                signature,
            )
            .await?,
        )
    } else {
        None
    };
    match state
        .store
        .decide_disclosure(
            id,
            &key,
            body.approve,
            reason,
            state.approvals_needed().await?,
            proof.as_ref(),
        )
        .await
    {
        Err(StoreError::AlreadyExists) => {
            return Err(ApiError::Conflict(
                "you decided this request already".into(),
            ));
        }
        other => other?,
    };
    let r = state.store.disclosure_request(id).await?;
    let needed = state.approvals_needed().await?;
    Ok(Json(disclosure_view(&state, r, needed).await?))
}

/// A signature as the API carries it (hex, 64 bytes), or `Invalid` saying `what` must be signed.
fn signature_of(hex_sig: Option<&str>, what: &str) -> ApiResult<[u8; 64]> {
    hex_sig
        .and_then(|s| hex::decode(s.trim()).ok())
        .and_then(|s| <[u8; 64]>::try_from(s).ok())
        .ok_or_else(|| ApiError::Invalid(format!("{what} must be signed (signature)")))
}

/// The audit proof of an act `key` signed: the message as the server can rebuild it from what
/// it stores. (The server checks no signature: the clients and `admin audit verify` do,
/// against the signed keyring, and a proof that does not verify shows there.)
async fn proof_of(
    state: &ApiState,
    key: &KeyId,
    context: &str,
    message: Vec<u8>,
    signature: [u8; 64],
) -> ApiResult<AuditProof> {
    let signer = state.store.recipient(key).await?;
    Ok(AuditProof::by_key(
        context,
        message,
        *signer.public_key.as_bytes(),
        signature,
    ))
}

/// A reason is 1 to 2,000 characters of staff text, or (from current clients) a sealed
/// envelope the server cannot read ([`crate::review::client::SEALED_REASON`]).
fn check_reason(reason: &str) -> ApiResult<()> {
    let sealed = reason.starts_with(crate::review::client::SEALED_REASON);
    let limit = if sealed { 100_000 } else { 2000 };
    if reason.is_empty() || reason.chars().count() > limit {
        return Err(ApiError::BadRequest(
            "a reason of 1 to 2000 characters is required".into(),
        ));
    }
    Ok(())
}

fn role_kinds(role: TokenRole) -> &'static [ItemKind] {
    match role {
        TokenRole::Reviewer => &[
            ItemKind::Summary,
            ItemKind::Attachment,
            ItemKind::ToReporter,
            ItemKind::FromReporter,
            ItemKind::Note,
        ],
        TokenRole::Custodian => &CUSTODIAN_KINDS,
        TokenRole::Admin => &[],
    }
}

/// The keys an item of `kind` in `case` must be wrapped to now.
async fn target_keys(
    state: &ApiState,
    case_id: &CaseId,
    kind: ItemKind,
) -> ApiResult<Vec<PublicKey>> {
    let ring = state.store.keyring().await?;
    let mut keys = if CUSTODIAN_KINDS.contains(&kind) {
        ring.custodians
    } else {
        ring.reviewers
    };
    if kind == ItemKind::ToReporter
        && let Some(m) = state.store.mailbox_of(case_id).await?
    {
        keys.push(m);
    }
    Ok(keys)
}

/// The key a reviewer's disclosed identities move to when the reviewer's key rotates: the
/// one other active reviewer key registered under the same name (the authority signed both
/// names; the client checks that against the signed keyring before sealing).
async fn successor_of(state: &ApiState, key: &KeyId) -> ApiResult<Option<PublicKey>> {
    let own = match state.store.recipient(key).await {
        Ok(r) if r.role == RecipientRole::Reviewer => r,
        Ok(_) | Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let others: Vec<PublicKey> = state
        .store
        .recipients()
        .await?
        .into_iter()
        .filter(|r| {
            r.active
                && r.role == RecipientRole::Reviewer
                && r.name == own.name
                && r.public_key.key_id() != *key
        })
        .map(|r| r.public_key)
        .collect();
    Ok(match others[..] {
        [one] => Some(one),
        _ => None,
    })
}

/// `GET /rewrap?after=CODE&limit=N`: a page of the plan, case by case in code order.
#[derive(Debug, Deserialize)]
struct RewrapQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// Items on one page of the rewrap plan, at most (default 100).
const REWRAP_PAGE_MAX: usize = 500;
/// Envelope bytes on one page, at most (one item more if a single item is larger): evidence
/// originals are tens of megabytes, and a page is held in memory whole.
const REWRAP_PAGE_BYTES: usize = 64 * 1024 * 1024;

async fn rewrap_plan(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RewrapQuery>,
) -> ApiResult<Json<RewrapPlan>> {
    let limit = q.limit.unwrap_or(100).clamp(1, REWRAP_PAGE_MAX);
    caller.require(&[TokenRole::Reviewer, TokenRole::Custodian])?;
    let key = caller.key_id()?;
    let epoch = state.store.keyring().await?.epoch;
    // A reviewer whose key rotates moves the identities disclosed to it to its new key.
    let successor = if caller.role == TokenRole::Reviewer {
        successor_of(&state, &key).await?
    } else {
        None
    };
    let mut items = Vec::new();
    let mut not_openable = 0;
    let mut bytes = 0usize;
    let mut next = None;
    let mut cursor = rewrap_cursor(&state, q.after.as_deref()).await?;
    // Custodian items are split among k custodians; k changes only by signed statement.
    let threshold = if caller.role == TokenRole::Custodian {
        Some(state.threshold().await?)
    } else {
        None
    };
    let mut scanned = 0usize;
    'pages: loop {
        let cases = state
            .store
            .cases_after(cursor.as_ref(), REWRAP_SCAN_BATCH)
            .await?;
        if cases.is_empty() {
            break;
        }
        let ids: Vec<CaseId> = cases.iter().map(|c| c.id).collect();
        let mut headers = state.store.item_headers_of(&ids).await?;
        for case in &cases {
            // A page ends between cases, once it holds enough or has looked at enough cases.
            if items.len() >= limit || bytes >= REWRAP_PAGE_BYTES || scanned >= REWRAP_SCAN_MAX {
                next = cursor.as_ref().map(ToString::to_string);
                break 'pages;
            }
            scanned += 1;
            let case_headers = headers.remove(&case.id).unwrap_or_default();
            plan_case(
                &state,
                &caller,
                key,
                successor,
                threshold,
                case,
                case_headers,
                &mut items,
                &mut bytes,
                &mut not_openable,
            )
            .await?;
            cursor = Some(QueueCursor::after(case));
        }
    }
    audit(
        &state,
        &caller,
        "rewrap.plan",
        None,
        format!("{} items, {not_openable} not openable", items.len()),
    )
    .await?;
    Ok(Json(RewrapPlan {
        epoch,
        items,
        not_openable,
        next,
    }))
}

/// Cases read from the store at a time while building a rewrap page.
const REWRAP_SCAN_BATCH: i64 = 200;

/// Cases one rewrap page looks at, at most: a key that opens few of many cases gets short (or
/// empty) pages with a `next`, never one request that reads every case.
const REWRAP_SCAN_MAX: usize = 2_000;

/// Where a rewrap page starts: `after` is the `next` of the previous page (`DAY.CODE`), or,
/// from clients before 0.x, a bare case code.
async fn rewrap_cursor(state: &ApiState, after: Option<&str>) -> ApiResult<Option<QueueCursor>> {
    let Some(a) = after.filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    if let Some(c) = QueueCursor::parse(a) {
        return Ok(Some(c));
    }
    let code = CaseCode::parse(a)
        .ok_or_else(|| ApiError::BadRequest("after is the `next` of a previous page".into()))?;
    let case = state.store.case_by_code(&code).await?;
    Ok(Some(QueueCursor::after(&case)))
}

/// Adds what `case` needs rewrapped by the caller to the page.
#[allow(clippy::too_many_arguments)]
async fn plan_case(
    state: &ApiState,
    caller: &Caller,
    key: KeyId,
    successor: Option<PublicKey>,
    threshold: Option<u8>,
    case: &CaseRow,
    case_headers: Vec<ItemHeader>,
    items: &mut Vec<RewrapItem>,
    bytes: &mut usize,
    not_openable: &mut usize,
) -> ApiResult<()> {
    let kinds = role_kinds(caller.role);
    {
        for h in case_headers {
            let disclosed = h.kind == ItemKind::DisclosedIdentity && h.for_key == Some(key);
            if disclosed && let Some(next) = successor {
                let full = state.store.item(h.id).await?;
                items.push(RewrapItem {
                    id: h.id,
                    case: case.code.as_str().to_owned(),
                    case_id: hex_id(&case.id),
                    kind: h.kind.as_str().to_owned(),
                    version: full.version,
                    blob: hex::encode(&full.item.blob),
                    target: vec![hex::encode(next.as_bytes())],
                    threshold: None,
                    reshare: false,
                    dealers: Vec::new(),
                    parts_needed: None,
                });
                continue;
            }
            if !kinds.contains(&h.kind) {
                continue;
            }
            let target = target_keys(state, &case.id, h.kind).await?;
            let have: BTreeSet<KeyId> = h.recipients.iter().copied().collect();
            let same_keys = have == key_set(&target);
            if same_keys && threshold.is_none() {
                continue;
            }
            if !have.contains(&key) {
                if !same_keys {
                    *not_openable += 1;
                }
                continue;
            }
            let full = state.store.item(h.id).await?;
            *bytes += full.item.blob.len();
            let item_k = crate::crypto::threshold::threshold_of(&full.item.blob);
            if same_keys && item_k.unwrap_or(1) == threshold.unwrap_or(1) {
                continue;
            }
            let dealers = if item_k.is_some() {
                state
                    .store
                    .reshare_dealers(h.id, full.version)
                    .await?
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            } else {
                Vec::new()
            };
            items.push(RewrapItem {
                id: h.id,
                case: case.code.as_str().to_owned(),
                case_id: hex_id(&case.id),
                kind: h.kind.as_str().to_owned(),
                version: full.version,
                blob: hex::encode(&full.item.blob),
                target: target.iter().map(|k| hex::encode(k.as_bytes())).collect(),
                threshold,
                reshare: item_k.is_some(),
                dealers,
                parts_needed: item_k,
            });
        }
    }
    Ok(())
}

async fn rewrap_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<RewrapBody>,
) -> ApiResult<Json<RewrapDone>> {
    caller.require(&[TokenRole::Reviewer, TokenRole::Custodian])?;
    let key = caller.key_id()?;
    // Only an item the caller could open (and of the caller's kinds) may be re-addressed:
    // decided from the envelope's header before the item itself is loaded.
    let (kind, have) = state.store.item_access(id).await?;
    // A disclosed identity moves from the requester's key to its successor only.
    let disclosed = kind == ItemKind::DisclosedIdentity && caller.role == TokenRole::Reviewer;
    if !(role_kinds(caller.role).contains(&kind) || disclosed) || !have.contains(&key) {
        return Err(ApiError::NotFound);
    }
    let stored = state.store.item(id).await?;
    let header = hex::decode(body.header.trim())
        .map_err(|_| ApiError::BadRequest("header is not hex".into()))?;
    let blob = envelope::splice_header(&stored.item.blob, &header)
        .map_err(|_| ApiError::Invalid("the header does not belong to this item".into()))?;
    let (target, for_key) = if disclosed {
        if stored.item.for_key != Some(key) {
            return Err(ApiError::NotFound);
        }
        let next = successor_of(&state, &key).await?.ok_or_else(|| {
            ApiError::Invalid("no other active reviewer key under your name to move it to".into())
        })?;
        (vec![next], Some(next.key_id()))
    } else {
        (
            target_keys(&state, &stored.item.case_id, stored.item.kind).await?,
            None,
        )
    };
    let new: BTreeSet<KeyId> = envelope::recipients(&blob)
        .map_err(|_| ApiError::Invalid("the header does not parse".into()))?
        .into_iter()
        .collect();
    if new != key_set(&target) {
        return Err(ApiError::Invalid(
            "the new header must wrap to exactly the current keys; fetch /rewrap again".into(),
        ));
    }
    // Custodian items keep the signed threshold: a header that any one custodian opens alone
    // is refused once k > 1, and a threshold-sealed item moves only by re-share parts.
    if CUSTODIAN_KINDS.contains(&kind) {
        let k = state.threshold().await?;
        let was = crate::crypto::threshold::threshold_of(&stored.item.blob);
        let now = crate::crypto::threshold::threshold_of(&blob).unwrap_or(1);
        if was.is_some() || now != k {
            return Err(ApiError::Invalid(format!(
                "custodian items must be split among k = {k} custodians (a threshold-sealed item moves by re-share parts); fetch /rewrap again"
            )));
        }
    }
    if body.version != stored.version {
        return Err(ApiError::Conflict(
            "the item changed since it was fetched".into(),
        ));
    }
    let version = match state
        .store
        .swap_item_blob(id, body.version, &blob, &caller.actor(), for_key.as_ref())
        .await
    {
        Err(StoreError::Conflict) => {
            return Err(ApiError::Conflict(
                "the item changed since it was fetched".into(),
            ));
        }
        other => other?,
    };
    Ok(Json(RewrapDone { version }))
}

/// One custodian's re-share part for a threshold-sealed item: stored, and once parts of as
/// many distinct custodians as the item's threshold are in, assembled into the item's new
/// header (no secret needed) and swapped in.
async fn reshare_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ReshareBody>,
) -> ApiResult<Json<ReshareDone>> {
    use crate::crypto::threshold;
    caller.require(&[TokenRole::Custodian])?;
    let key = caller.key_id()?;
    let (kind, have) = state.store.item_access(id).await?;
    let Some(position) = have.iter().position(|k| *k == key) else {
        return Err(ApiError::NotFound);
    };
    if !CUSTODIAN_KINDS.contains(&kind) {
        return Err(ApiError::NotFound);
    }
    let stored = state.store.item(id).await?;
    let needed = threshold::threshold_of(&stored.item.blob).ok_or_else(|| {
        ApiError::Invalid("the item is not threshold-sealed; it moves by a new header".into())
    })?;
    let part = hex::decode(body.part.trim())
        .map_err(|_| ApiError::BadRequest("part is not hex".into()))?;
    let parsed = threshold::parse_part(&part)
        .map_err(|_| ApiError::BadRequest("part is not a re-share part".into()))?;
    let target = target_keys(&state, &stored.item.case_id, kind).await?;
    let k = state.threshold().await?;
    // The dealer point is the caller's own place in the item's header: a custodian gives only
    // its own part.
    if parsed.kind != kind
        || parsed.case_id != stored.item.case_id
        || usize::from(parsed.dealer) != position + 1
    {
        return Err(ApiError::Invalid(
            "the part does not belong to this item".into(),
        ));
    }
    if parsed.k != k
        || parsed.recipients.iter().copied().collect::<BTreeSet<_>>() != key_set(&target)
    {
        return Err(ApiError::Invalid(format!(
            "the part must split for exactly the current custodians with k = {k}; fetch /rewrap again"
        )));
    }
    if body.version != stored.version {
        return Err(ApiError::Conflict(
            "the item changed since it was fetched".into(),
        ));
    }
    let parts = match state
        .store
        .add_reshare_part(id, body.version, &key, &part)
        .await
    {
        Err(StoreError::Conflict) => {
            return Err(ApiError::Conflict(
                "the item changed since it was fetched".into(),
            ));
        }
        other => other?,
    };
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let header = match threshold::assemble(&stored.item.blob, &refs) {
        Ok(h) => h,
        Err(crate::crypto::CryptoError::NeedsShares) => {
            return Ok(Json(ReshareDone {
                parts: parts.len(),
                needed: usize::from(needed),
                version: None,
            }));
        }
        Err(_) => {
            return Err(ApiError::Invalid(
                "the parts held for this item do not fit together; fetch /rewrap again".into(),
            ));
        }
    };
    let blob = envelope::splice_header(&stored.item.blob, &header)
        .map_err(|_| ApiError::Invalid("the assembled header does not fit the item".into()))?;
    let version = match state
        .store
        .swap_item_blob(id, body.version, &blob, &caller.actor(), None)
        .await
    {
        Err(StoreError::Conflict) => {
            return Err(ApiError::Conflict(
                "the item changed since it was fetched".into(),
            ));
        }
        other => other?,
    };
    Ok(Json(ReshareDone {
        parts: parts.len(),
        needed: usize::from(needed),
        version: Some(version),
    }))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    from: Option<i64>,
    limit: Option<i64>,
}

async fn audit_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditList>> {
    // Every role reads the log: the review clients check on every command that it extends
    // the one they saw (crate::trust::audit).
    caller.require(&[TokenRole::Admin, TokenRole::Reviewer, TokenRole::Custodian])?;
    let total = state.store.audit_count().await?;
    let entries = state
        .store
        .audit_entries(q.from.unwrap_or(1), q.limit.unwrap_or(200).clamp(1, 5000))
        .await?
        .into_iter()
        .map(|r| AuditView {
            seq: r.seq,
            day: r.entry.day.to_string(),
            day_number: r.entry.day.0,
            actor: r.entry.actor,
            action: r.entry.action,
            case: r.entry.case_code,
            detail: r.entry.detail,
            prev_hash: hex::encode(&r.prev_hash),
            hash: hex::encode(&r.hash),
            proof: r.entry.proof.map(hex::encode),
        })
        .collect::<Vec<_>>();
    audit(
        &state,
        &caller,
        "audit.read",
        None,
        format!("{} entries", entries.len()),
    )
    .await?;
    Ok(Json(AuditList { entries, total }))
}

async fn audit_verify(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AuditVerify>> {
    caller.require(&[TokenRole::Admin])?;
    let v = match state.store.audit_verify().await? {
        Ok((n, head)) => AuditVerify {
            ok: true,
            entries: n,
            head: Some(hex::encode(head)),
            broken_at: None,
        },
        Err(crate::store::AuditVerifyError::BrokenAt(seq)) => AuditVerify {
            ok: false,
            entries: seq - 1,
            head: None,
            broken_at: Some(seq),
        },
    };
    audit(
        &state,
        &caller,
        "audit.verify",
        None,
        if v.ok {
            "intact".into()
        } else {
            "broken".into()
        },
    )
    .await?;
    Ok(Json(v))
}

async fn token_list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TokenList>> {
    caller.require(&[TokenRole::Admin])?;
    let tokens: Vec<TokenView> = state
        .store
        .tokens()
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            role: t.role,
            key_id: t.key_id,
            issued: t.issued_day.to_string(),
            expires_at: t.expires_at,
            revoked: t.revoked,
        })
        .collect();
    audit(
        &state,
        &caller,
        "tokens.list",
        None,
        format!("{} tokens", tokens.len()),
    )
    .await?;
    Ok(Json(TokenList { tokens }))
}

async fn token_revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(&[TokenRole::Admin])?;
    state.store.revoke_token(&id, &caller.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Purges closed cases past retention and expired drafts; used by the API, the daily task in
/// `tipline serve` and `tipline admin purge`.
pub async fn run_purge(
    store: &Store,
    closed_case_days: i64,
    actor: &str,
) -> Result<PurgeResult, StoreError> {
    let cutoff = Day::today().plus(-closed_case_days);
    // Earlier days' intake is audited before anything of it can be purged.
    store.audit_intake(Day::today()).await?;
    let cases = store.purge_closed_cases(cutoff, actor).await?;
    let drafts = store.purge_expired_drafts(unix_now()).await?;
    store.purge_rate_limits(unix_now() - 2 * 86_400).await?;
    if drafts > 0 {
        store
            .audit(AuditEntry::new(actor, "drafts.purge").detail(format!("{drafts} drafts")))
            .await?;
    }
    Ok(PurgeResult {
        cases: cases.iter().map(|c| c.as_str().to_owned()).collect(),
        drafts,
    })
}

async fn purge(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PurgeResult>> {
    caller.require(&[TokenRole::Admin])?;
    let r = run_purge(&state.store, state.closed_case_days, &caller.actor()).await?;
    Ok(Json(r))
}
