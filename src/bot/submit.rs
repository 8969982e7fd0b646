//! The submission service: a report sealed and committed with its draft in one transaction,
//! and its receipt, issued again when a crash or Telegram kept the first from the reporter.

use std::sync::Arc;

use teloxide::types::{ChatId, User};
use tracing::warn;

use super::draft::{self, Draft, Step};
use super::handlers::telegram_id;
use super::summary::{CaseSummary, Identity};
use super::{App, HandlerError, TgBot, evidence};
use crate::clock::unix_now;
use crate::crypto::{ItemKind, Pseudonym, Receipt, Sealed};
use crate::dialogue::machine::{self, Submission};
use crate::dialogue::outbox::Outbox;
use crate::ids::CaseId;
use crate::store::{NewCase, NewItem, StoreError};

impl App {
    /// Seals and stores the report. The case, its items, its receipt lookup and the draft's
    /// new state ("submitted, receipt owed") commit in one transaction against the draft's
    /// version, so a crash leaves either nothing or a case whose receipt the next update (or
    /// the start-up sweep) delivers, and a second Send for the same draft submits nothing.
    pub(super) async fn submit(
        &self,
        bot: &TgBot,
        d: &Draft,
        user: &User,
        chat: ChatId,
        version: Option<i64>,
    ) -> Result<Submission, HandlerError> {
        let Some(summary) = CaseSummary::from_draft(d) else {
            return Ok(Submission::NotReady);
        };
        if !self.allow(user, "reports", 86_400, self.limits.reports_per_day) {
            return Ok(Submission::DailyLimit);
        }
        // Fetch and clean every file again before anything is committed: a failure leaves
        // the draft as it was, and the reporter can press Send again. The whole report's
        // bytes are admitted at once and held until they are sealed.
        let _admitted = if d.attachments.is_empty() {
            None
        } else {
            let total = d.attachments.iter().map(|a| a.size).sum();
            Some(self.downloads.admit(total).await)
        };
        let files = match self.prepare_files(bot, d).await {
            Ok(files) => Arc::new(files),
            Err(i) => return Ok(Submission::FileFailed(i)),
        };
        let receipt = Receipt::generate();
        let receipt_text = receipt.expose_text();
        let keys = self.receipts.derive(receipt).await?;
        let identity = identity_of(user, d);
        let p = self.secret.pseudonym(telegram_id(user));
        // Seal to the keyring as it is now; if it changes before the commit, seal again.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sealed = self
                .seal_case(d, &summary, &identity, &files, &keys, &p, chat, version)
                .await?;
            match self
                .store
                .submit_case_with_draft(&sealed.case, &sealed.draft.to_save(&p))
                .await
            {
                Err(StoreError::Conflict) if attempt < 3 => continue,
                // Another turn (a second Send, perhaps on another replica) changed the draft
                // first: it submitted, or the report moved on. Nothing was written.
                Err(StoreError::StaleDraft) => {
                    self.drafts.forget(&p);
                    return Ok(Submission::AlreadySent);
                }
                Err(e) => return Err(e.into()),
                Ok((code, version)) => {
                    self.keep_draft(&p, &sealed.after, version);
                    // No case code and no info line here: a log line has a precise time, the
                    // database only the day.
                    tracing::debug!("report submitted");
                    crate::metrics::METRICS.report_submitted();
                    return Ok(Submission::Done {
                        code: code.to_string(),
                        receipt: receipt_text.clone(),
                        after: Box::new(sealed.after),
                        version,
                    });
                }
            }
        }
    }

    /// Every file of the draft fetched and cleaned again; the index of the first that fails.
    async fn prepare_files(
        &self,
        bot: &TgBot,
        d: &Draft,
    ) -> Result<Vec<evidence::Prepared>, usize> {
        let mut files = Vec::with_capacity(d.attachments.len());
        for (i, a) in d.attachments.iter().enumerate() {
            let keep = self.limits.keep_original_attachments;
            match evidence::prepare(bot, &self.cleaning, i, a, keep).await {
                Ok(p) => files.push(p),
                Err(e) => {
                    warn!(error = %e, "an evidence file could not be prepared; nothing submitted");
                    return Err(i);
                }
            }
        }
        Ok(files)
    }

    /// The case and the draft after it, sealed to the keyring as it is now.
    #[allow(clippy::too_many_arguments)]
    async fn seal_case(
        &self,
        d: &Draft,
        summary: &CaseSummary,
        identity: &Identity,
        files: &Arc<Vec<evidence::Prepared>>,
        keys: &crate::crypto::receipt::ReceiptKeys,
        p: &Pseudonym,
        chat: ChatId,
        version: Option<i64>,
    ) -> Result<SealedCase, HandlerError> {
        let ring = self.trust.sealing_keyring(&self.store).await?;
        let case_id = CaseId::random();
        let sealed_summary = Sealed::seal(summary, ItemKind::Summary, &case_id, &ring.reviewers)?;
        // k custodians open the identity together; none alone once there are two.
        let sealed_identity = Sealed::seal_threshold(
            identity,
            ItemKind::Identity,
            &case_id,
            &ring.custodians,
            ring.threshold,
        )?;
        let mut items = vec![
            NewItem::from_bot(ItemKind::Summary, sealed_summary.into_bytes()),
            NewItem::from_bot(ItemKind::Identity, sealed_identity.into_bytes()),
        ];
        if !files.is_empty() {
            items.extend(
                evidence::seal_all(
                    Arc::clone(files),
                    case_id,
                    ring.reviewers.clone(),
                    ring.custodians.clone(),
                    ring.threshold,
                )
                .await?,
            );
        }
        let after = machine::submitted_draft(d, case_id.to_string(), chat.0);
        let draft = draft::seal(&self.secret, p, &after, version, self.retention.draft_hours)?;
        let case = NewCase {
            id: case_id,
            category: summary.category.clone(),
            epoch: ring.epoch,
            items,
            lookup_id: keys.lookup_id,
            mailbox_public: keys.mailbox_public,
        };
        Ok(SealedCase { case, draft, after })
    }

    /// Settles the receipt a committed submission still owes ([`draft::OwedReceipt`]): records
    /// a delivery this process saw but could not save, or issues a fresh receipt for the case
    /// (new lookup id and mailbox key, replacing the unseen ones, audited) and sends it. The
    /// receipt itself is never stored, so a seizure finds none. Returns the draft's version
    /// afterwards and whether a receipt message answered the turn.
    pub(super) async fn settle_owed(
        &self,
        bot: &TgBot,
        chat: ChatId,
        p: &Pseudonym,
        d: &mut Draft,
        version: Option<i64>,
    ) -> Result<(Option<i64>, bool), HandlerError> {
        let Some(owed) = d.owed.clone() else {
            return Ok((version, false));
        };
        if let Some(msg) = self.take_delivered(p) {
            if d.step == Some(Step::Submitted) {
                // Delivered earlier: the submitted report's draft goes now.
                self.delete_draft(p).await?;
                return Ok((None, false));
            }
            d.owed = None;
            d.receipt_message = Some(msg);
            d.track([msg]);
            let v = self.save_draft(p, d, version).await?;
            return Ok((Some(v), false));
        }
        let Some(case_id) = CaseId::parse(&owed.case_id) else {
            // Cannot happen with drafts this code wrote; nothing can be delivered for it.
            d.owed = None;
            let v = self.save_draft(p, d, version).await?;
            return Ok((Some(v), false));
        };
        let receipt = Receipt::generate();
        let receipt_text = receipt.expose_text();
        let keys = self.receipts.derive(receipt).await?;
        machine::reissuing(d);
        let sealed = draft::seal(&self.secret, p, d, version, self.retention.draft_hours)?;
        let reissued = self
            .store
            .reissue_receipt(
                &case_id,
                &keys.lookup_id,
                &keys.mailbox_public,
                &sealed.to_save(p),
            )
            .await;
        let (code, v) = match reissued {
            Ok(r) => r,
            Err(crate::store::StoreError::NotFound) => {
                // The case is gone (purged): there is nothing left to open.
                d.owed = None;
                let v = self.save_draft(p, d, version).await?;
                return Ok((Some(v), false));
            }
            Err(e) => {
                self.drafts.forget(p);
                return Err(e.into());
            }
        };
        self.keep_draft(p, d, v);
        // No case code and no info line: the time of a log line must not date a report.
        tracing::debug!("an owed receipt was issued again");
        let mut out = Outbox::new(&self.limits);
        machine::receipt_reissued(d, code.as_str(), &receipt_text, &mut out);
        let sent = self.send(bot, chat, d, out).await;
        let v = if sent.changes_draft() {
            self.record_sent(p, d, Some(v), &sent).await
        } else {
            Some(v)
        };
        Ok((v, true))
    }

    /// Delivers, at start-up, the receipts that a crash left owed (see
    /// [`App::settle_owed`]), so a reporter who pressed Send just before it hears the truth
    /// without having to write again. Every stored draft is opened (only the bot's key can
    /// tell which owe one), a page at a time. Returns how many were delivered or settled.
    pub async fn deliver_owed_receipts(&self, bot: &TgBot) -> usize {
        let mut after: Option<Pseudonym> = None;
        let mut settled = 0;
        loop {
            let page = match self.store.drafts_page(after.as_ref(), 200).await {
                Ok(page) => page,
                Err(e) => {
                    warn!(error = %e, "could not look for owed receipts");
                    return settled;
                }
            };
            let Some((last, _)) = page.last() else {
                return settled;
            };
            after = Some(*last);
            let now = unix_now();
            for (p, row) in page {
                let owes = row.expires_at > now
                    && draft::open(&self.secret, &p, &row).is_ok_and(|d| d.owed.is_some());
                if owes && self.settle_owed_of(bot, &p).await {
                    settled += 1;
                }
            }
        }
    }

    /// [`App::settle_owed`] for one stored draft, under the person's cross-replica lock
    /// and on a fresh read (a replica may have served the person meanwhile).
    async fn settle_owed_of(&self, bot: &TgBot, p: &Pseudonym) -> bool {
        let mut key = [0u8; 8];
        key.copy_from_slice(&p.0[..8]);
        let lock = match self
            .store
            .lock_chat(i64::from_be_bytes(key), std::time::Duration::from_secs(5))
            .await
        {
            Ok(l) => l,
            Err(e) => {
                warn!(error = %e, "could not lock a draft that owes a receipt");
                return false;
            }
        };
        let loaded = self.store.load_draft(p, unix_now()).await;
        let mut done = false;
        if let Ok(Some(row)) = loaded
            && let Ok(mut d) = draft::open(&self.secret, p, &row)
            && let Some(owed) = d.owed.clone()
        {
            match self
                .settle_owed(bot, ChatId(owed.chat), p, &mut d, Some(row.version))
                .await
            {
                Ok(_) => done = true,
                Err(e) => warn!(error = %e, "an owed receipt could not be issued at start-up"),
            }
        }
        lock.release().await;
        done
    }
}

/// A case ready to commit, with the draft that commits with it.
struct SealedCase {
    case: NewCase,
    draft: draft::SealedDraft,
    after: Draft,
}

/// Who reported, sealed to the custodians only: what Telegram says of the person, and the
/// contact details they chose to give.
fn identity_of(user: &User, d: &Draft) -> Identity {
    Identity {
        telegram_user_id: telegram_id(user),
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        language_code: user.language_code.clone(),
        contact: d.contact.clone(),
    }
}
