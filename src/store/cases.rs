//! Cases, their sealed items and their receipts.

use super::audit::append_audit;
use super::drafts::write_draft;

/// A fresh item id: random (1 to 2^62), not a counter, so that item ids do not keep the order
/// in which reports came in (a seized database would otherwise rank every case by its
/// submission). Collisions are negligible at any size tipline will reach (a million items:
/// about one in ten million) and fail the insert rather than overwrite.
pub(crate) fn new_item_id() -> i64 {
    let n = i64::from_be_bytes(crate::crypto::random_array()) & 0x3FFF_FFFF_FFFF_FFFF;
    n.max(1)
}

/// Inserts `$item` (a [`super::NewItem`]) into case `$case_id` (bytes) inside transaction
/// `$tx`, with a random id ([`new_item_id`]) and its position in the case (`pos`: one more
/// than the case's last item, so a case's items keep their order and nothing else does);
/// evaluates to the id.
macro_rules! insert_item {
    ($tx:expr, $case_id:expr, $item:expr, $day:expr, $epoch:expr) => {{
        let id = $crate::store::cases::new_item_id();
        let item: &$crate::store::NewItem = $item;
        let case_id: &[u8] = $case_id;
        sqlx::query(
            "INSERT INTO items (id, case_id, kind, blob, created_day, author, for_key, epoch, pos) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             (SELECT COALESCE(MAX(COALESCE(pos, id)), 0) + 1 FROM items WHERE case_id = $2))",
        )
        .bind(id)
        .bind(case_id)
        .bind(item.kind.as_str())
        .bind(&item.blob[..])
        .bind($day)
        .bind(item.author.map(|k| k.to_string()))
        .bind(item.for_key.map(|k| k.to_string()))
        .bind($epoch)
        .execute(&mut *$tx)
        .await?;
        $crate::store::keys::add_item_keys!(
            $tx,
            case_id,
            item.kind,
            item.for_key.as_ref(),
            &item.blob[..]
        );
        id
    }};
}
use super::{AuditEntry, AuditProof, DraftSave, PoolExt, Store, StoreError, dispatch};
use crate::clock::Day;
use crate::crypto::receipt::LookupId;
use crate::crypto::{ItemKind, KeyId, PublicKey};
use crate::ids::{CaseCode, CaseId};
pub(crate) use insert_item;

pub use crate::ids::{CaseStatus, Outcome};

/// A sealed item to store.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// What it is (must match the kind it was sealed as).
    pub kind: ItemKind,
    /// The envelope bytes.
    pub blob: Vec<u8>,
    /// The staff key that uploaded it; `None` for items from the bot.
    pub author: Option<KeyId>,
    /// For disclosed identities: the reviewer key it was re-sealed to.
    pub for_key: Option<KeyId>,
}

impl NewItem {
    /// An item from the bot.
    pub fn from_bot(kind: ItemKind, blob: Vec<u8>) -> Self {
        Self {
            kind,
            blob,
            author: None,
            for_key: None,
        }
    }
}

/// A case to submit in one transaction with its items and receipt.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The random case id the items were sealed to.
    pub id: CaseId,
    /// The report category code.
    pub category: String,
    /// The keyring epoch the items were sealed under.
    pub epoch: i64,
    /// Sealed items: the summary, the identity, attachments.
    pub items: Vec<NewItem>,
    /// The receipt's lookup id.
    pub lookup_id: LookupId,
    /// The receipt's mailbox public key.
    pub mailbox_public: PublicKey,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// Internal id.
    pub id: CaseId,
    /// Public code.
    pub code: CaseCode,
    /// Status.
    pub status: CaseStatus,
    /// Outcome, once closed.
    pub outcome: Option<Outcome>,
    /// Category code.
    pub category: String,
    /// Day submitted.
    pub created_day: Day,
    /// Day of the last change.
    pub updated_day: Day,
    /// Day closed.
    pub closed_day: Option<Day>,
    /// Reviewer key holding the lease.
    pub claimed_by: Option<KeyId>,
    /// Lease expiry (Unix seconds).
    pub lease_until: Option<i64>,
    /// The reporter wrote something no reviewer has fetched yet.
    pub unread_from_reporter: bool,
}

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

