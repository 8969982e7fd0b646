//! Services behind /status: what a receipt opens (with only the replies a reviewer the signed
//! keyring proves has signed), and the reporter's reply, sealed to the case's reviewers.

use std::collections::HashMap;

use teloxide::types::User;
use tracing::warn;

use super::handlers::telegram_id;
use super::summary::TextMessage;
use super::{App, HandlerError};
use crate::crypto::{ItemKind, Receipt, Sealed};
use crate::dialogue::machine::{CaseView, ReceiptCheck};
use crate::ids::CaseId;
use crate::store::NewItem;

impl App {
    /// What `text`, as a receipt, opens. A found case opens the /status conversation in
    /// memory (for a reply).
    pub(super) async fn check_receipt(
        &self,
        text: &str,
        user: &User,
    ) -> Result<ReceiptCheck, HandlerError> {
        let p = self.secret.pseudonym(telegram_id(user));
        if !self.allow(user, "receipt", 3600, self.limits.receipt_attempts_per_hour) {
            return Ok(ReceiptCheck::TooManyAttempts);
        }
        let Ok(receipt) = Receipt::parse(text) else {
            return Ok(ReceiptCheck::BadFormat);
        };
        let keys = self.receipts.derive(receipt).await?;
        let Some(found) = self.store.case_by_receipt(&keys.lookup_id).await? else {
            // A case purged after retention leaves a tombstone: say so rather than "not found".
            if let Some(code) = self.store.tombstone(&keys.lookup_id).await? {
                return Ok(ReceiptCheck::Purged(code.to_string()));
            }
            return Ok(ReceiptCheck::NotFound);
        };
        let case = found.case;
        let messages = self.signed_replies(&case, &keys).await?;
        self.open_status_session(&p, case.id);
        // Not at info: a log line's time would date the reporter's use of their receipt.
        tracing::debug!("status checked");
        Ok(ReceiptCheck::Found(CaseView {
            code: case.code.to_string(),
            status: case.status,
            outcome: case.outcome,
            messages,
        }))
    }

    /// The replies to the reporter, opened with the receipt's mailbox key. Only replies signed
    /// by a reviewer the signed keyring proves are shown: a message planted in the database
    /// ("send us your ID number") never reaches the reporter as the Inspectorate's. The
    /// mailbox key signed over is the one this receipt derives.
    async fn signed_replies(
        &self,
        case: &crate::store::CaseRow,
        keys: &crate::crypto::receipt::ReceiptKeys,
    ) -> Result<Vec<(String, String)>, HandlerError> {
        let replies = self
            .store
            .items_of_kind(&case.id, ItemKind::ToReporter)
            .await?;
        if replies.is_empty() {
            // The keyring and the signatures are read only for a case that has replies.
            return Ok(Vec::new());
        }
        let ring = self.trust.keyring(&self.store).await?;
        let signatures = self.store.item_signatures(&case.id).await?;
        let mut messages = Vec::new();
        let mut refused = 0u32;
        for item in replies {
            if !reply_is_signed(&ring, &signatures, &item, &keys.mailbox_public) {
                refused += 1;
                continue;
            }
            let sealed: Sealed<TextMessage> = Sealed::from_bytes(item.blob);
            match sealed.open(ItemKind::ToReporter, &case.id, &keys.mailbox_secret) {
                Ok(m) => messages.push((item.created_day.to_string(), m.text)),
                Err(_) => warn!("a reply could not be opened with the mailbox key"),
            }
        }
        if refused > 0 {
            warn!(
                count = refused,
                "messages to a reporter failed signature verification and were not shown"
            );
            self.store
                .audit(
                    crate::store::AuditEntry::new("bot", "reply.refused")
                        .case(case.code.as_str())
                        .detail(format!("{refused} unsigned or invalid")),
                )
                .await?;
        }
        Ok(messages)
    }

    /// Seals the reporter's reply to the case of their /status conversation; `false` when the
    /// conversation ended meanwhile (nothing stored).
    pub(super) async fn store_reply(&self, text: &str, user: &User) -> Result<bool, HandlerError> {
        let p = self.secret.pseudonym(telegram_id(user));
        let Some(case_id) = self.status_session(&p) else {
            return Ok(false);
        };
        self.seal_reply(&case_id, text).await?;
        Ok(true)
    }

    async fn seal_reply(&self, case_id: &CaseId, text: &str) -> Result<(), HandlerError> {
        let ring = self.trust.sealing_keyring(&self.store).await?;
        let sealed = Sealed::seal(
            &TextMessage {
                text: text.to_owned(),
            },
            ItemKind::FromReporter,
            case_id,
            &ring.reviewers,
        )?;
        self.store
            .add_item(
                case_id,
                &NewItem::from_bot(ItemKind::FromReporter, sealed.into_bytes()),
                "reporter",
            )
            .await?;
        Ok(())
    }
}

/// Whether `item` (a reply to the reporter) carries a valid signature of the reviewer that
/// uploaded it, by the verification key the signed keyring gives that reviewer.
fn reply_is_signed(
    ring: &crate::trust::VerifiedKeyring,
    signatures: &HashMap<i64, (i64, Vec<u8>)>,
    item: &crate::store::ItemRow,
    mailbox: &crate::crypto::PublicKey,
) -> bool {
    let (Some((seq, sig)), Some(author)) = (signatures.get(&item.id), item.author) else {
        return false;
    };
    let Ok(sig) = crate::crypto::sign::Signature::from_slice(sig) else {
        return false;
    };
    let message = crate::trust::reply_message(&item.case_id, *seq, mailbox, &item.blob);
    ring.members
        .iter()
        .filter(|m| m.role == crate::crypto::RecipientRole::Reviewer && m.key.key_id() == author)
        .any(|m| {
            m.verify
                .verify(crate::trust::REPLY_CONTEXT, &message, &sig)
                .is_ok()
        })
}
