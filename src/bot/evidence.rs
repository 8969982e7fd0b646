//! Evidence files in the dialogue: fetched from Telegram into memory, checked when they
//! arrive (so the reporter hears what cleaning will and will not do), and at submission
//! fetched again, cleaned and sealed: the cleaned copy to reviewers, the untouched original
//! to custodians.
//!
//! Invariants:
//! - File bytes exist only in memory, in zeroizing buffers; never on disk, never logged. The
//!   draft keeps Telegram's file id, the format and a SHA-256 of the bytes, never the bytes
//!   (a 20 MB file would otherwise be re-encrypted into the draft at every step).
//! - The file name a reporter's device gave a document is never read: sealed files are named
//!   `attachment-N.ext`, the extension from the format recognised by content.
//! - At submission the bytes fetched again must hash to what was checked, so the summary
//!   the reporter approved describes exactly the files sent.
//! - Cleaning is CPU-bound: it runs on blocking threads, at most [`CLEANING_AT_ONCE`] files
//!   at a time across all chats, which also bounds memory.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::FileId;
use tokio::sync::Semaphore;
use zeroize::{Zeroize, Zeroizing};

use super::TgBot;
use super::draft::DraftAttachment;
use super::summary::attachment_name;
use crate::attach::EvidenceFile;
use crate::attach::clean::{self, Format, Outcome};
use crate::crypto::{CryptoError, ItemKind, PublicKey, Sealed};
use crate::dialogue::files::FileCheck;
use crate::ids::CaseId;
use crate::store::NewItem;

/// The largest file the Bot API lets a bot download (getFile), in bytes.
pub const TELEGRAM_DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// Files cleaned at once across all chats.
pub const CLEANING_AT_ONCE: usize = 2;

/// Evidence bytes held at once across all chats, at least (MiB): see [`Budget`].
pub const DOWNLOAD_BUDGET_MIB: u32 = 128;

/// How many bytes of evidence files the bot holds in memory at once, across all chats. A
/// download is admitted only when its size (which the Bot API gives before the download)
/// fits; the admission lasts until the bytes are dropped (after checking a file, or after a
/// report's files are sealed), and others wait. Many people sending large files at once then
/// queue instead of exhausting memory. A request for more than the whole budget (a report
/// larger than it, if limits are raised) is admitted as the whole budget, so nothing waits
/// for ever.
pub struct Budget {
    permits: Arc<Semaphore>,
    total_mib: u32,
}