pub(crate) fn case_from(t: CaseTuple) -> Result<CaseRow, StoreError> {
    let (
        id,
        code,
        status,
        outcome,
        category,
        created,
        updated,
        closed,
        claimed_by,
        lease_until,
        unread,
    ) = t;
    Ok(CaseRow {
        id: CaseId::from_slice(&id).ok_or(StoreError::Malformed("case id"))?,
        code: CaseCode::parse(&code).ok_or(StoreError::Malformed("case code"))?,
        status: CaseStatus::parse(&status).ok_or(StoreError::Malformed("case status"))?,
        outcome: match outcome {
            Some(o) => Some(Outcome::parse(&o).ok_or(StoreError::Malformed("case outcome"))?),
            None => None,
        },
        category,
        created_day: Day(created),
        updated_day: Day(updated),
        closed_day: closed.map(Day),
        claimed_by: match claimed_by {
            Some(k) => Some(KeyId::parse(&k).ok_or(StoreError::Malformed("claimant"))?),
            None => None,
        },
        lease_until,
        unread_from_reporter: unread,
    })
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// Item id, increasing in insertion order.
    pub id: i64,
    /// The case.
    pub case_id: CaseId,
    /// What it is.
    pub kind: ItemKind,
    /// The envelope bytes.
    pub blob: Vec<u8>,
    /// Day stored.
    pub created_day: Day,
    /// Uploading staff key, if any.
    pub author: Option<KeyId>,
    /// For disclosed identities: the reviewer key it is for.
    pub for_key: Option<KeyId>,
    /// Keyring epoch it was sealed under.
    pub epoch: i64,
}

type ItemTuple = (
    i64,
    Vec<u8>,
    String,
    Vec<u8>,
    i64,
    Option<String>,
    Option<String>,
    i64,
);

fn item_from(t: ItemTuple) -> Result<ItemRow, StoreError> {
    let (id, case_id, kind, blob, day, author, for_key, epoch) = t;
    let key = |k: Option<String>| -> Result<Option<KeyId>, StoreError> {
        match k {
            Some(k) => Ok(Some(
                KeyId::parse(&k).ok_or(StoreError::Malformed("item key id"))?,
            )),
            None => Ok(None),
        }
    };
    Ok(ItemRow {
        id,
        case_id: CaseId::from_slice(&case_id).ok_or(StoreError::Malformed("item case id"))?,
        kind: ItemKind::parse(&kind).ok_or(StoreError::Malformed("item kind"))?,
        blob,
        created_day: Day(day),
        author: key(author)?,
        for_key: key(for_key)?,
        epoch,
    })
}

/// What a receipt finds.
#[derive(Debug, Clone)]
pub struct ReceiptCase {
    /// The case.
    pub case: CaseRow,
    /// The reporter's mailbox public key.
    pub mailbox_public: PublicKey,
}

impl Store {
    /// Stores a new case with its items and receipt, and audits it, in one transaction.
    /// Returns the public case code (drawn here, retried on the unlikely collision), or
    /// [`StoreError::Conflict`] when the keyring changed since `case.epoch` (seal again).
    pub async fn submit_case(&self, case: &NewCase) -> Result<CaseCode, StoreError> {
        Ok(self.insert_case(case, None).await?.0)
    }

    /// [`Store::submit_case`], committing in the same transaction the reporter's draft as it
    /// stands after the submission ("submitted, receipt owed"), against the version it was
    /// read at. Either both are stored or neither: a crash cannot leave a case whose draft
    /// still offers Send, and a second Send for the same draft version fails with
    /// [`StoreError::StaleDraft`] with nothing written. Returns the code and the draft's new
    /// version.
    pub async fn submit_case_with_draft(
        &self,
        case: &NewCase,
        draft: &DraftSave<'_>,
    ) -> Result<(CaseCode, i64), StoreError> {
        let (code, version) = self.insert_case(case, Some(draft)).await?;
        Ok((code, version.ok_or(StoreError::Malformed("draft version"))?))
    }

