//! `case_keys`: which keys can open which cases, kept where an index can answer "the cases this
//! key can open, in queue order" (migration 0012; issue 19). Without it a listing opened every
//! case's item headers to decide visibility, a million index scans for one page.
//!
//! A row says: some item of `case_id` of the kinds `class` opens (reviewer kinds or custodian
//! kinds, [`class_of`]) is sealed to `key_id`. The rows are kept by every write that changes a
//! case's items: an item added adds its keys ([`add_item_keys!`]); an item re-sealed or deleted
//! makes the case's rows be computed again from its items ([`refresh_case_keys!`]); a purged
//! case takes its rows with it (foreign key); the case's status is copied by a trigger.
//!
//! It is an index, not an authority: the review API checks every listed case against its
//! items' own envelope headers before showing it (src/review/server.rs, `list_cases`).

use std::collections::BTreeSet;

use super::{PoolExt, Store, StoreError, TokenRole, dispatch};
use crate::crypto::{ItemKind, KeyId};

/// Kinds a reviewer key opens (a disclosed identity or identity share only when it is for that
/// key).
pub const REVIEWER_KINDS: [ItemKind; 7] = [
    ItemKind::Summary,
    ItemKind::Attachment,
    ItemKind::ToReporter,
    ItemKind::FromReporter,
    ItemKind::Note,
    ItemKind::DisclosedIdentity,
    ItemKind::IdentityShare,
];

/// Kinds a custodian key opens.
pub const CUSTODIAN_KINDS: [ItemKind; 2] = [ItemKind::Identity, ItemKind::AttachmentOriginal];

/// Kinds sealed to one requesting reviewer after a disclosure.
pub fn disclosed_kind(kind: ItemKind) -> bool {
    matches!(kind, ItemKind::DisclosedIdentity | ItemKind::IdentityShare)
}

/// Which role opens an item of `kind` sealed to `key` (`for_key` is the item's, for disclosed
/// kinds), the same rule as the review API's visibility.
pub fn class_of(kind: ItemKind, for_key: Option<&KeyId>, key: &KeyId) -> Option<TokenRole> {
    if REVIEWER_KINDS.contains(&kind) && (!disclosed_kind(kind) || for_key == Some(key)) {
        Some(TokenRole::Reviewer)
    } else if CUSTODIAN_KINDS.contains(&kind) {
        Some(TokenRole::Custodian)
    } else {
        None
    }
}

/// The (key, class) rows an item's envelope gives its case: `envelope` may be only the
/// envelope's first bytes (the header). An envelope that does not parse gives none.
pub fn item_keys(
    kind: ItemKind,
    for_key: Option<&KeyId>,
    envelope: &[u8],
) -> Vec<(String, &'static str)> {
    let recipients = crate::crypto::envelope::recipients(envelope).unwrap_or_default();
    let set: BTreeSet<(String, &'static str)> = recipients
        .iter()
        .filter_map(|k| class_of(kind, for_key, k).map(|c| (k.to_string(), c.as_str())))
        .collect();
    set.into_iter().collect()
}

/// `WITH v(key_id, class) AS (VALUES ($f, $f+1), …)` for `n` rows, numbering from `first`.
fn values(first: usize, n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| format!("(${}, ${})", first + 2 * i, first + 2 * i + 1))
        .collect();
    format!("WITH v(key_id, class) AS (VALUES {})", rows.join(", "))
}

/// The statement that adds `n` (key, class) rows for the case bound as `$1`, rows from `$2`.
pub(crate) fn insert_sql(n: usize) -> String {
    format!(
        "{} INSERT INTO case_keys (key_id, class, created_day, code, case_id, status) \
         SELECT v.key_id, v.class, c.created_day, c.code, c.id, c.status FROM v, cases c \
         WHERE c.id = $1 ON CONFLICT DO NOTHING",
        values(2, n)
    )
}

/// `INSERT INTO case_keys` of `n` whole rows (key_id, class, created_day, code, case_id,
/// status), six values each from `$1` (the review bench's bulk writes).
pub(crate) fn insert_sql_rows(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let b = i * 6;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            )
        })
        .collect();
    format!(
        "INSERT INTO case_keys (key_id, class, created_day, code, case_id, status) VALUES {}",
        rows.join(", ")
    )
}

