//! Synthetic cases for `tipline reviewload` (the review API's load figures): many cases written
//! in bulk, shaped like a mature install's (85 % closed, dates over three years, one sealed
//! summary and one sealed identity each), with their `case_keys` rows. Never used by the product.

use super::keys::{insert_sql_rows, item_keys};
use super::{PoolExt, Store, StoreError, dispatch};
use crate::crypto::{ItemKind, KeyId};

/// What every synthetic case carries: a summary sealed to the reviewers and an identity sealed
/// to the custodians (the same envelopes for every case: only their headers are read).
pub struct BenchSeed<'a> {
    /// A summary envelope.
    pub summary: &'a [u8],
    /// An identity envelope.
    pub identity: &'a [u8],
    /// Today, as a day number.
    pub today: i64,
}

/// Cases written per transaction.
const BATCH: u64 = 400;

/// A small deterministic generator (the shape of the data, not its secrecy, matters here).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One synthetic case row.
struct Row {
    id: Vec<u8>,
    code: String,
    status: &'static str,
    outcome: Option<&'static str>,
    created: i64,
    closed: Option<i64>,
    unread: bool,
}

fn row(i: u64, mix: &mut Mix, today: i64) -> Row {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&mix.next().to_be_bytes());
    id[8..].copy_from_slice(&i.to_be_bytes());
    let raw = crate::crypto::base32::encode(&i.to_be_bytes()[3..8]);
    let code = format!("KH-{}-{}", &raw[..4], &raw[4..8]);
    let created = today - (mix.next() % 1095) as i64;
    let (status, outcome) = match mix.next() % 100 {
        0..85 => ("closed", Some("referred")),
        85..90 => ("new", None),
        90..95 => ("in_review", None),
        _ => ("awaiting_reporter", None),
    };
    let closed = (status == "closed").then(|| (created + 30).min(today));
    let unread = status != "closed" && mix.next().is_multiple_of(10);
    Row {
        id: id.to_vec(),
        code,
        status,
        outcome,
        created,
        closed,
        unread,
    }
}

fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// How many cases the database holds.
    pub async fn case_count(&self) -> Result<i64, StoreError> {
        Ok(dispatch!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(pool).await?
        }))
    }

    /// Writes `n` synthetic cases (numbered from `first`, which makes their codes) in batches,
    /// calling `progress(done)` after each.
    pub async fn seed_bench_cases(
        &self,
        first: u64,
        n: u64,
        seed: &BenchSeed<'_>,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<(), StoreError> {
        let summary_keys = item_keys(ItemKind::Summary, None, seed.summary);
        let identity_keys = item_keys(ItemKind::Identity, None, seed.identity);
        let keys: Vec<(String, &'static str)> =
            summary_keys.into_iter().chain(identity_keys).collect();
        let mut mix = Mix(0x9E37_79B9_7F4A_7C15 ^ first);
        let mut done = 0;
        while done < n {
            let count = BATCH.min(n - done);
            let rows: Vec<Row> = (0..count)
                .map(|i| row(first + done + i, &mut mix, seed.today))
                .collect();
            self.seed_batch(&rows, seed, &keys).await?;
            done += count;
            progress(done);
        }
        Ok(())
    }

    async fn seed_batch(
        &self,
        rows: &[Row],
        seed: &BenchSeed<'_>,
        keys: &[(String, &'static str)],
    ) -> Result<(), StoreError> {
        let cases_sql = format!(
            "INSERT INTO cases (id, code, status, outcome, category, created_day, updated_day, \
             closed_day, unread_from_reporter) VALUES {}",
            placeholders(rows.len(), 9)
        );
        let items_sql = format!(
            "INSERT INTO items (id, case_id, kind, blob, created_day, epoch, pos) VALUES {}",
            placeholders(rows.len() * 2, 7)
        );
        let keys_sql = insert_sql_rows(rows.len() * keys.len());
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(cases_sql));
            for r in rows {
                q = q
                    .bind(&r.id[..])
                    .bind(&r.code)
                    .bind(r.status)
                    .bind(r.outcome)
                    .bind("corruption")
                    .bind(r.created)
                    .bind(r.closed.unwrap_or(r.created))
                    .bind(r.closed)
                    .bind(r.unread);
            }
            q.execute(&mut *tx).await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(items_sql));
            for r in rows {
                for (pos, (kind, blob)) in [
                    (ItemKind::Summary, seed.summary),
                    (ItemKind::Identity, seed.identity),
                ]
                .into_iter()
                .enumerate()
                {
                    q = q
                        .bind(super::cases::new_item_id())
                        .bind(&r.id[..])
                        .bind(kind.as_str())
                        .bind(blob)
                        .bind(r.created)
                        .bind(0i64)
                        .bind(pos as i64 + 1);
                }
            }
            q.execute(&mut *tx).await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(keys_sql));
            for r in rows {
                for (key, class) in keys {
                    q = q
                        .bind(key)
                        .bind(*class)
                        .bind(r.created)
                        .bind(&r.code)
                        .bind(&r.id[..])
                        .bind(r.status);
                }
            }
            q.execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

/// The key ids of the keys a bench's envelopes were sealed to (for its token).
pub fn bench_reviewer(summary: &[u8]) -> Option<KeyId> {
    crate::crypto::envelope::recipients(summary)
        .ok()?
        .into_iter()
        .next()
}
