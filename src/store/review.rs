//! What the review API needs from storage: bearer tokens (hashes only), the queue with leases,
//! status transitions, item headers and header swaps (rewrap), identity-disclosure requests
//! and decisions, and retention purges with tombstones.
//!
//! Invariants: every change is one transaction with its audit entry; no token, reason text or
//! item content is ever written to the audit log (only ids, kinds, statuses and counts);
//! claiming the next case is one atomic statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a
//! single `UPDATE … WHERE id = (SELECT …)` inside `BEGIN IMMEDIATE` on SQLite), so two
//! reviewers never hold the same case.

use super::audit::append_audit;
use super::cases::case_from;
use super::cases::insert_item;
use super::keys::refresh_case_keys;
use super::{
    AuditEntry, AuditProof, Backend, CaseRow, CaseStatus, NewItem, Outcome, PoolExt, Store,
};
use super::{StoreError, dispatch};
use crate::clock::Day;
use crate::crypto::receipt::LookupId;
use crate::crypto::{ItemKind, KeyId, PublicKey};
use crate::ids::{CaseCode, CaseId};

/// What a bearer token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(clap::ValueEnum)]
pub enum TokenRole {
    /// Reads and works on cases with a reviewer key.
    Reviewer,
    /// Decides disclosure requests and re-seals identities with a custodian key.
    Custodian,
    /// Audit log, tokens and purges; no case content.
    Admin,
}

impl TokenRole {
    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Custodian => "custodian",
            Self::Admin => "admin",
        }
    }

    /// Parses [`TokenRole::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Reviewer, Self::Custodian, Self::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for TokenRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Public id for listing and revoking.
    pub id: String,
    /// SHA-256 of the token text.
    pub hash: Vec<u8>,
    /// The recipient key the holder decrypts with (`None` for admin tokens).
    pub key_id: Option<KeyId>,
    /// What it allows.
    pub role: TokenRole,
    /// Day issued.
    pub issued_day: Day,
    /// Unix seconds after which it no longer works.
    pub expires_at: i64,
    /// Revoked by an administrator.
    pub revoked: bool,
}

type TokenTuple = (String, Vec<u8>, String, String, i64, i64, bool);

fn token_from(t: TokenTuple) -> Result<TokenRow, StoreError> {
    let (id, hash, key_id, role, issued, expires_at, revoked) = t;
    Ok(TokenRow {
        id,
        hash,
        key_id: if key_id.is_empty() {
            None
        } else {
            Some(KeyId::parse(&key_id).ok_or(StoreError::Malformed("token key id"))?)
        },
        role: TokenRole::parse(&role).ok_or(StoreError::Malformed("token role"))?,
        issued_day: Day(issued),
        expires_at,
        revoked,
    })
}

/// An item without its payload: enough to decide who may see it.
#[derive(Debug, Clone)]
pub struct ItemHeader {
    /// Item id.
    pub id: i64,
    /// What it is.
    pub kind: ItemKind,
    /// The envelope's recipients (parsed from its header; empty if unparsable).
    pub recipients: Vec<KeyId>,
    /// For disclosed identities: the reviewer key it is for.
    pub for_key: Option<KeyId>,
    /// Uploading staff key.
    pub author: Option<KeyId>,
    /// Day stored.
    pub created_day: Day,
    /// Envelope size in bytes.
    pub size: i64,
    /// Keyring epoch it was sealed or last rewrapped under.
    pub epoch: i64,
    /// Swap version (increases with each rewrap).
    pub version: i64,
}

/// A stored item with its swap version.
#[derive(Debug, Clone)]
pub struct VersionedItem {
    /// The item.
    pub item: super::ItemRow,
    /// Swap version.
    pub version: i64,
}

/// Enough of the envelope's start to hold any header (64 recipients × 88 bytes + 87) and the
/// minimum nonce and ciphertext that [`crate::crypto::envelope::parse`] insists on.
/// (The SQL spells the number out: PostgreSQL has no `substr(bytea, int, bigint)`.)
const _HEADER_PREFIX: i64 = 8192;

fn recipients_of_prefix(prefix: &[u8]) -> Vec<KeyId> {
    crate::crypto::envelope::recipients(prefix).unwrap_or_default()
}

/// Where a disclosure request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureStatus {
    /// Waiting for custodians.
    Pending,
    /// Enough custodians approved; waiting for one to re-seal the identity.
    Approved,
    /// A custodian denied it.
    Denied,
    /// The identity was re-sealed to the requester.
    Fulfilled,
}

impl DisclosureStatus {
    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Fulfilled => "fulfilled",
        }
    }

    /// Parses [`DisclosureStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Denied, Self::Fulfilled]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// One custodian's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureDecision {
    /// The custodian key.
    pub custodian: KeyId,
    /// Approve or deny.
    pub approve: bool,
    /// Why (staff text).
    pub reason: String,
    /// The day decided.
    pub day: Day,
    /// The custodian's signature of an approval ([`crate::trust::approval_message`]).
    pub signature: Option<Vec<u8>>,
}

/// A request by a reviewer to see a reporter's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRequest {
    /// Request id.
    pub id: i64,
    /// The case.
    pub case_id: CaseId,
    /// Its public code.
    pub case_code: CaseCode,
    /// The requesting reviewer key.
    pub requester: KeyId,
    /// Why (staff text).
    pub reason: String,
    /// Where it stands.
    pub status: DisclosureStatus,
    /// Day requested.
    pub created_day: Day,
    /// Day approved or denied.
    pub decided_day: Option<Day>,
    /// Decisions so far.
    pub decisions: Vec<DisclosureDecision>,
    /// The requester's signature ([`crate::trust::request_message`]).
    pub signature: Option<Vec<u8>>,
}

/// Filters for [`Store::queue`] and [`Store::queue_page`].
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only this status.
    pub status: Option<CaseStatus>,
    /// Only cases with (true) or without (false) unread reporter input.
    pub unread: Option<bool>,
    /// Only cases whose lease is held by this key.
    pub claimed_by: Option<KeyId>,
}

/// A place in queue order (day received, then code): a page continues after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCursor {
    /// The case's day received.
    pub created_day: i64,
    /// The case's code.
    pub code: String,
}