/// Bytes admitted by [`Budget::admit`], given back when dropped.
pub struct Admission {
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Budget {
    /// A budget of `total_mib` MiB (at least 1).
    pub fn new(total_mib: u32) -> Self {
        let total_mib = total_mib.max(1);
        Self {
            permits: Arc::new(Semaphore::new(total_mib as usize)),
            total_mib,
        }
    }

    /// Waits until `bytes` bytes fit in the budget and admits them.
    pub async fn admit(&self, bytes: u64) -> Admission {
        let mib = u32::try_from(bytes.div_ceil(1024 * 1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total_mib);
        Admission {
            // The semaphore is never closed, so acquiring only waits.
            _permit: Arc::clone(&self.permits).acquire_many_owned(mib).await.ok(),
        }
    }

    /// MiB free now (tests and metrics).
    pub fn available_mib(&self) -> usize {
        self.permits.available_permits()
    }
}

/// A file as it arrived in a message.
pub use crate::dialogue::event::IncomingFile as Incoming;

/// Why a file could not be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Larger than Telegram lets bots download.
    #[error("the file is larger than the Bot API download limit")]
    TooBig,
    /// The Bot API or the download failed.
    #[error("the file could not be fetched")]
    Failed,
    /// The bytes fetched at submission are not the ones checked earlier.
    #[error("the file changed since it was checked")]
    Changed,
}

/// Fetches a file's bytes into memory, once `budget` (when given) admits its size; the
/// admission is returned with the bytes and must live as long as they do.
pub async fn fetch(
    bot: &TgBot,
    budget: Option<&Budget>,
    file_id: &str,
) -> Result<(Zeroizing<Vec<u8>>, Option<Admission>), FetchError> {
    let file = super::outgoing::deliver(bot.get_file(FileId(file_id.to_owned())))
        .await
        .map_err(|e| {
            // The Bot API refuses getFile above 20 MB with "file is too big".
            if matches!(&e, teloxide::RequestError::Api(api) if api.to_string().contains("too big"))
            {
                FetchError::TooBig
            } else {
                tracing::debug!(error = %super::request_error_kind(&e), "getFile failed");
                FetchError::Failed
            }
        })?;
    if u64::from(file.size) > TELEGRAM_DOWNLOAD_LIMIT {
        return Err(FetchError::TooBig);
    }
    let admission = match budget {
        Some(b) => Some(b.admit(u64::from(file.size)).await),
        None => None,
    };
    let mut buf = Zeroizing::new(Vec::with_capacity(file.size as usize));
    // One retry for a dropped download; the partial bytes are zeroized with the buffer.
    if bot.download_file(&file.path, &mut *buf).await.is_err() {
        buf.zeroize();
        buf.clear();
        bot.download_file(&file.path, &mut *buf)
            .await
            .map_err(|_| FetchError::Failed)?;
    }
    if buf.len() as u64 > TELEGRAM_DOWNLOAD_LIMIT {
        return Err(FetchError::TooBig);
    }
    Ok((buf, admission))
}

/// What cleaning does to one file.
struct Cleaning {
    format: Format,
    /// Reviewers get a cleaned copy (metadata removed, none found, or removed in part).
    cleanable: bool,
    removed: Vec<String>,
    /// What the cleaned copy still holds (parts that could not be cleaned).
    remaining: Vec<String>,
    /// The file could not be checked: not cleanable, and not because of its format.
    unchecked: Option<Unchecked>,
    /// The cleaned bytes; `None` when reviewers get the file as sent.
    cleaned: Option<Zeroizing<Vec<u8>>>,
}

/// Why a file could not be checked.
#[derive(Clone, Copy)]
enum Unchecked {
    /// It does not parse as the format it claims (or could not be written back).
    Malformed,
    /// It, or a container inside it, exceeds the cleaner's limits.
    TooLarge,
}

fn labels(words: &[&'static str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn run_clean(bytes: &[u8]) -> Cleaning {
    match clean::clean(bytes) {
        Ok(c) => {
            let format = c.format;
            let (cleanable, removed, remaining) = match &c.outcome {
                Outcome::Cleaned { removed } => (true, labels(removed), Vec::new()),
                Outcome::NothingFound => (true, Vec::new(), Vec::new()),
                Outcome::Partial { removed, remaining } => {
                    (true, labels(removed), labels(remaining))
                }
                Outcome::NotCleanable => (false, Vec::new(), Vec::new()),
            };
            Cleaning {
                format,
                cleanable,
                removed,
                remaining,
                unchecked: None,
                // Dropping `c.bytes` (the original, for NotCleanable) zeroes it.
                cleaned: cleanable.then_some(c.bytes),
            }
        }
        // Fail closed: a file that claims a format but cannot be parsed is passed on only as
        // "could not be checked", never as clean, and never described as a format problem.
        Err(e) => {
            let (format, why) = match e {
                clean::CleanError::Malformed { format } | clean::CleanError::Rewrite { format } => {
                    (format, Unchecked::Malformed)
                }
                clean::CleanError::TooLarge { format } => (format, Unchecked::TooLarge),
            };
            Cleaning {
                format,
                cleanable: false,
                removed: Vec::new(),
                remaining: Vec::new(),
                unchecked: Some(why),
                cleaned: None,
            }
        }
    }
}

/// What the sealed copy's note says about its metadata, for reviewers (in English, like
/// the cleaner's labels).
fn reviewer_note(c: &Cleaning) -> String {
    match c.unchecked {
        Some(Unchecked::Malformed) => {
            return format!(
                "could not be checked (the file did not parse as {}): hidden data not removed",
                c.format.label()
            );
        }
        Some(Unchecked::TooLarge) => {
            return format!(
                "could not be checked (the {} file expands beyond the cleaning limits): hidden data not removed",
                c.format.label()
            );
        }
        None => {}
    }
    if !c.cleanable {
        return format!("metadata not removed: format {}", c.format.label());
    }
    if c.remaining.is_empty() {
        return c.removed.join(", ");
    }
    let left = format!("not removed: {}", c.remaining.join(", "));
    if c.removed.is_empty() {
        left
    } else {
        format!("removed: {}; {left}", c.removed.join(", "))
    }
}

async fn clean_blocking(
    limiter: &Semaphore,
    bytes: Arc<Zeroizing<Vec<u8>>>,
) -> Result<Cleaning, FetchError> {
    let _permit = limiter.acquire().await.map_err(|_| FetchError::Failed)?;
    tokio::task::spawn_blocking(move || run_clean(&bytes))
        .await
        .map_err(|_| FetchError::Failed)
}

pub use crate::dialogue::files::warning;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks a file that just arrived: what it is and what cleaning will remove.
pub async fn check(
    limiter: &Semaphore,
    incoming: &Incoming,
    bytes: Zeroizing<Vec<u8>>,
) -> Result<DraftAttachment, FetchError> {
    let size = bytes.len() as u64;
    let sha256 = sha256_hex(&bytes);
    let c = clean_blocking(limiter, Arc::new(bytes)).await?;
    Ok(DraftAttachment {
        file_id: incoming.file_id.clone(),
        media: incoming.media,
        size,
        sha256,
        format: c.format.label().to_owned(),
        extension: c.format.extension().to_owned(),
        cleanable: c.cleanable,
        removed: c.removed,
        remaining: c.remaining,
        unchecked: c.unchecked.is_some(),
    })
}

/// One file ready to seal: the copy for reviewers and, if kept, the original for custodians.
pub struct Prepared {
    reviewed: EvidenceFile,
    original: Option<EvidenceFile>,
}

/// Fetches the `index`-th file again, checks it is the one the reporter approved, and
/// cleans it.
pub async fn prepare(
    bot: &TgBot,
    limiter: &Semaphore,
    index: usize,
    a: &DraftAttachment,
    keep_original: bool,
) -> Result<Prepared, FetchError> {
    // The caller admitted the whole report's files at once (no partial admissions to wait on
    // each other).
    let (bytes, _) = fetch(bot, None, &a.file_id).await?;
    if sha256_hex(&bytes) != a.sha256 {
        return Err(FetchError::Changed);
    }
    let bytes = Arc::new(bytes);
    let c = clean_blocking(limiter, Arc::clone(&bytes)).await?;
    let name = attachment_name(index, c.format.extension());
    let note = reviewer_note(&c);
    let metadata_removed = c.cleanable && c.remaining.is_empty();
    let original = keep_original.then(|| EvidenceFile {
        name: name.clone(),
        format: c.format.label().to_owned(),
        metadata_removed: false,
        note: "original as sent by the reporter".to_owned(),
        bytes: bytes.to_vec(),
    });
    let reviewed_bytes = match c.cleaned {
        // Moved out of the zeroizing buffer, into the EvidenceFile that zeroes on drop.
        Some(mut cleaned) => std::mem::take(&mut *cleaned),
        None => bytes.to_vec(),
    };
    Ok(Prepared {
        reviewed: EvidenceFile {
            name,
            format: c.format.label().to_owned(),
            metadata_removed,
            note,
            bytes: reviewed_bytes,
        },
        original,
    })
}

/// Seals prepared files for one case: each cleaned copy to the reviewers, each original to
/// the custodians like the identity (any `threshold` of them together). Runs on a blocking
/// thread (tens of megabytes of AES-GCM).
pub async fn seal_all(
    files: Arc<Vec<Prepared>>,
    case_id: CaseId,
    reviewers: Vec<PublicKey>,
    custodians: Vec<PublicKey>,
    threshold: u8,
) -> Result<Vec<NewItem>, CryptoError> {
    tokio::task::spawn_blocking(move || {
        let mut items = Vec::with_capacity(files.len() * 2);
        for f in files.iter() {
            let sealed = Sealed::seal(&f.reviewed, ItemKind::Attachment, &case_id, &reviewers)?;
            items.push(NewItem::from_bot(ItemKind::Attachment, sealed.into_bytes()));
            if let Some(o) = &f.original {
                let sealed = Sealed::seal_threshold(
                    o,
                    ItemKind::AttachmentOriginal,
                    &case_id,
                    &custodians,
                    threshold,
                )?;
                items.push(NewItem::from_bot(
                    ItemKind::AttachmentOriginal,
                    sealed.into_bytes(),
                ));
            }
        }
        Ok(items)
    })
    .await
    .map_err(|_| CryptoError::InvalidEnvelope)?
}

impl super::App {
    /// Fetches a file that just arrived and checks what cleaning will do, within the draft's
    /// byte limit; the download is admitted under the global budget and held until the bytes
    /// are dropped.
    pub(super) async fn check_file(
        &self,
        bot: &TgBot,
        d: &crate::dialogue::draft::Draft,
        file: &Incoming,
    ) -> FileCheck {
        let used: u64 = d.attachments.iter().map(|a| a.size).sum();
        let checked = match fetch(bot, Some(&self.downloads), &file.file_id).await {
            Ok((bytes, _)) if used + bytes.len() as u64 > self.limits.max_attachment_bytes => {
                Err(FetchError::TooBig)
            }
            Ok((bytes, _admitted)) => check(&self.cleaning, file, bytes).await,
            Err(e) => Err(e),
        };
        match checked {
            Ok(a) => {
                tracing::info!(
                    format = a.format.as_str(),
                    cleanable = a.cleanable,
                    "evidence file checked"
                );
                FileCheck::Checked(a)
            }
            Err(FetchError::TooBig) => FileCheck::TooBig,
            Err(e) => {
                tracing::warn!(error = %e, "an evidence file could not be fetched");
                FileCheck::Failed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;
    use std::time::Duration;

    #[tokio::test]
    async fn the_budget_admits_what_fits_and_queues_the_rest() {
        let budget = std::sync::Arc::new(Budget::new(100));
        let first = budget.admit(60 * 1024 * 1024).await;
        assert_eq!(budget.available_mib(), 40);
        // 50 MiB more does not fit: it waits until the first file's bytes are dropped.
        let b = std::sync::Arc::clone(&budget);
        let waiting = tokio::spawn(async move { b.admit(50 * 1024 * 1024).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(budget.available_mib(), 50);
        drop(second);
        // More than the whole budget is admitted as the whole budget: nothing waits for ever.
        let all = tokio::time::timeout(Duration::from_secs(5), budget.admit(u64::MAX))
            .await
            .unwrap();
        assert_eq!(budget.available_mib(), 0);
        drop(all);
        // A small file still takes a whole MiB.
        let _tiny = budget.admit(10).await;
        assert_eq!(budget.available_mib(), 99);
    }
}
