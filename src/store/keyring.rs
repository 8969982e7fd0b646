//! Recipients (reviewer and custodian public keys) and the keyring epoch. Every change bumps
//! the epoch and is audited in the same transaction; sealing always uses the current active set.

use super::audit::append_audit;
use super::{AuditEntry, AuditProof, PoolExt, ProofSigner, Store, StoreError, dispatch};
use crate::clock::Day;
use crate::crypto::{KeyId, PublicKey, RecipientRole};

/// A registered recipient key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The key id.
    pub key_id: KeyId,
    /// The public key.
    pub public_key: PublicKey,
    /// Reviewer or custodian.
    pub role: RecipientRole,
    /// The holder's display name (staff, not reporters).
    pub name: String,
    /// False once retired.
    pub active: bool,
    /// The day it was added.
    pub added_day: Day,
    /// The day it was retired.
    pub retired_day: Option<Day>,
}

/// The active keys at one epoch: what new items are sealed to.
#[derive(Debug, Clone)]
pub struct Keyring {
    /// Increases with every change of the recipient set.
    pub epoch: i64,
    /// Active reviewer keys.
    pub reviewers: Vec<PublicKey>,
    /// Active custodian keys.
    pub custodians: Vec<PublicKey>,
    /// How many custodians open an identity together (`k`): from the signed keyring when the
    /// keyring comes from [`crate::trust::Trust::sealing_keyring`]; the store's own unverified
    /// view ([`Store::keyring`]) says 1.
    pub threshold: u8,
}

type RecipientTuple = (String, Vec<u8>, String, String, bool, i64, Option<i64>);

fn recipient_from(row: RecipientTuple) -> Result<Recipient, StoreError> {
    let (key_id, pk, role, name, active, added_day, retired_day) = row;
    Ok(Recipient {
        key_id: KeyId::parse(&key_id).ok_or(StoreError::Malformed("recipient key id"))?,
        public_key: PublicKey::from_slice(&pk)
            .map_err(|_| StoreError::Malformed("recipient public key"))?,
        role: RecipientRole::parse(&role).ok_or(StoreError::Malformed("recipient role"))?,
        name,
        active,
        added_day: Day(added_day),
        retired_day: retired_day.map(Day),
    })
}

/// What a keyring statement changes in the recipients table.
#[derive(Debug, Clone, Copy)]
pub enum KeyringChange<'a> {
    /// A key joins.
    Add {
        /// Its role.
        role: RecipientRole,
        /// The key.
        key: &'a PublicKey,
        /// Its holder's name.
        name: &'a str,
    },
    /// A key leaves.
    Retire {
        /// Its role.
        role: RecipientRole,
        /// The key.
        key: &'a PublicKey,
    },
    /// The number of approvals a disclosure needs (nothing in the table changes; readers take
    /// it from the verified chain).
    Approvals(u32),
}

/// A keyring statement as stored: its position, body and signatures (JSON), unverified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatement {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The signed body.
    pub body: Vec<u8>,
    /// The signatures, as JSON.
    pub signatures: String,
}