impl QueueCursor {
    /// The cursor just after `case`.
    pub fn after(case: &CaseRow) -> Self {
        Self {
            created_day: case.created_day.0,
            code: case.code.as_str().to_owned(),
        }
    }

    /// Parses [`QueueCursor::to_string`]'s `DAY.CODE`.
    pub fn parse(s: &str) -> Option<Self> {
        let (day, code) = s.split_once('.')?;
        let code = CaseCode::parse(code)?;
        Some(Self {
            created_day: day.parse().ok()?,
            code: code.as_str().to_owned(),
        })
    }
}

impl std::fmt::Display for QueueCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.created_day, self.code)
    }
}

/// Whose cases [`Store::queue_page`] lists: those with an item of `class`'s kinds sealed to
/// `key` (by the `case_keys` index; the caller checks each against its items).
#[derive(Debug, Clone, Copy)]
pub struct QueueViewer {
    /// The caller's key.
    pub key: KeyId,
    /// The caller's role (reviewer or custodian).
    pub class: TokenRole,
}

/// A value bound to a query built at run time.
enum Bound {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// The `FROM … WHERE …` of a queue listing, its values, and the columns to order by.
struct QueueSql {
    from_where: String,
    binds: Vec<Bound>,
    order: (&'static str, &'static str),
}

const CASE_COLUMNS_OF_C: &str = "c.id, c.code, c.status, c.outcome, c.category, c.created_day, \
                                 c.updated_day, c.closed_day, c.claimed_by, c.lease_until, \
                                 c.unread_from_reporter";

/// Builds the listing for `viewer` and `filter`, driven by the index that holds the fewest
/// rows to read: the caller's held cases, the unread ones, or the key's own rows of
/// `case_keys` (by status when filtered by it). SQLite, which keeps no statistics here, is told
/// which index to use; PostgreSQL's planner chooses from its statistics.
fn queue_sql(viewer: &QueueViewer, filter: &QueueFilter, now: i64, sqlite: bool) -> QueueSql {
    let mut binds = vec![
        Bound::Text(viewer.key.to_string()),
        Bound::Text(viewer.class.as_str().to_owned()),
    ];
    let mut conds = Vec::new();
    let bind = |b: Bound, binds: &mut Vec<Bound>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let indexed = |name: &str| {
        if sqlite {
            format!(" INDEXED BY {name}")
        } else {
            String::new()
        }
    };
    let from_cases = filter.claimed_by.is_some() || filter.unread == Some(true);
    let (from, order) = if from_cases {
        conds.push(
            "EXISTS (SELECT 1 FROM case_keys k WHERE k.case_id = c.id \
             AND k.key_id = $1 AND k.class = $2)"
                .to_owned(),
        );
        let index = if filter.claimed_by.is_some() {
            "cases_claimed"
        } else {
            "cases_unread_in_order"
        };
        (
            format!("cases c{}", indexed(index)),
            ("c.created_day", "c.code"),
        )
    } else {
        conds.push("k.key_id = $1 AND k.class = $2".to_owned());
        let by_status = if filter.status.is_some() {
            indexed("case_keys_by_status")
        } else {
            String::new()
        };
        (
            format!("case_keys k{by_status} JOIN cases c ON c.id = k.case_id"),
            ("k.created_day", "k.code"),
        )
    };
    if let Some(key) = &filter.claimed_by {
        let k = bind(Bound::Text(key.to_string()), &mut binds);
        let t = bind(Bound::Int(now), &mut binds);
        conds.push(format!("c.claimed_by = {k} AND c.lease_until > {t}"));
    }
    match filter.unread {
        // Written out, not bound: a partial index over unread cases serves only a query
        // whose condition is its own.
        Some(true) if sqlite => conds.push("c.unread_from_reporter = 1".to_owned()),
        Some(true) => conds.push("c.unread_from_reporter".to_owned()),
        Some(false) => {
            let u = bind(Bound::Bool(false), &mut binds);
            conds.push(format!("c.unread_from_reporter = {u}"));
        }
        None => {}
    }
    if let Some(st) = filter.status {
        let v = bind(Bound::Text(st.as_str().to_owned()), &mut binds);
        let col = if from_cases { "c.status" } else { "k.status" };
        conds.push(format!("{col} = {v}"));
    }
    QueueSql {
        from_where: format!("FROM {from} WHERE {}", conds.join(" AND ")),
        binds,
        order,
    }
}

/// Binds `binds` to `q` in order.
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bound::Text(t) => q.bind(t.clone()),
                Bound::Int(i) => q.bind(*i),
                Bound::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}

const CASE_COLUMNS: &str = "id, code, status, outcome, category, created_day, updated_day, closed_day, \
                            claimed_by, lease_until, unread_from_reporter";

type CaseTuple = (
    Vec<u8>,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    bool,
);

/// Which status changes a reviewer may make.
pub fn transition_allowed(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        (from, to),
        (New, InReview)
            | (InReview, AwaitingReporter)
            | (AwaitingReporter, InReview)
            | (InReview, Closed)
            | (AwaitingReporter, Closed)
    )
}

/// Locks one disclosure request's row for the rest of the transaction (PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` holds every writer off already).
macro_rules! lock_request {
    ($pool:expr, $tx:expr, $id:expr) => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM disclosure_requests WHERE id = $1{}",
            $crate::store::PoolExt::dialect($pool).for_update
        )))
        .bind($id)
        .fetch_optional(&mut *$tx)
        .await?
    };
}

impl Store {
    // ---- tokens -------------------------------------------------------------------------

