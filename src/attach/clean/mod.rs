//! Removal of identifying metadata from evidence files before reviewers see them.
//!
//! Reporters give themselves away through the files they attach far more often than
//! through what they write: GPS coordinates and camera serial numbers in a photo, the
//! author of a PDF, the creator of a DOCX, tracked-change authors, an encoder tag in a
//! voice note. [`clean`] takes the bytes of one attachment, recognises its format by
//! content ([`sniff`], never by file name) and returns a copy with that metadata removed.
//! The untouched original is sealed for custodians elsewhere; this module never sees keys.
//!
//! Invariants:
//! - Everything happens in memory: no temporary files, no logging of content, names or
//!   sizes. Errors ([`CleanError`]) carry only the format and a coarse kind.
//! - Fail closed: if a file claims to be a format we clean but its own structure cannot be
//!   parsed, the result is an error, never a half-cleaned copy presented as clean. A part
//!   inside it that cannot be cleaned (an embedded OLE object or video, an embedded file or
//!   image that does not parse) stays as it was and the outcome is [`Outcome::Partial`],
//!   naming what remains: the rest of the file is still cleaned, and the caller tells the
//!   reporter what was left.
//! - [`Outcome::NotCleanable`] returns the original bytes unchanged so the caller can flag
//!   the file to the reporter and in the summary; it is never silently passed as clean.
//!   Neither is [`Outcome::Partial`].
//! - File bytes are held in zeroizing buffers ([`Buf`]) here and in the cleaners' own
//!   copies where the libraries allow it (img-parts buffers, zip members, lopdf objects).
//! - [`clean`] never panics: the cleaners are written without panicking paths, and each
//!   one (including the third-party parsers it calls) additionally runs under
//!   `catch_unwind`, so a panic becomes [`CleanError::Malformed`] instead of taking the bot
//!   down. (The process's panic hook still prints the panic's source location; no cleaner
//!   puts content in a panic message.) Work and memory are linear in the input and bounded
//!   by the limits below.
//! - `clean` is CPU-bound and synchronous: async callers should run it on
//!   `tokio::task::spawn_blocking`.
//!
//! One file per format family: `jpeg.rs`, `png.rs`, `webp.rs` (img-parts), `gif.rs`
//! (hand-written), `pdf.rs` (lopdf) with `jp2.rs` for its JPEG 2000 images (hand-written),
//! `ooxml.rs` and `odf.rs` (both on the shared zip and XML rewriters in `archive.rs` and
//! `xml.rs`: zip, quick-xml) and `ogg.rs` (hand-written Ogg Opus comment-header
//! rewriting). Each file's header lists exactly what it removes.

mod archive;
mod gif;
mod jp2;
mod jpeg;
mod odf;
mod ogg;
mod ooxml;
mod pdf;
mod png;
mod webp;
mod xml;

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use zeroize::Zeroizing;

/// Largest input [`clean`] accepts. Telegram's Bot API serves files up to 20 MB; the
/// margin allows a local Bot API server without letting one file exhaust memory.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Largest total size the members of one zip container (DOCX, ODT …) may decompress to.
/// Guards against zip bombs; real office documents stay far below it.
pub const MAX_UNZIPPED_BYTES: u64 = 256 * 1024 * 1024;

/// Most members one zip container may hold.
pub const MAX_ZIP_ENTRIES: usize = 10_000;

/// How deep documents embedded in documents are cleaned (a chart's workbook inside a
/// DOCX is depth 1). Deeper nesting is rejected as malformed rather than recursed into.
const MAX_NESTING: u8 = 3;

/// A file format, recognised by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG image.
    Jpeg,
    /// PNG image (including APNG).
    Png,
    /// WebP image.
    WebP,
    /// GIF image.
    Gif,
    /// PDF document.
    Pdf,
    /// Word document (Office Open XML).
    Docx,
    /// Excel workbook (Office Open XML).
    Xlsx,
    /// PowerPoint presentation (Office Open XML).
    Pptx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
    /// Ogg container holding only Opus audio (Telegram voice notes).
    OggOpus,
    /// UTF-8 plain text (not markup, not RTF, not PostScript).
    PlainText,
    /// MP4 / QuickTime / 3GP audio or video.
    Mp4,
    /// MP3 audio.
    Mp3,
    /// HEIF/HEIC/AVIF image (iPhone photos sent as files); not cleanable here.
    Heif,
    /// Anything else.
    Other,
}