/// Adds a recipient row inside `$tx` and bumps the epoch: `Ok(epoch)`, or
/// [`StoreError::AlreadyExists`] for a key registered before — unless `$same_ok` and the key is
/// already active in the same role (then nothing changes and the epoch is still bumped).
macro_rules! add_recipient_in {
    ($tx:expr, $key:expr, $role:expr, $name:expr, $day:expr, $same_ok:expr) => {{
        let public_key: &PublicKey = $key;
        let role: RecipientRole = $role;
        let key_id = public_key.key_id();
        let existing: Option<(String, bool)> =
            sqlx::query_as("SELECT role, active FROM recipients WHERE key_id = $1 OR public_key = $2")
                .bind(key_id.to_string())
                .bind(&public_key.as_bytes()[..])
                .fetch_optional(&mut *$tx)
                .await?;
        let epoch: i64 =
            sqlx::query_scalar("UPDATE keyring SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
                .fetch_one(&mut *$tx)
                .await?;
        match existing {
            Some((r, true)) if $same_ok && r == role.as_str() => Ok(epoch),
            Some(_) => Err(StoreError::AlreadyExists),
            None => {
                sqlx::query(
                    "INSERT INTO recipients (key_id, public_key, role, name, active, added_day, added_epoch) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(key_id.to_string())
                .bind(&public_key.as_bytes()[..])
                .bind(role.as_str())
                .bind($name)
                .bind(true)
                .bind($day.0)
                .bind(epoch)
                .execute(&mut *$tx)
                .await?;
                Ok(epoch)
            }
        }
    }};
}

/// Retires an active recipient inside `$tx`, bumps the epoch and deletes the identities
/// disclosed to it: `Ok((role, epoch, identities deleted))`, or [`StoreError::NotFound`].
macro_rules! retire_recipient_in {
    ($pool:expr, $tx:expr, $key_id:expr, $day:expr) => {{
        let key_id: &KeyId = $key_id;
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM recipients WHERE key_id = $1 AND active = $2")
                .bind(key_id.to_string())
                .bind(true)
                .fetch_optional(&mut *$tx)
                .await?;
        match role {
            None => Err(StoreError::NotFound),
            Some(role) => {
                let epoch: i64 = sqlx::query_scalar(
                    "UPDATE keyring SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch",
                )
                .fetch_one(&mut *$tx)
                .await?;
                // Cases the retired key holds go back to the queue at once, not when the lease
                // runs out.
                sqlx::query("UPDATE cases SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1")
                    .bind(key_id.to_string())
                    .execute(&mut *$tx)
                    .await?;
                sqlx::query(
                    "UPDATE recipients SET active = $1, retired_day = $2, retired_epoch = $3 WHERE key_id = $4",
                )
                .bind(false)
                .bind($day.0)
                .bind(epoch)
                .bind(key_id.to_string())
                .execute(&mut *$tx)
                .await?;
                // Identities custodians re-sealed to this reviewer for approved requests can be
                // opened by this key alone and by no one who still has access: deleting them
                // means a retired (perhaps lost) key cannot later reveal a reporter.
                // The same for custodians' shares of threshold-sealed identities.
                let touched: Vec<Vec<u8>> = sqlx::query_scalar(
                    "SELECT DISTINCT case_id FROM items WHERE kind IN ($1, $3) AND for_key = $2",
                )
                    .bind(crate::crypto::ItemKind::DisclosedIdentity.as_str())
                    .bind(key_id.to_string())
                    .bind(crate::crypto::ItemKind::IdentityShare.as_str())
                    .fetch_all(&mut *$tx)
                    .await?;
                let disclosed = sqlx::query(
                    "DELETE FROM items WHERE kind IN ($1, $3) AND for_key = $2",
                )
                    .bind(crate::crypto::ItemKind::DisclosedIdentity.as_str())
                    .bind(key_id.to_string())
                    .bind(crate::crypto::ItemKind::IdentityShare.as_str())
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected();
                for case_id in &touched {
                    $crate::store::keys::refresh_case_keys!($pool, $tx, &case_id[..]);
                }
                Ok((role, epoch, disclosed))
            }
        }
    }};
}

impl Store {
    /// Registers a recipient key; bumps the epoch; audits. Refuses a key registered before
    /// (active or retired: a retired key must never come back silently). The bot seals only
    /// to keys a signed keyring statement proves ([`crate::trust`]); this raw registration
    /// serves the store's own tests and the statement import.
    pub async fn add_recipient(
        &self,
        public_key: &PublicKey,
        role: RecipientRole,
        name: &str,
        actor: &str,
    ) -> Result<Recipient, StoreError> {
        let key_id = public_key.key_id();
        let day = Day::today();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let epoch = add_recipient_in!(tx, public_key, role, name, day, false)?;
            let entry = AuditEntry::new(actor, "recipient.add")
                .detail(format!("{role} {key_id} epoch {epoch}"));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
        });
        Ok(Recipient {
            key_id,
            public_key: *public_key,
            role,
            name: name.to_owned(),
            active: true,
            added_day: day,
            retired_day: None,
        })
    }

    /// Retires an active recipient key; bumps the epoch; deletes the identities disclosed to it
    /// (a reviewer key); audits.
    pub async fn retire_recipient(&self, key_id: &KeyId, actor: &str) -> Result<(), StoreError> {
        let day = Day::today();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (role, epoch, disclosed) = retire_recipient_in!(pool, tx, key_id, day)?;
            let entry = AuditEntry::new(actor, "recipient.retire").detail(format!(
                "{role} {key_id} epoch {epoch}, {disclosed} disclosed identit{} deleted",
                if disclosed == 1 { "y" } else { "ies" }
            ));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The keyring epoch alone (it moves with every change of the recipients).
    pub async fn keyring_epoch(&self) -> Result<i64, StoreError> {
        Ok(dispatch!(self, pool => {
            sqlx::query_scalar("SELECT epoch FROM keyring WHERE id = 1").fetch_one(pool).await?
        }))
    }

    /// The keyring statements as stored, in order (parsed and verified by [`crate::trust`];
    /// nothing here is trusted).
    pub async fn keyring_statements(&self) -> Result<Vec<StoredStatement>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, String)> = dispatch!(self, pool => {
            sqlx::query_as("SELECT seq, body, signatures FROM keyring_statements ORDER BY seq")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(seq, body, signatures)| StoredStatement {
                seq,
                body,
                signatures,
            })
            .collect())
    }

    /// Appends a verified keyring statement and applies it to the recipients table, in one
    /// transaction that bumps the epoch and audits it. `name` is `Some` for an addition. An
    /// addition of a key already active in the same role is accepted without a change (an
    /// install that kept its keys when it began signing them); [`StoreError::Conflict`] when
    /// `seq` is not the next position.
    pub async fn append_keyring_statement(
        &self,
        statement: &StoredStatement,
        change: KeyringChange<'_>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let day = Day::today();
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM keyring_statements")
                .fetch_one(&mut *tx)
                .await?;
            if last.unwrap_or(0) + 1 != statement.seq {
                return Err(StoreError::Conflict);
            }
            sqlx::query("INSERT INTO keyring_statements (seq, body, signatures) VALUES ($1, $2, $3)")
                .bind(statement.seq)
                .bind(&statement.body[..])
                .bind(&statement.signatures)
                .execute(&mut *tx)
                .await?;
            let detail = match change {
                KeyringChange::Add { role, key, name } => {
                    let epoch = add_recipient_in!(tx, key, role, name, day, true)?;
                    format!("#{} add {role} {} epoch {epoch}", statement.seq, key.key_id())
                }
                KeyringChange::Retire { role, key } => {
                    let (_, epoch, disclosed) = retire_recipient_in!(pool, tx, &key.key_id(), day)?;
                    format!(
                        "#{} retire {role} {} epoch {epoch}, {disclosed} disclosed identit{} deleted",
                        statement.seq,
                        key.key_id(),
                        if disclosed == 1 { "y" } else { "ies" }
                    )
                }
                KeyringChange::Approvals(required) => {
                    format!("#{} approvals {required}", statement.seq)
                }
            };
            let proof = AuditProof {
                context: "keyring-statement".to_owned(),
                message: statement.body.clone(),
                signer: ProofSigner::Authority(statement.signatures.clone()),
            };
            let entry = AuditEntry::new(actor, "keyring.statement")
                .detail(detail)
                .proof(Some(proof.encode()));
            append_audit!(pool, tx, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// All recipients, active first, then by day added.
    pub async fn recipients(&self) -> Result<Vec<Recipient>, StoreError> {
        let rows: Vec<RecipientTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT key_id, public_key, role, name, active, added_day, retired_day \
                 FROM recipients ORDER BY active DESC, added_day, key_id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(recipient_from).collect()
    }

    /// One recipient by key id.
    pub async fn recipient(&self, key_id: &KeyId) -> Result<Recipient, StoreError> {
        let row: Option<RecipientTuple> = dispatch!(self, pool => {
            sqlx::query_as(
                "SELECT key_id, public_key, role, name, active, added_day, retired_day \
                 FROM recipients WHERE key_id = $1",
            )
                .bind(key_id.to_string())
                .fetch_optional(pool)
                .await?
        });
        row.map(recipient_from).ok_or(StoreError::NotFound)?
    }

    /// The current epoch and active keys.
    pub async fn keyring(&self) -> Result<Keyring, StoreError> {
        let mut ring = Keyring {
            epoch: self.keyring_epoch().await?,
            reviewers: Vec::new(),
            custodians: Vec::new(),
            threshold: 1,
        };
        for r in self.recipients().await?.into_iter().filter(|r| r.active) {
            match r.role {
                RecipientRole::Reviewer => ring.reviewers.push(r.public_key),
                RecipientRole::Custodian => ring.custodians.push(r.public_key),
            }
        }
        Ok(ring)
    }
}