    /// Stores a token's hash; audits the issue (id, role and key, never the token).
    pub async fn insert_token(&self, row: &TokenRow, actor: &str) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO review_tokens (id, token_hash, key_id, role, issued_day, expires_at, revoked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&row.id)
            .bind(&row.hash[..])
            .bind(row.key_id.map(|k| k.to_string()).unwrap_or_default())
            .bind(row.role.as_str())
            .bind(row.issued_day.0)
            .bind(row.expires_at)
            .bind(false)
            .execute(&mut *tx)
            .await?;
            let entry = AuditEntry::new(actor, "token.issue").detail(format!(
                "{} {} {}",
                row.id,
                row.role,
                row.key_id.map(|k| k.to_string()).unwrap_or_else(|| "-".into())
            ));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The token with this hash, if any (revoked and expired ones included: the caller decides).
    pub async fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
        let row: Option<TokenTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT id, token_hash, key_id, role, issued_day, expires_at, revoked \
                 FROM review_tokens WHERE token_hash = $1",
            )
            .bind(hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(token_from).transpose()
    }

    /// All tokens, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows: Vec<TokenTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT id, token_hash, key_id, role, issued_day, expires_at, revoked \
                 FROM review_tokens ORDER BY issued_day DESC, id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(token_from).collect()
    }

    /// Revokes a token; audits.
    pub async fn revoke_token(&self, id: &str, actor: &str) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE review_tokens SET revoked = $1 WHERE id = $2")
                .bind(true)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let entry = AuditEntry::new(actor, "token.revoke").detail(id.to_owned());
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- queue, leases, status ---------------------------------------------------------

    /// Cases matching `filter`, oldest first (visibility is decided by the caller). The
    /// filter is applied by the database, so a filtered listing reads only the rows it returns.
    pub async fn queue(&self, filter: &QueueFilter) -> Result<Vec<CaseRow>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases \
             WHERE ($1 IS NULL OR status = $1) \
             AND ($2 IS NULL OR unread_from_reporter = $2) \
             AND ($3 IS NULL OR (claimed_by = $3 AND lease_until > $4)) \
             ORDER BY created_day, code"
        );
        let status = filter.status.map(|s| s.as_str().to_owned());
        let claimed_by = filter.claimed_by.as_ref().map(ToString::to_string);
        let now = crate::clock::unix_now();
        let rows: Vec<CaseTuple> = dispatch!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(status)
                .bind(filter.unread)
                .bind(claimed_by)
                .bind(now)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(case_from).collect()
    }

    /// Up to `limit` cases `viewer` may see, matching `filter`, in queue order (day received,
    /// then code) after `after` (or skipping `offset` cases): one range of an index, whatever
    /// the number of cases.
    pub async fn queue_page(
        &self,
        viewer: &QueueViewer,
        filter: &QueueFilter,
        after: Option<&QueueCursor>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let mut q = queue_sql(viewer, filter, crate::clock::unix_now(), self.is_sqlite());
        let (day, code) = q.order;
        let mut from_where = q.from_where;
        if let Some(a) = after {
            q.binds.push(Bound::Int(a.created_day));
            q.binds.push(Bound::Text(a.code.clone()));
            let n = q.binds.len();
            from_where.push_str(&format!(" AND ({day}, {code}) > (${}, ${n})", n - 1));
        }
        q.binds.push(Bound::Int(limit));
        q.binds.push(Bound::Int(offset));
        let n = q.binds.len();
        let sql = format!(
            "SELECT {CASE_COLUMNS_OF_C} {from_where} ORDER BY {day}, {code} LIMIT ${} OFFSET ${n}",
            n - 1
        );
        let rows: Vec<CaseTuple> = dispatch!(self, pool => {
            bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &q.binds)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(case_from).collect()
    }

    /// How many cases [`Store::queue_page`] would list over all pages, counting no further
    /// than `cap` (so that a count costs at most `cap` index entries).
    pub async fn queue_count(
        &self,
        viewer: &QueueViewer,
        filter: &QueueFilter,
        cap: i64,
    ) -> Result<i64, StoreError> {
        let mut q = queue_sql(viewer, filter, crate::clock::unix_now(), self.is_sqlite());
        q.binds.push(Bound::Int(cap));
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 {} LIMIT ${}) t",
            q.from_where,
            q.binds.len()
        );
        let n: i64 = dispatch!(self, pool => {
            bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), &q.binds)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// The query plan of [`Store::queue_page`]'s first page (for the tests that check it
    /// reads an index range, not every case).
    pub async fn explain_queue_page(
        &self,
        viewer: &QueueViewer,
        filter: &QueueFilter,
    ) -> Result<String, StoreError> {
        let q = queue_sql(viewer, filter, crate::clock::unix_now(), self.is_sqlite());
        let (day, code) = q.order;
        let body = format!(
            "SELECT {CASE_COLUMNS_OF_C} {} ORDER BY {day}, {code} LIMIT 50",
            q.from_where
        );
        let lines: Vec<String> = match &self.backend {
            super::Backend::Sqlite(pool) => {
                let rows: Vec<(i64, i64, i64, String)> = bind_all!(
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {body}"))),
                    &q.binds
                )
                .fetch_all(pool)
                .await?;
                rows.into_iter().map(|r| r.3).collect()
            }
            super::Backend::Postgres(pool) => {
                bind_all!(
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {body}"))),
                    &q.binds
                )
                .fetch_all(pool)
                .await?
            }
        };
        Ok(lines.join("\n"))
    }

    /// Cases in queue order after `after`, at most `limit`, whoever can open them (the rewrap
    /// plan walks them page by page).
    pub async fn cases_after(
        &self,
        after: Option<&QueueCursor>,
        limit: i64,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let (day, code) = after.map_or((i64::MIN, String::new()), |a| {
            (a.created_day, a.code.clone())
        });
        let rows: Vec<CaseTuple> = dispatch!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE (created_day, code) > ($1, $2) \
                 ORDER BY created_day, code LIMIT $3"
            )))
            .bind(day)
            .bind(code)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(case_from).collect()
    }

    /// Claims the next open case nobody holds a live lease on, for `key` until `lease_until`.
    /// A new case becomes in review. `None` when there is nothing to claim.
    pub async fn claim_next(
        &self,
        key: &KeyId,
        lease_until: i64,
        now: i64,
    ) -> Result<Option<CaseRow>, StoreError> {
        let day = Day::today();
        let sql = match self.backend {
            // Inside BEGIN IMMEDIATE, so no other writer runs between the select and the update.
            Backend::Sqlite(_) => format!(
                "UPDATE cases SET claimed_by = $1, lease_until = $2, updated_day = $4, \
                 status = CASE WHEN status = 'new' THEN 'in_review' ELSE status END \
                 WHERE id = (SELECT id FROM cases WHERE status <> 'closed' \
                   AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= $3) \
                   ORDER BY unread_from_reporter DESC, created_day, code LIMIT 1) \
                 RETURNING {CASE_COLUMNS}"
            ),
            // SKIP LOCKED: a concurrent claimer passes over the row this one is taking.
            Backend::Postgres(_) => "WITH next AS (SELECT id FROM cases WHERE status <> 'closed' \
                   AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= $3) \
                   ORDER BY unread_from_reporter DESC, created_day, code LIMIT 1 \
                   FOR UPDATE SKIP LOCKED) \
                 UPDATE cases SET claimed_by = $1, lease_until = $2, updated_day = $4, \
                 status = CASE WHEN cases.status = 'new' THEN 'in_review' ELSE cases.status END \
                 FROM next WHERE cases.id = next.id \
                 RETURNING cases.id, cases.code, cases.status, cases.outcome, cases.category, \
                 cases.created_day, cases.updated_day, cases.closed_day, cases.claimed_by, \
                 cases.lease_until, cases.unread_from_reporter"
                .to_owned(),
        };
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<CaseTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(key.to_string())
                .bind(lease_until)
                .bind(now)
                .bind(day.0)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                tx.commit().await?;
                return Ok(None);
            };
            let case = case_from(row)?;
            let entry = AuditEntry::new(key.to_string(), "case.claim").case(case.code.as_str());
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(Some(case))
        })
    }

    /// Claims (or renews the lease on) one case. [`StoreError::Conflict`] when another key
    /// holds a live lease; [`StoreError::Invalid`] when the case is closed.
    pub async fn claim_case(
        &self,
        case_id: &CaseId,
        key: &KeyId,
        lease_until: i64,
        now: i64,
    ) -> Result<CaseRow, StoreError> {
        let day = Day::today();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE cases SET claimed_by = $1, lease_until = $2, updated_day = $4, \
                 status = CASE WHEN status = 'new' THEN 'in_review' ELSE status END \
                 WHERE id = $5 AND status <> 'closed' \
                 AND (claimed_by IS NULL OR claimed_by = $1 OR lease_until IS NULL OR lease_until <= $3)",
            )
            .bind(key.to_string())
            .bind(lease_until)
            .bind(now)
            .bind(day.0)
            .bind(&case_id.as_bytes()[..])
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let row: Option<CaseTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"
            )))
            .bind(&case_id.as_bytes()[..])
            .fetch_optional(&mut *tx)
            .await?;
            let case = case_from(row.ok_or(StoreError::NotFound)?)?;
            if n == 0 {
                return Err(if case.status == CaseStatus::Closed {
                    StoreError::Invalid("the case is closed".into())
                } else {
                    StoreError::Conflict
                });
            }
            let entry = AuditEntry::new(key.to_string(), "case.claim").case(case.code.as_str());
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(case)
        })
    }

    /// Gives up the lease `key` holds. [`StoreError::Conflict`] when `key` does not hold it.
    pub async fn release_case(&self, case_id: &CaseId, key: &KeyId) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let code: Option<String> = sqlx::query_scalar(
                "UPDATE cases SET claimed_by = NULL, lease_until = NULL WHERE id = $1 AND claimed_by = $2 RETURNING code",
            )
            .bind(&case_id.as_bytes()[..])
            .bind(key.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(code) = code else {
                return Err(StoreError::Conflict);
            };
            let entry = AuditEntry::new(key.to_string(), "case.release").case(code);
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Moves a case to `to` (with `outcome` when closing). Refuses transitions outside
    /// [`transition_allowed`] with [`StoreError::Invalid`], and with [`StoreError::Conflict`]
    /// when another key holds a live lease. Closing releases the lease.
    pub async fn set_status(
        &self,
        case_id: &CaseId,
        key: &KeyId,
        to: CaseStatus,
        outcome: Option<Outcome>,
        now: i64,
    ) -> Result<CaseRow, StoreError> {
        if (to == CaseStatus::Closed) != outcome.is_some() {
            return Err(StoreError::Invalid(if to == CaseStatus::Closed {
                "closing a case needs an outcome (substantiated, unsubstantiated, referred, not_actionable)".into()
            } else {
                "an outcome is given only when closing a case".into()
            }));
        }
        let day = Day::today();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<CaseTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1{}",
                pool.dialect().for_update
            )))
            .bind(&case_id.as_bytes()[..])
            .fetch_optional(&mut *tx)
            .await?;
            let case = case_from(row.ok_or(StoreError::NotFound)?)?;
            if let Some(holder) = case.claimed_by
                && holder != *key
                && case.lease_until.is_some_and(|t| t > now)
            {
                return Err(StoreError::Conflict);
            }
            if !transition_allowed(case.status, to) {
                return Err(StoreError::Invalid(format!(
                    "a case cannot go from {} to {}",
                    case.status.as_str(),
                    to.as_str()
                )));
            }
            let closing = to == CaseStatus::Closed;
            let changed = sqlx::query(
                "UPDATE cases SET status = $1, outcome = $2, updated_day = $3, \
                 closed_day = CASE WHEN $4 THEN $3 ELSE closed_day END, \
                 claimed_by = CASE WHEN $4 THEN NULL ELSE claimed_by END, \
                 lease_until = CASE WHEN $4 THEN NULL ELSE lease_until END \
                 WHERE id = $5 AND status = $6",
            )
            .bind(to.as_str())
            .bind(outcome.map(Outcome::as_str))
            .bind(day.0)
            .bind(closing)
            .bind(&case_id.as_bytes()[..])
            .bind(case.status.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != 1 {
                return Err(StoreError::Conflict);
            }
            let entry = AuditEntry::new(key.to_string(), "case.status")
                .case(case.code.as_str())
                .detail(format!(
                    "{} -> {}{}",
                    case.status.as_str(),
                    to.as_str(),
                    outcome.map(|o| format!(" ({})", o.as_str())).unwrap_or_default()
                ));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
        });
        self.case(case_id).await
    }

    /// Clears the unread-reporter-input flag (a reviewer fetched the thread).
    pub async fn mark_read(&self, case_id: &CaseId) -> Result<(), StoreError> {
        dispatch!(self, pool => {
            sqlx::query("UPDATE cases SET unread_from_reporter = $1 WHERE id = $2")
                .bind(false)
                .bind(&case_id.as_bytes()[..])
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The reporter's mailbox public key for a case (`None` once purged).
    pub async fn mailbox_of(&self, case_id: &CaseId) -> Result<Option<PublicKey>, StoreError> {
        let row: Option<Vec<u8>> = dispatch!(self, pool => {
            sqlx::query_scalar("SELECT mailbox_public FROM receipts WHERE case_id = $1")
                .bind(&case_id.as_bytes()[..])
                .fetch_optional(pool)
                .await?
        });
        row.map(|b| PublicKey::from_slice(&b).map_err(|_| StoreError::Malformed("mailbox key")))
            .transpose()
    }

    // ---- items --------------------------------------------------------------------------

    /// The headers of a case's items, oldest first, without loading whole attachments.
    pub async fn item_headers(&self, case_id: &CaseId) -> Result<Vec<ItemHeader>, StoreError> {
        Ok(self
            .item_headers_of(std::slice::from_ref(case_id))
            .await?
            .remove(case_id)
            .unwrap_or_default())
    }

    /// [`Store::item_headers`] of several cases in one query (a listing page's).
    pub async fn item_headers_of(
        &self,
        cases: &[CaseId],
    ) -> Result<std::collections::HashMap<CaseId, Vec<ItemHeader>>, StoreError> {
        type Row = (
            Vec<u8>,
            i64,
            String,
            Vec<u8>,
            i64,
            Option<String>,
            Option<String>,
            i64,
            i64,
            i64,
        );
        let mut out = std::collections::HashMap::new();
        if cases.is_empty() {
            return Ok(out);
        }
        let list: Vec<String> = (1..=cases.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT case_id, id, kind, substr(blob, 1, 8192), CAST(length(blob) AS BIGINT), for_key, \
             author, created_day, epoch, version FROM items WHERE case_id IN ({}) \
             ORDER BY case_id, COALESCE(pos, id)",
            list.join(", ")
        );
        let rows: Vec<Row> = dispatch!(self, pool => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for c in cases {
                q = q.bind(&c.as_bytes()[..]);
            }
            q.fetch_all(pool).await?
        });
        let key = |k: Option<String>| -> Result<Option<KeyId>, StoreError> {
            k.map(|k| KeyId::parse(&k).ok_or(StoreError::Malformed("item key id")))
                .transpose()
        };
        for (case, id, kind, prefix, size, for_key, author, day, epoch, version) in rows {
            let case = CaseId::from_slice(&case).ok_or(StoreError::Malformed("item case id"))?;
            let header = ItemHeader {
                id,
                kind: ItemKind::parse(&kind).ok_or(StoreError::Malformed("item kind"))?,
                recipients: recipients_of_prefix(&prefix),
                for_key: key(for_key)?,
                author: key(author)?,
                created_day: Day(day),
                size,
                epoch,
                version,
            };
            out.entry(case).or_insert_with(Vec::new).push(header);
        }
        Ok(out)
    }

    /// An item's kind and the key ids its envelope is addressed to, read from the envelope's
    /// first bytes only: for authorising access before the whole item is loaded.
    pub async fn item_access(&self, id: i64) -> Result<(ItemKind, Vec<KeyId>), StoreError> {
        let row: Option<(String, Vec<u8>)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT kind, substr(blob, 1, 8192) FROM items WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let (kind, prefix) = row.ok_or(StoreError::NotFound)?;
        Ok((
            ItemKind::parse(&kind).ok_or(StoreError::Malformed("item kind"))?,
            recipients_of_prefix(&prefix),
        ))
    }

    /// Open cases a claim could take now, in claim order (unread replies first, then oldest),
    /// at most `limit`: the server picks the first one the claimer can open.
    pub async fn claim_candidates(&self, now: i64, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let rows: Vec<CaseTuple> = dispatch!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE status <> 'closed' \
                 AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= $1) \
                 ORDER BY unread_from_reporter DESC, created_day, code LIMIT $2"
            )))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(case_from).collect()
    }

    /// One item with its swap version.
    pub async fn item(&self, id: i64) -> Result<VersionedItem, StoreError> {
        type Row = (
            i64,
            Vec<u8>,
            String,
            Vec<u8>,
            i64,
            Option<String>,
            Option<String>,
            i64,
            i64,
        );
        let row: Option<Row> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT id, case_id, kind, blob, created_day, author, for_key, epoch, version \
                 FROM items WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let (id, case_id, kind, blob, day, author, for_key, epoch, version) =
            row.ok_or(StoreError::NotFound)?;
        let key = |k: Option<String>| -> Result<Option<KeyId>, StoreError> {
            k.map(|k| KeyId::parse(&k).ok_or(StoreError::Malformed("item key id")))
                .transpose()
        };
        Ok(VersionedItem {
            item: super::ItemRow {
                id,
                case_id: CaseId::from_slice(&case_id).ok_or(StoreError::Malformed("item case"))?,
                kind: ItemKind::parse(&kind).ok_or(StoreError::Malformed("item kind"))?,
                blob,
                created_day: Day(day),
                author: key(author)?,
                for_key: key(for_key)?,
                epoch,
            },
            version,
        })
    }

    /// Replaces an item's envelope (a new recipient header on the same payload) if its version
    /// is still `expected_version`; [`StoreError::Conflict`] otherwise. Audits.
    pub async fn swap_item_blob(
        &self,
        id: i64,
        expected_version: i64,
        blob: &[u8],
        actor: &str,
        for_key: Option<&KeyId>,
    ) -> Result<i64, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let epoch: i64 = sqlx::query_scalar("SELECT epoch FROM keyring WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let changed: Option<(String, Vec<u8>)> = sqlx::query_as(
                "UPDATE items SET blob = $1, epoch = $2, version = version + 1, \
                 for_key = COALESCE($5, for_key) \
                 WHERE id = $3 AND version = $4 \
                 RETURNING (SELECT code FROM cases WHERE cases.id = items.case_id), case_id",
            )
            .bind(blob)
            .bind(epoch)
            .bind(id)
            .bind(expected_version)
            .bind(for_key.map(|k| k.to_string()))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((code, case_id)) = changed else {
                return Err(StoreError::Conflict);
            };
            // The item may now open for other keys than before.
            refresh_case_keys!(pool, tx, &case_id[..]);
            // Re-share parts were made for the header just replaced.
            sqlx::query("DELETE FROM reshare_parts WHERE item_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let detail = match for_key {
                Some(k) => format!("#{id} epoch {epoch} to {k}"),
                None => format!("#{id} epoch {epoch}"),
            };
            let entry = AuditEntry::new(actor, "item.rewrap").case(code).detail(detail);
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(expected_version + 1)
        })
    }

    // ---- disclosure ---------------------------------------------------------------------

    /// Records a reviewer's request to see a case's reporter identity. Refuses a second open
    /// (pending or approved) request by the same reviewer for the same case.
    pub async fn request_disclosure(
        &self,
        case_id: &CaseId,
        requester: &KeyId,
        reason: &str,
        proof: Option<&AuditProof>,
    ) -> Result<i64, StoreError> {
        let day = Day::today();
        let signature = proof.and_then(AuditProof::signature);
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // The case row is locked so that two requests at once cannot both find none open.
            let code: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT code FROM cases WHERE id = $1{}",
                pool.dialect().for_update
            )))
            .bind(&case_id.as_bytes()[..])
            .fetch_optional(&mut *tx)
            .await?;
            let code = code.ok_or(StoreError::NotFound)?;
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM disclosure_requests WHERE case_id = $1 AND requester = $2 \
                 AND status IN ('pending', 'approved')",
            )
            .bind(&case_id.as_bytes()[..])
            .bind(requester.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if open > 0 {
                return Err(StoreError::AlreadyExists);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO disclosure_requests (case_id, requester, reason, status, created_day, signature) \
                 VALUES ($1, $2, $3, 'pending', $4, $5) RETURNING id",
            )
            .bind(&case_id.as_bytes()[..])
            .bind(requester.to_string())
            .bind(reason)
            .bind(day.0)
            .bind(signature)
            .fetch_one(&mut *tx)
            .await?;
            let entry = AuditEntry::new(requester.to_string(), "disclosure.request")
                .case(code)
                .detail(format!("request {id}"))
                .proof(proof.map(AuditProof::encode));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Disclosure requests, newest first, of `requester` (all when `None`) with `status`.
    pub async fn disclosure_requests(
        &self,
        requester: Option<&KeyId>,
        status: Option<DisclosureStatus>,
    ) -> Result<Vec<DisclosureRequest>, StoreError> {
        self.disclosure_page(requester, status, None, i64::MAX)
            .await
    }

    /// [`Store::disclosure_requests`] a page at a time: at most `limit`, older than request
    /// `before`. Filtered and limited by the database; the page's decisions in one query.
    pub async fn disclosure_page(
        &self,
        requester: Option<&KeyId>,
        status: Option<DisclosureStatus>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DisclosureRequest>, StoreError> {
        self.requests_where(requester, status, before, None, limit)
            .await
    }

    async fn requests_where(
        &self,
        requester: Option<&KeyId>,
        status: Option<DisclosureStatus>,
        before: Option<i64>,
        id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DisclosureRequest>, StoreError> {
        type Row = (
            i64,
            Vec<u8>,
            String,
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<Vec<u8>>,
        );
        let rows: Vec<Row> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT r.id, r.case_id, c.code, r.requester, r.reason, r.status, r.created_day, r.decided_day, r.signature \
                 FROM disclosure_requests r JOIN cases c ON c.id = r.case_id \
                 WHERE ($1 IS NULL OR r.requester = $1) AND ($2 IS NULL OR r.status = $2) \
                 AND ($3 IS NULL OR r.id < $3) AND ($4 IS NULL OR r.id = $4) \
                 ORDER BY r.id DESC LIMIT $5",
            )
            .bind(requester.map(ToString::to_string))
            .bind(status.map(|s| s.as_str()))
            .bind(before)
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut decisions = self.disclosure_decisions(&ids).await?;
        let mut out = Vec::new();
        for (id, case_id, code, req, reason, st, created, decided, signature) in rows {
            out.push(DisclosureRequest {
                id,
                case_id: CaseId::from_slice(&case_id).ok_or(StoreError::Malformed("case id"))?,
                case_code: CaseCode::parse(&code).ok_or(StoreError::Malformed("case code"))?,
                requester: KeyId::parse(&req).ok_or(StoreError::Malformed("requester key id"))?,
                reason,
                status: DisclosureStatus::parse(&st)
                    .ok_or(StoreError::Malformed("request status"))?,
                created_day: Day(created),
                decided_day: decided.map(Day),
                decisions: decisions.remove(&id).unwrap_or_default(),
                signature,
            });
        }
        Ok(out)
    }

    /// The decisions on requests `ids`, by request.
    async fn disclosure_decisions(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<DisclosureDecision>>, StoreError> {
        type Row = (i64, String, bool, String, i64, Option<Vec<u8>>);
        let mut out = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT request_id, custodian, approve, reason, day, signature FROM disclosure_decisions \
             WHERE request_id IN ({}) ORDER BY request_id, day, custodian",
            list.join(", ")
        );
        let rows: Vec<Row> = dispatch!(self, pool => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await?
        });
        for (request, c, approve, reason, day, signature) in rows {
            out.entry(request)
                .or_insert_with(Vec::new)
                .push(DisclosureDecision {
                    custodian: KeyId::parse(&c).ok_or(StoreError::Malformed("custodian key id"))?,
                    approve,
                    reason,
                    day: Day(day),
                    signature,
                });
        }
        Ok(out)
    }

    /// One disclosure request.
    pub async fn disclosure_request(&self, id: i64) -> Result<DisclosureRequest, StoreError> {
        self.requests_where(None, None, None, Some(id), 1)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Records a custodian's decision on a pending request. One denial denies it; `required`
    /// approvals approve it. [`StoreError::AlreadyExists`] when this custodian decided before,
    /// [`StoreError::Invalid`] when the request is no longer pending.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_disclosure(
        &self,
        id: i64,
        custodian: &KeyId,
        approve: bool,
        reason: &str,
        required: i64,
        proof: Option<&AuditProof>,
    ) -> Result<DisclosureStatus, StoreError> {
        let day = Day::today();
        let signature = proof.and_then(AuditProof::signature);
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Concurrent decisions on one request queue here: each then counts the approvals
            // committed before it, so two custodians approving at once reach the threshold.
            lock_request!(pool, tx, id);
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT r.status, c.code FROM disclosure_requests r JOIN cases c ON c.id = r.case_id WHERE r.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let (status, code) = row.ok_or(StoreError::NotFound)?;
            if status != "pending" {
                return Err(StoreError::Invalid(format!("the request is {status}, not pending")));
            }
            let before: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM disclosure_decisions WHERE request_id = $1 AND custodian = $2",
            )
            .bind(id)
            .bind(custodian.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if before > 0 {
                return Err(StoreError::AlreadyExists);
            }
            sqlx::query(
                "INSERT INTO disclosure_decisions (request_id, custodian, approve, reason, day, signature) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(custodian.to_string())
            .bind(approve)
            .bind(reason)
            .bind(day.0)
            .bind(signature)
            .execute(&mut *tx)
            .await?;
            let approvals: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM disclosure_decisions WHERE request_id = $1 AND approve = $2",
            )
            .bind(id)
            .bind(true)
            .fetch_one(&mut *tx)
            .await?;
            let new_status = if !approve {
                DisclosureStatus::Denied
            } else if approvals >= required.max(1) {
                DisclosureStatus::Approved
            } else {
                DisclosureStatus::Pending
            };
            sqlx::query(
                "UPDATE disclosure_requests SET status = $1, \
                 decided_day = CASE WHEN $1 = 'pending' THEN decided_day ELSE $2 END WHERE id = $3",
            )
            .bind(new_status.as_str())
            .bind(day.0)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let entry = AuditEntry::new(custodian.to_string(), "disclosure.decide")
                .case(code)
                .detail(format!(
                    "request {id} {} -> {}",
                    if approve { "approve" } else { "deny" },
                    new_status.as_str()
                ))
                .proof(proof.map(AuditProof::encode));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(new_status)
        })
    }

    /// Stores the identity re-sealed for an approved request and marks it fulfilled, in one
    /// transaction. [`StoreError::Invalid`] unless the request is approved and for this case.
    pub async fn fulfil_disclosure(
        &self,
        request_id: i64,
        case_id: &CaseId,
        item: &NewItem,
        actor: &KeyId,
        proof: Option<&AuditProof>,
    ) -> Result<i64, StoreError> {
        let day = Day::today();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let epoch: i64 = sqlx::query_scalar("SELECT epoch FROM keyring WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            // One fulfilment per request, however many custodians upload at once.
            lock_request!(pool, tx, request_id);
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT r.status, c.code FROM disclosure_requests r JOIN cases c ON c.id = r.case_id \
                 WHERE r.id = $1 AND r.case_id = $2",
            )
            .bind(request_id)
            .bind(&case_id.as_bytes()[..])
            .fetch_optional(&mut *tx)
            .await?;
            let (status, code) = row.ok_or(StoreError::NotFound)?;
            if status != "approved" {
                return Err(StoreError::Invalid(format!(
                    "the request is {status}; only an approved request can be fulfilled"
                )));
            }
            let id = insert_item!(tx, &case_id.as_bytes()[..], item, day.0, epoch);
            if let Some(sig) = proof.and_then(AuditProof::signature) {
                // A disclosed identity's number is the request it fulfils (signed with it).
                sqlx::query("INSERT INTO item_signatures (item_id, seq, signature) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(request_id)
                    .bind(sig)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE disclosure_requests SET status = 'fulfilled' WHERE id = $1")
                .bind(request_id)
                .execute(&mut *tx)
                .await?;
            let entry = AuditEntry::new(actor.to_string(), "disclosure.fulfil")
                .case(code)
                .detail(format!("request {request_id} item #{id}"))
                .proof(proof.map(AuditProof::encode));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Stores a custodian's share of a case's threshold-sealed identity (an `identity_share`
    /// item sealed to the requester, with its signature) for request `request_id`. Accepted only
    /// from a custodian who approved that request, once per custodian, while the request is
    /// pending or approved; when the request is approved and `needed` distinct custodians have
    /// given their shares, it becomes fulfilled. Returns the item id and whether it did.
    pub async fn add_identity_share(
        &self,
        request_id: i64,
        case_id: &CaseId,
        item: &NewItem,
        actor: &KeyId,
        proof: Option<&AuditProof>,
        needed: i64,
    ) -> Result<(i64, bool), StoreError> {
        let day = Day::today();
        let share_kind = ItemKind::IdentityShare.as_str();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let epoch: i64 = sqlx::query_scalar("SELECT epoch FROM keyring WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            lock_request!(pool, tx, request_id);
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT r.status, c.code FROM disclosure_requests r JOIN cases c ON c.id = r.case_id \
                 WHERE r.id = $1 AND r.case_id = $2",
            )
            .bind(request_id)
            .bind(&case_id.as_bytes()[..])
            .fetch_optional(&mut *tx)
            .await?;
            let (status, code) = row.ok_or(StoreError::NotFound)?;
            if status != "pending" && status != "approved" {
                return Err(StoreError::Invalid(format!(
                    "the request is {status}; shares go only to a pending or approved request"
                )));
            }
            let approved: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM disclosure_decisions WHERE request_id = $1 AND custodian = $2 AND approve = $3",
            )
            .bind(request_id)
            .bind(actor.to_string())
            .bind(true)
            .fetch_one(&mut *tx)
            .await?;
            if approved == 0 {
                return Err(StoreError::Invalid(
                    "only a custodian who approved the request gives a share; approve it first".into(),
                ));
            }
            let before: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM items i JOIN item_signatures s ON s.item_id = i.id \
                 WHERE i.kind = $1 AND i.case_id = $2 AND s.seq = $3 AND i.author = $4",
            )
            .bind(share_kind)
            .bind(&case_id.as_bytes()[..])
            .bind(request_id)
            .bind(actor.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if before > 0 {
                return Err(StoreError::Invalid(
                    "this custodian's share for the request is in already".into(),
                ));
            }
            let share = NewItem {
                kind: ItemKind::IdentityShare,
                blob: item.blob.clone(),
                author: Some(*actor),
                for_key: item.for_key,
            };
            let id = insert_item!(tx, &case_id.as_bytes()[..], &share, day.0, epoch);
            if let Some(sig) = proof.and_then(AuditProof::signature) {
                // A share's number is the request it answers (signed with it).
                sqlx::query("INSERT INTO item_signatures (item_id, seq, signature) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(request_id)
                    .bind(sig)
                    .execute(&mut *tx)
                    .await?;
            }
            let given: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT i.author) FROM items i JOIN item_signatures s ON s.item_id = i.id \
                 WHERE i.kind = $1 AND i.case_id = $2 AND s.seq = $3",
            )
            .bind(share_kind)
            .bind(&case_id.as_bytes()[..])
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await?;
            let fulfilled = status == "approved" && given >= needed;
            if fulfilled {
                sqlx::query("UPDATE disclosure_requests SET status = 'fulfilled' WHERE id = $1")
                    .bind(request_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let action = if fulfilled { "disclosure.fulfil" } else { "disclosure.share" };
            let entry = AuditEntry::new(actor.to_string(), action)
                .case(code)
                .detail(format!("request {request_id} item #{id} share {given} of {needed}"))
                .proof(proof.map(AuditProof::encode));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok((id, fulfilled))
        })
    }

    /// Stores custodian `dealer`'s re-share part for item `id` as it stands at `version`
    /// (parts for an earlier version are dropped) and returns every part now held for that
    /// version. `Conflict` when the item has moved on.
    pub async fn add_reshare_part(
        &self,
        id: i64,
        version: i64,
        dealer: &KeyId,
        part: &[u8],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let current: Option<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT i.version, c.code FROM items i JOIN cases c ON c.id = i.case_id WHERE i.id = $1{}",
                pool.dialect().for_update
            )))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let (current, code) = current.ok_or(StoreError::NotFound)?;
            if current != version {
                return Err(StoreError::Conflict);
            }
            sqlx::query("DELETE FROM reshare_parts WHERE item_id = $1 AND (version <> $2 OR dealer = $3)")
                .bind(id)
                .bind(version)
                .bind(dealer.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO reshare_parts (item_id, version, dealer, part) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(version)
                .bind(dealer.to_string())
                .bind(part)
                .execute(&mut *tx)
                .await?;
            let parts: Vec<Vec<u8>> = sqlx::query_scalar(
                "SELECT part FROM reshare_parts WHERE item_id = $1 AND version = $2 ORDER BY dealer",
            )
            .bind(id)
            .bind(version)
            .fetch_all(&mut *tx)
            .await?;
            let entry = AuditEntry::new(dealer.to_string(), "item.reshare_part")
                .case(code)
                .detail(format!("#{id} version {version}: {} part(s)", parts.len()));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(parts)
        })
    }

    /// The custodians (key ids) whose re-share parts for item `id` at `version` are in.
    pub async fn reshare_dealers(&self, id: i64, version: i64) -> Result<Vec<KeyId>, StoreError> {
        let rows: Vec<String> = dispatch!(self, pool => {
            sqlx::query_scalar(
                "SELECT dealer FROM reshare_parts WHERE item_id = $1 AND version = $2 ORDER BY dealer",
            )
            .bind(id)
            .bind(version)
            .fetch_all(pool)
            .await?
        });
        rows.iter()
            .map(|k| KeyId::parse(k).ok_or(StoreError::Malformed("dealer key id")))
            .collect()
    }

    // ---- retention ----------------------------------------------------------------------

    /// Deletes cases closed on or before `closed_on_or_before` with their items, receipts and
    /// disclosure records, leaving a tombstone per receipt; audits each deletion (case code and
    /// counts only). On SQLite the WAL is then checkpointed (TRUNCATE) so deleted rows do not
    /// linger in it. Returns the purged case codes.
    pub async fn purge_closed_cases(
        &self,
        closed_on_or_before: Day,
        actor: &str,
    ) -> Result<Vec<CaseCode>, StoreError> {
        let day = Day::today();
        let ids: Vec<Vec<u8>> = dispatch!(self, pool => {
            sqlx::query_scalar(
                "SELECT id FROM cases WHERE status = 'closed' AND closed_day IS NOT NULL AND closed_day <= $1 ORDER BY closed_day",
            )
            .bind(closed_on_or_before.0)
            .fetch_all(pool)
            .await?
        });
        let mut purged = Vec::new();
        for id in ids {
            let code: Option<String> = dispatch!(self, pool => {
                let mut tx = pool.begin_write().await?;
                let code: Option<String> = sqlx::query_scalar(
                    "SELECT code FROM cases WHERE id = $1 AND status = 'closed'",
                )
                .bind(&id[..])
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(code) = &code {
                    sqlx::query(
                        "INSERT INTO case_tombstones (lookup_id, code, purged_day) \
                         SELECT lookup_id, $2, $3 FROM receipts WHERE case_id = $1",
                    )
                    .bind(&id[..])
                    .bind(code)
                    .bind(day.0)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "DELETE FROM reshare_parts WHERE item_id IN (SELECT id FROM items WHERE case_id = $1)",
                    )
                    .bind(&id[..])
                    .execute(&mut *tx)
                    .await?;
                    let items = sqlx::query("DELETE FROM items WHERE case_id = $1")
                        .bind(&id[..])
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    let receipts = sqlx::query("DELETE FROM receipts WHERE case_id = $1")
                        .bind(&id[..])
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    sqlx::query("DELETE FROM disclosure_decisions WHERE request_id IN (SELECT id FROM disclosure_requests WHERE case_id = $1)")
                        .bind(&id[..])
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM disclosure_requests WHERE case_id = $1")
                        .bind(&id[..])
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM cases WHERE id = $1")
                        .bind(&id[..])
                        .execute(&mut *tx)
                        .await?;
                    let entry = AuditEntry::new(actor, "case.purge")
                        .case(code.clone())
                        .detail(format!("{items} items, {receipts} receipt"));
                    append_audit!(pool, tx, &entry);
                }
                tx.commit().await?;
                code
            });
            if let Some(code) = code {
                purged.push(CaseCode::parse(&code).ok_or(StoreError::Malformed("case code"))?);
            }
        }
        if !purged.is_empty()
            && let Backend::Sqlite(pool) = &self.backend
        {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
        }
        Ok(purged)
    }

    /// The code of a purged case whose receipt had this lookup id.
    pub async fn tombstone(&self, lookup_id: &LookupId) -> Result<Option<CaseCode>, StoreError> {
        let code: Option<String> = dispatch!(self, pool => {
            sqlx::query_scalar("SELECT code FROM case_tombstones WHERE lookup_id = $1")
                .bind(&lookup_id.0[..])
                .fetch_optional(pool)
                .await?
        });
        code.map(|c| CaseCode::parse(&c).ok_or(StoreError::Malformed("tombstone code")))
            .transpose()
    }
}