impl Format {
    /// File name extension (without dot) to use when handing the cleaned copy out.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::WebP => "webp",
            Format::Gif => "gif",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::OggOpus => "ogg",
            Format::PlainText => "txt",
            Format::Mp4 => "mp4",
            Format::Mp3 => "mp3",
            Format::Heif => "heif",
            Format::Other => "bin",
        }
    }

    /// Short human name of the format, for summaries shown to reviewers and reporters.
    pub fn label(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::WebP => "WebP",
            Format::Gif => "GIF",
            Format::Pdf => "PDF",
            Format::Docx => "Word document",
            Format::Xlsx => "Excel workbook",
            Format::Pptx => "PowerPoint presentation",
            Format::Odt => "OpenDocument text",
            Format::Ods => "OpenDocument spreadsheet",
            Format::Odp => "OpenDocument presentation",
            Format::OggOpus => "Ogg Opus audio",
            Format::PlainText => "plain text",
            Format::Mp4 => "MP4/QuickTime media",
            Format::Mp3 => "MP3 audio",
            Format::Heif => "HEIF/AVIF image",
            Format::Other => "unrecognised file",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What cleaning did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Metadata was found and removed; each entry names one kind, in human words
    /// (e.g. `"EXIF (incl. GPS, camera serial, thumbnail)"`, `"XMP"`, `"comment"`).
    Cleaned {
        /// Kinds of metadata removed, without duplicates.
        removed: Vec<&'static str>,
    },
    /// The file was checked (and possibly normalised) and carried no metadata we remove.
    NothingFound,
    /// Metadata was removed where it could be, but the file holds parts this module cannot
    /// clean (an embedded OLE object, an embedded video, a file attached inside a PDF in a
    /// format we cannot clean …). The returned bytes are the cleaned copy; the caller must tell
    /// the reporter what remains, as for [`Outcome::NotCleanable`].
    Partial {
        /// Kinds of metadata removed (possibly empty), without duplicates.
        removed: Vec<&'static str>,
        /// What was left in the file, in human words, without duplicates; never empty.
        remaining: Vec<&'static str>,
    },
    /// We cannot clean this format (audio/video, HEIF, encrypted documents, unknown files).
    /// The returned bytes are the original; the caller must flag this to the reporter.
    NotCleanable,
}

/// The result of [`clean`]. No derived `Debug`: it holds the file.
pub struct Cleaned {
    /// The format recognised by content.
    pub format: Format,
    /// The cleaned bytes (the original bytes for [`Outcome::NotCleanable`]), wiped on drop.
    pub bytes: Buf,
    /// What was done.
    pub outcome: Outcome,
}

impl fmt::Debug for Cleaned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cleaned")
            .field("format", &self.format)
            .field("len", &self.bytes.len())
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// File bytes in memory: zeroed when dropped, so a freed buffer does not keep a reporter's
/// file (or its metadata) around in the heap.
pub type Buf = Zeroizing<Vec<u8>>;

/// Why a file could not be cleaned. Deliberately coarse: it never carries content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CleanError {
    /// The file looks like `format` but its structure could not be parsed (or an image
    /// embedded in it could not be), so no cleaned copy was produced.
    #[error("the {format} file is malformed and could not be cleaned")]
    Malformed {
        /// The format recognised by content.
        format: Format,
    },
    /// The input, or what a container inside it expands to, exceeds a safety limit.
    #[error("the {format} file is too large to clean")]
    TooLarge {
        /// The format recognised by content (`Other` when rejected before sniffing).
        format: Format,
    },
    /// Writing the cleaned copy failed. Writers here target memory, so this indicates
    /// an inconsistency in the rebuilt structure rather than an I/O problem.
    #[error("the cleaned {format} file could not be written")]
    Rewrite {
        /// The format recognised by content.
        format: Format,
    },
}