/// Adds the keys of one item (kind, for_key, envelope) to its case's rows, in transaction `tx`.
macro_rules! add_item_keys {
    ($tx:expr, $case_id:expr, $kind:expr, $for_key:expr, $envelope:expr) => {{
        let rows = $crate::store::keys::item_keys($kind, $for_key, $envelope);
        if !rows.is_empty() {
            let sql = $crate::store::keys::insert_sql(rows.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind($case_id);
            for (key, class) in rows {
                q = q.bind(key).bind(class);
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use add_item_keys;

/// Computes a case's rows again from its items, in transaction `tx` of `pool` (after an item
/// was re-sealed or deleted). On PostgreSQL the case's row is locked first: an item being added
/// to the case at the same time holds a key-share lock on it until it commits, so its keys are
/// either read here or added after.
macro_rules! refresh_case_keys {
    ($pool:expr, $tx:expr, $case_id:expr) => {{
        let case_id: &[u8] = $case_id;
        let lock = format!(
            "SELECT id FROM cases WHERE id = $1{}",
            $crate::store::PoolExt::dialect($pool).for_update
        );
        sqlx::query(sqlx::AssertSqlSafe(lock))
            .bind(case_id)
            .fetch_optional(&mut *$tx)
            .await?;
        let items: Vec<(String, Option<String>, Vec<u8>)> = sqlx::query_as(
            "SELECT kind, for_key, substr(blob, 1, 8192) FROM items WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_all(&mut *$tx)
        .await?;
        let mut rows = std::collections::BTreeSet::new();
        for (kind, for_key, prefix) in items {
            let Some(kind) = $crate::crypto::ItemKind::parse(&kind) else {
                continue;
            };
            let for_key = for_key.and_then(|k| $crate::crypto::KeyId::parse(&k));
            rows.extend($crate::store::keys::item_keys(
                kind,
                for_key.as_ref(),
                &prefix,
            ));
        }
        sqlx::query("DELETE FROM case_keys WHERE case_id = $1")
            .bind(case_id)
            .execute(&mut *$tx)
            .await?;
        if !rows.is_empty() {
            let sql = $crate::store::keys::insert_sql(rows.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id);
            for (key, class) in rows {
                q = q.bind(key).bind(class);
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use refresh_case_keys;

/// Cases whose rows are computed in one transaction of the backfill.
const BACKFILL_BATCH: i64 = 500;

impl Store {
    /// Fills `case_keys` from the existing items when migration 0012 left that pending: case
    /// by case in batches, each batch one transaction, until every case is done. Replicas
    /// starting together share the work safely: a case's rows are computed again from its
    /// items, whoever did it before. Runs after every migration; does nothing once done.
    pub async fn backfill_case_keys(&self) -> Result<u64, StoreError> {
        let pending: Option<String> = dispatch!(self, pool => {
            sqlx::query_scalar("SELECT name FROM backfills WHERE name = 'case_keys'")
                .fetch_optional(pool)
                .await?
        });
        if pending.is_none() {
            return Ok(0);
        }
        let mut after: Vec<u8> = Vec::new();
        let mut done = 0u64;
        loop {
            let batch: Vec<Vec<u8>> = dispatch!(self, pool => {
                sqlx::query_scalar("SELECT id FROM cases WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(&after[..])
                    .bind(BACKFILL_BATCH)
                    .fetch_all(pool)
                    .await?
            });
            let Some(last) = batch.last() else { break };
            after = last.clone();
            dispatch!(self, pool => {
                let mut tx = pool.begin_write().await?;
                for id in &batch {
                    refresh_case_keys!(pool, tx, &id[..]);
                }
                tx.commit().await?;
            });
            done += batch.len() as u64;
        }
        dispatch!(self, pool => {
            sqlx::query("DELETE FROM backfills WHERE name = 'case_keys'")
                .execute(pool)
                .await?;
        });
        Ok(done)
    }

    /// Computes every case's `case_keys` rows again (`tipline` never needs it in normal
    /// operation; tests and the review bench use it after writing items directly).
    pub async fn rebuild_case_keys(&self) -> Result<u64, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("INSERT INTO backfills (name) VALUES ('case_keys') ON CONFLICT DO NOTHING")
                .execute(pool)
                .await?;
        });
        self.backfill_case_keys().await
    }
}