    /// The case transaction of [`Store::submit_case`] and [`Store::submit_case_with_draft`]:
    /// the draft's new version when one is written.
    async fn insert_case(
        &self,
        case: &NewCase,
        draft: Option<&DraftSave<'_>>,
    ) -> Result<(CaseCode, Option<i64>), StoreError> {
        let day = Day::today();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // The draft first: on PostgreSQL its row lock makes a concurrent second Send wait
            // here, then fail the version check, before anything else is written.
            let draft_version = match draft {
                Some(d) => Some(write_draft!(tx, d).ok_or(StoreError::StaleDraft)?),
                None => None,
            };
            // The keyring must not have changed since the items were sealed: a key retired
            // in between (perhaps compromised) must not receive this report.
            let epoch: i64 = sqlx::query_scalar("SELECT epoch FROM keyring WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            if epoch != case.epoch {
                return Err(StoreError::Conflict);
            }
            let mut code = CaseCode::random();
            for _ in 0..8 {
                let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE code = $1")
                    .bind(code.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                if taken == 0 {
                    break;
                }
                code = CaseCode::random();
            }
            let (rowid, random) = pool.dialect().random_rowid;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO cases ({rowid}id, code, status, category, created_day, updated_day, unread_from_reporter) \
                 VALUES ({random}$1, $2, $3, $4, $5, $5, $6)"
            )))
            .bind(&case.id.as_bytes()[..])
            .bind(code.as_str())
            .bind(CaseStatus::New.as_str())
            .bind(&case.category)
            .bind(day.0)
            .bind(false)
            .execute(&mut *tx)
            .await?;
            for item in &case.items {
                insert_item!(tx, &case.id.as_bytes()[..], item, day.0, case.epoch);
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO receipts ({rowid}lookup_id, case_id, mailbox_public) VALUES ({random}$1, $2, $3)"
            )))
                .bind(&case.lookup_id.0[..])
                .bind(&case.id.as_bytes()[..])
                .bind(&case.mailbox_public.as_bytes()[..])
                .execute(&mut *tx)
                .await?;
            // No audit entry now: its place in the log would rank this case among the day's
            // reports. [`Store::audit_intake`] writes the day's entries as one sorted batch.
            tx.commit().await?;
            Ok((code, draft_version))
        })
    }

    /// Writes the audit entries of received cases (`case.submit`, actor `reporter`) for the
    /// days before `before` whose entries are not written yet: one per case, by day and then
    /// case code (random), in one batch. Submissions are not audited one by one, because each
    /// entry's place in the chain would rank its case among the day's reports, which a
    /// seizure could then match against anything else that keeps an order. `tipline serve`
    /// runs it after each midnight (Vietnam time); it looks back 30 days. Returns the number
    /// of entries written.
    pub async fn audit_intake(&self, before: Day) -> Result<usize, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Under the audit lock, so that two replicas never write the same batch.
            sqlx::query(pool.dialect().audit_lock)
                .execute(&mut *tx)
                .await?;
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT code, created_day FROM cases WHERE created_day < $1 AND created_day >= $2 \
                 AND NOT EXISTS (SELECT 1 FROM audit_log a \
                 WHERE a.action = 'case.submit' AND a.case_code = cases.code) \
                 ORDER BY created_day, code",
            )
            .bind(before.0)
            .bind(before.0 - 30)
            .fetch_all(&mut *tx)
            .await?;
            for (code, day) in &rows {
                let entry = AuditEntry::new("reporter", "case.submit")
                    .case(code.as_str())
                    .detail(format!("received {}", Day(*day)));
                append_audit!(pool, tx, &entry);
            }
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// Replaces a case's receipt (lookup id and mailbox key) with a fresh one, for a receipt
    /// that was never confirmed delivered (the bot crashed, or Telegram failed): the old
    /// lookup id stops opening the case. Audited as `receipt.reissue`. The draft that owes
    /// the receipt is written in the same transaction against its version, so two replicas
    /// cannot both issue one ([`StoreError::StaleDraft`]); [`StoreError::NotFound`] when the
    /// case is gone (purged).
    pub async fn reissue_receipt(
        &self,
        case_id: &CaseId,
        lookup_id: &LookupId,
        mailbox_public: &PublicKey,
        draft: &DraftSave<'_>,
    ) -> Result<(CaseCode, i64), StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let version = write_draft!(tx, draft).ok_or(StoreError::StaleDraft)?;
            let code: Option<String> = sqlx::query_scalar("SELECT code FROM cases WHERE id = $1")
                .bind(&case_id.as_bytes()[..])
                .fetch_optional(&mut *tx)
                .await?;
            let Some(code) = code else {
                return Err(StoreError::NotFound);
            };
            let n = sqlx::query(
                "UPDATE receipts SET lookup_id = $1, mailbox_public = $2 WHERE case_id = $3",
            )
            .bind(&lookup_id.0[..])
            .bind(&mailbox_public.as_bytes()[..])
            .bind(&case_id.as_bytes()[..])
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            let entry = AuditEntry::new("reporter", "receipt.reissue").case(code.as_str());
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            let code = CaseCode::parse(&code).ok_or(StoreError::Malformed("case code"))?;
            Ok((code, version))
        })
    }

    /// The case a receipt's lookup id belongs to.
    pub async fn case_by_receipt(
        &self,
        lookup_id: &LookupId,
    ) -> Result<Option<ReceiptCase>, StoreError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT case_id, mailbox_public FROM receipts WHERE lookup_id = $1")
                .bind(&lookup_id.0[..])
                .fetch_optional(pool)
                .await?
        });
        let Some((case_id, mailbox)) = row else {
            return Ok(None);
        };
        let case_id =
            CaseId::from_slice(&case_id).ok_or(StoreError::Malformed("receipt case id"))?;
        let case = self.case(&case_id).await?;
        Ok(Some(ReceiptCase {
            case,
            mailbox_public: PublicKey::from_slice(&mailbox)
                .map_err(|_| StoreError::Malformed("mailbox key"))?,
        }))
    }

    /// One case by id.
    pub async fn case(&self, id: &CaseId) -> Result<CaseRow, StoreError> {
        let row: Option<CaseTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT id, code, status, outcome, category, created_day, updated_day, closed_day, \
                 claimed_by, lease_until, unread_from_reporter FROM cases WHERE id = $1",
            )
            .bind(&id.as_bytes()[..])
            .fetch_optional(pool)
            .await?
        });
        row.map(case_from).ok_or(StoreError::NotFound)?
    }

    /// One case by its public code.
    pub async fn case_by_code(&self, code: &CaseCode) -> Result<CaseRow, StoreError> {
        let row: Option<CaseTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT id, code, status, outcome, category, created_day, updated_day, closed_day, \
                 claimed_by, lease_until, unread_from_reporter FROM cases WHERE code = $1",
            )
            .bind(code.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.map(case_from).ok_or(StoreError::NotFound)?
    }

    /// Adds a sealed item to an existing case; audits it. A reporter's message marks the case
    /// as having unread reporter input.
    pub async fn add_item(
        &self,
        case_id: &CaseId,
        item: &NewItem,
        actor: &str,
    ) -> Result<i64, StoreError> {
        self.add_item_signed(case_id, item, actor, None).await
    }

    /// [`Store::add_item`] with the author's signature (`(seq, proof)`: a reply's number, 0
    /// for a note), stored in the same transaction and carried by the audit entry: replies to
    /// the reporter, which the bot shows only when they verify, and notes.
    pub async fn add_item_signed(
        &self,
        case_id: &CaseId,
        item: &NewItem,
        actor: &str,
        signed: Option<(i64, &AuditProof)>,
    ) -> Result<i64, StoreError> {
        let signature = signed.and_then(|(seq, p)| Some((seq, p.signature()?)));
        let day = Day::today();
        let epoch = self.keyring().await?.epoch;
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let code: Option<String> = sqlx::query_scalar("SELECT code FROM cases WHERE id = $1")
                .bind(&case_id.as_bytes()[..])
                .fetch_optional(&mut *tx)
                .await?;
            let Some(code) = code else {
                return Err(StoreError::NotFound);
            };
            let id = insert_item!(tx, &case_id.as_bytes()[..], item, day.0, epoch);
            if let Some((seq, sig)) = signature {
                sqlx::query("INSERT INTO item_signatures (item_id, seq, signature) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(seq)
                    .bind(sig)
                    .execute(&mut *tx)
                    .await?;
            }
            let unread = item.kind == ItemKind::FromReporter;
            sqlx::query(
                "UPDATE cases SET updated_day = $1, unread_from_reporter = (unread_from_reporter OR $2) WHERE id = $3",
            )
            .bind(day.0)
            .bind(unread)
            .bind(&case_id.as_bytes()[..])
            .execute(&mut *tx)
            .await?;
            let entry = AuditEntry::new(actor, "item.add")
                .case(code)
                .detail(format!("{} #{id}", item.kind.as_str()))
                .proof(signed.map(|(_, p)| p.encode()));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The signatures of a case's items: item id → (seq, signature).
    pub async fn item_signatures(
        &self,
        case_id: &CaseId,
    ) -> Result<std::collections::HashMap<i64, (i64, Vec<u8>)>, StoreError> {
        let rows: Vec<(i64, i64, Vec<u8>)> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT s.item_id, s.seq, s.signature FROM item_signatures s \
                 JOIN items i ON i.id = s.item_id WHERE i.case_id = $1",
            )
            .bind(&case_id.as_bytes()[..])
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, seq, sig)| (id, (seq, sig)))
            .collect())
    }

    /// The items of one kind of a case, oldest first: only those are loaded (the bot's
    /// /status reads the replies, never the attachments).
    pub async fn items_of_kind(
        &self,
        case_id: &CaseId,
        kind: ItemKind,
    ) -> Result<Vec<ItemRow>, StoreError> {
        let rows: Vec<ItemTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT id, case_id, kind, blob, created_day, author, for_key, epoch FROM items \
                 WHERE case_id = $1 AND kind = $2 ORDER BY COALESCE(pos, id)",
            )
            .bind(&case_id.as_bytes()[..])
            .bind(kind.as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(item_from).collect()
    }

    /// All items of a case, oldest first.
    pub async fn items(&self, case_id: &CaseId) -> Result<Vec<ItemRow>, StoreError> {
        let rows: Vec<ItemTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT id, case_id, kind, blob, created_day, author, for_key, epoch FROM items \
                 WHERE case_id = $1 ORDER BY COALESCE(pos, id)",
            )
            .bind(&case_id.as_bytes()[..])
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(item_from).collect()
    }
}