/// Recognise the format of `bytes` by content (magic bytes; for zip containers the
/// `mimetype` member or the OOXML part layout). The file name is never consulted: a
/// reporter's file name is untrusted and may itself be identifying.
pub fn sniff(bytes: &[u8]) -> Format {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Format::Jpeg;
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Format::Png;
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Format::WebP;
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Format::Gif;
    }
    // Readers accept a PDF header anywhere in the first kilobyte.
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Format::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return archive::sniff_zip(bytes);
    }
    if bytes.starts_with(b"OggS") {
        return if ogg::is_opus(bytes) {
            Format::OggOpus
        } else {
            Format::Other
        };
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return match &bytes[8..12] {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1"
            | b"avif" | b"avis" => Format::Heif,
            _ => Format::Mp4,
        };
    }
    if bytes.starts_with(b"ID3") || is_mpeg_audio_frame(bytes) {
        return Format::Mp3;
    }
    if is_plain_text(bytes) {
        return Format::PlainText;
    }
    Format::Other
}

/// An MPEG-1/2 layer I–III frame header: 11 sync bits, a defined version and layer, and
/// a bitrate and sample-rate index that are not reserved.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    match bytes {
        [0xFF, b1, b2, ..] => {
            let sync = b1 & 0xE0 == 0xE0;
            let version_ok = (b1 >> 3) & 0b11 != 0b01;
            let layer_ok = (b1 >> 1) & 0b11 != 0;
            let bitrate_ok = b2 >> 4 != 0xF;
            let rate_ok = (b2 >> 2) & 0b11 != 0b11;
            sync && version_ok && layer_ok && bitrate_ok && rate_ok
        }
        _ => false,
    }
}

/// Plain text means UTF-8 without control characters other than whitespace, and not a
/// text-based format that carries metadata of its own (markup such as SVG/HTML/XML with
/// `<metadata>`, RTF with its `\info` group, PostScript with `%%Creator`): those must not
/// be waved through as "nothing found".
fn is_plain_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
    {
        return false;
    }
    let start = text.trim_start_matches('\u{feff}').trim_start();
    !(start.starts_with('<') || start.starts_with("{\\rtf") || start.starts_with("%!"))
}

/// Remove identifying metadata from one attachment. See the module documentation for the
/// guarantees; the per-format rules are documented in each format's file.
pub fn clean(bytes: &[u8]) -> Result<Cleaned, CleanError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(CleanError::TooLarge {
            format: Format::Other,
        });
    }
    clean_nested(bytes, 0)
}

/// What a cleaner says it did: the kinds of metadata removed, and what it had to leave in
/// (parts it cannot clean). Both in human words, possibly with duplicates.
#[derive(Default)]
pub(crate) struct Labels {
    /// Kinds of metadata removed.
    pub(crate) removed: Vec<&'static str>,
    /// Parts left as they were, which may still carry metadata.
    pub(crate) remaining: Vec<&'static str>,
}

impl Labels {
    /// Only removals.
    pub(crate) fn removed(removed: Vec<&'static str>) -> Self {
        Labels {
            removed,
            remaining: Vec::new(),
        }
    }

    /// Add another's labels (a nested part's) to these.
    pub(crate) fn extend(&mut self, other: Labels) {
        self.removed.extend(other.removed);
        self.remaining.extend(other.remaining);
    }
}

/// A cleaner's answer before it is packaged into [`Cleaned`]: either new bytes with what was
/// removed and what was left, or "not cleanable".
pub(crate) enum Step {
    /// Rewritten bytes and the labels of what was removed and what remains.
    Done(Buf, Labels),
    /// The file cannot be cleaned (e.g. encrypted); hand back the original.
    NotCleanable,
}

impl Step {
    /// A rewrite that removed `removed` and left nothing behind.
    pub(crate) fn cleaned(bytes: Vec<u8>, removed: Vec<&'static str>) -> Self {
        Step::Done(Zeroizing::new(bytes), Labels::removed(removed))
    }
}

/// Rewritten bytes and the labels of what was removed from them.
pub(crate) type Rewritten = (Buf, Labels);

/// [`clean`] at a nesting depth, used again for documents embedded in documents.
pub(crate) fn clean_nested(bytes: &[u8], depth: u8) -> Result<Cleaned, CleanError> {
    let format = sniff(bytes);
    if depth > MAX_NESTING {
        return Err(CleanError::Malformed { format });
    }
    let step = match format {
        Format::Jpeg => guarded(format, || jpeg::clean(bytes, jpeg::Orientation::Keep))?,
        Format::Png => guarded(format, || png::clean(bytes))?,
        Format::WebP => guarded(format, || webp::clean(bytes))?,
        Format::Gif => guarded(format, || gif::clean(bytes))?,
        Format::Pdf => guarded(format, || pdf::clean(bytes, depth))?,
        Format::Docx | Format::Xlsx | Format::Pptx => {
            guarded(format, || ooxml::clean(bytes, format, depth))?
        }
        Format::Odt | Format::Ods | Format::Odp => {
            guarded(format, || odf::clean(bytes, format, depth))?
        }
        Format::OggOpus => guarded(format, || ogg::clean(bytes))?,
        Format::PlainText => Step::cleaned(bytes.to_vec(), Vec::new()),
        Format::Mp4 | Format::Mp3 | Format::Heif | Format::Other => Step::NotCleanable,
    };
    Ok(match step {
        Step::Done(out, labels) => {
            let removed = dedup(labels.removed);
            let outcome = if !labels.remaining.is_empty() {
                Outcome::Partial {
                    removed,
                    remaining: dedup(labels.remaining),
                }
            } else if removed.is_empty() {
                Outcome::NothingFound
            } else {
                Outcome::Cleaned { removed }
            };
            Cleaned {
                format,
                bytes: out,
                outcome,
            }
        }
        Step::NotCleanable => Cleaned {
            format,
            bytes: Zeroizing::new(bytes.to_vec()),
            outcome: Outcome::NotCleanable,
        },
    })
}

/// Clean an image embedded in another file (a photo pasted into a DOCX, a JPEG stream in
/// a PDF). Returns `None` when `bytes` is not an image format we clean, so the caller can
/// decide; errors propagate so a broken embedded image fails the whole document closed.
pub(crate) fn clean_embedded_image(
    bytes: &[u8],
    orientation: jpeg::Orientation,
) -> Option<Result<Rewritten, CleanError>> {
    let format = sniff(bytes);
    let step = match format {
        Format::Jpeg => guarded(format, || jpeg::clean(bytes, orientation)),
        Format::Png => guarded(format, || png::clean(bytes)),
        Format::WebP => guarded(format, || webp::clean(bytes)),
        Format::Gif => guarded(format, || gif::clean(bytes)),
        _ => return None,
    };
    Some(step.and_then(|step| match step {
        Step::Done(out, labels) => Ok((out, labels)),
        // Image cleaners never answer NotCleanable; treat it as a failure to stay closed.
        Step::NotCleanable => Err(CleanError::Malformed { format }),
    }))
}

/// Run a cleaner, turning a panic inside it (most plausibly in a third-party parser) into
/// [`CleanError::Malformed`] so that hostile input cannot take the bot down.
/// The closures only read the input slice and build fresh values, so no state that a
/// panic could leave half-updated is observed afterwards.
fn guarded<F>(format: Format, f: F) -> Result<Step, CleanError>
where
    F: FnOnce() -> Result<Step, CleanError>,
{
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(CleanError::Malformed { format }))
}

/// Keep the first occurrence of each label, in order.
fn dedup(labels: Vec<&'static str>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::with_capacity(labels.len());
    for label in labels {
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// Shared helpers for the byte-level cleaners.
pub(crate) mod bytes_util {
    use zeroize::Zeroizing;

    /// A copy of `input` as `img_parts::Bytes` whose buffer is zeroed when the last slice
    /// of it is dropped (img-parts keeps slices of its input rather than copies).
    pub(crate) fn wiped_copy(input: &[u8]) -> img_parts::Bytes {
        img_parts::Bytes::from_owner(Zeroizing::new(input.to_vec()))
    }

    /// Read a big-endian `u16` at `at`, or `None` past the end.
    pub(crate) fn be_u16(data: &[u8], at: usize) -> Option<u16> {
        let b = data.get(at..at.checked_add(2)?)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
}
