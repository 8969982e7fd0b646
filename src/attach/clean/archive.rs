//! Zip containers (OOXML and ODF) read into memory and written back fresh with `zip`.
//!
//! Writing a new archive rather than patching the old one also drops what the zip layer
//! itself leaks: member timestamps (set to 1980-01-01), Unix owner ids and extended
//! timestamps in extra fields, file and archive comments, and any bytes outside the
//! members the central directory lists.
//!
//! Invariants: members are read only up to [`MAX_UNZIPPED_BYTES`] in total and at most
//! [`MAX_ZIP_ENTRIES`] of them (zip bombs give `TooLarge`); an encrypted member makes the
//! whole file not cleanable; nothing touches the disk.

use std::io::{Cursor, Read, Write};
use std::panic::{self, AssertUnwindSafe};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::jpeg::Orientation;
use super::{Buf, CleanError, Format, Labels, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES, Outcome};

/// Most bytes reserved for one member before reading it.
const PREALLOCATE_AT_MOST: u64 = 16 * 1024 * 1024;

/// One member of an archive, decompressed.
pub(crate) struct Member {
    /// Name as stored in the archive.
    pub(crate) name: String,
    /// Decompressed content (empty for directories), wiped on drop.
    pub(crate) data: Buf,
    /// Directory entry.
    pub(crate) is_dir: bool,
    /// Stored without compression in the original (kept that way).
    pub(crate) stored: bool,
}

impl Member {
    /// Lower-case name: OPC part names are case-insensitive, so matching must be too,
    /// or `docProps/Core.xml` would slip past a rule for `docProps/core.xml`.
    pub(crate) fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// Replaces the content with `cleaned`, noting `label` when that removed anything.
    pub(crate) fn replace(&mut self, cleaned: Vec<u8>, label: &'static str, labels: &mut Labels) {
        if cleaned != *self.data {
            labels.removed.push(label);
        }
        self.data = cleaned.into();
    }

    /// Rewrites an XML part under `policy`, noting what it removed.
    pub(crate) fn rewrite_xml(
        &mut self,
        policy: &dyn super::xml::Policy,
        format: Format,
        labels: &mut Labels,
    ) -> Result<(), CleanError> {
        let (data, removed) = super::xml::rewrite(&self.data, policy, format)?;
        self.data = data.into();
        labels.removed.extend(removed);
        Ok(())
    }

    /// Cleans a part that is not XML as an embedded file ([`clean_embedded`]), in place.
    pub(crate) fn clean_as_embedded(&mut self, depth: u8, labels: &mut Labels) {
        let embedded = clean_embedded(&self.data, depth);
        if let Some(data) = embedded.bytes {
            self.data = data;
        }
        labels.extend(embedded.labels);
    }
}

/// The members of an archive, or the news that some are encrypted.
pub(crate) enum Unzipped {
    /// All members, in central-directory order.
    Members(Vec<Member>),
    /// At least one member is encrypted: we cannot see inside, so we cannot clean.
    Encrypted,
}

/// Tell OOXML and ODF containers apart by content. Zip parsing is isolated with
/// `catch_unwind` because [`super::sniff`] promises never to panic.
pub(crate) fn sniff_zip(bytes: &[u8]) -> Format {
    if let Some(format) = odf_mimetype_at_start(bytes) {
        return format;
    }
    panic::catch_unwind(AssertUnwindSafe(|| sniff_zip_directory(bytes))).unwrap_or(Format::Other)
}

/// ODF puts an uncompressed `mimetype` member first so the type can be read at a fixed
/// offset (ODF 1.2 part 3, §3.3).
fn odf_mimetype_at_start(bytes: &[u8]) -> Option<Format> {
    let le16 = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    if bytes.get(30..38)? != b"mimetype" || le16(8)? != 0 {
        return None;
    }
    let size = usize::try_from(u32::from_le_bytes(bytes.get(18..22)?.try_into().ok()?)).ok()?;
    let start = 30 + le16(26)? + le16(28)?;
    odf_format(bytes.get(start..start.checked_add(size)?)?)
}

fn odf_format(mimetype: &[u8]) -> Option<Format> {
    let mimetype = std::str::from_utf8(mimetype).ok()?.trim();
    let kind = mimetype.strip_prefix("application/vnd.oasis.opendocument.")?;
    if kind.starts_with("text") {
        Some(Format::Odt)
    } else if kind.starts_with("spreadsheet") {
        Some(Format::Ods)
    } else if kind.starts_with("presentation") {
        Some(Format::Odp)
    } else {
        None
    }
}

fn sniff_zip_directory(bytes: &[u8]) -> Format {
    let Ok(mut archive) = ZipArchive::new(Cursor::new(bytes)) else {
        return Format::Other;
    };
    let names: Vec<String> = archive
        .file_names()
        .flatten()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    if names.iter().any(|n| n == "[content_types].xml") {
        for (prefix, format) in [
            ("word/", Format::Docx),
            ("xl/", Format::Xlsx),
            ("ppt/", Format::Pptx),
        ] {
            if names.iter().any(|n| n.starts_with(prefix)) {
                return format;
            }
        }
    }
    if names.iter().any(|n| n == "mimetype")
        && let Ok(mut file) = archive.by_name("mimetype")
    {
        let mut mimetype = Vec::new();
        if (&mut file).take(256).read_to_end(&mut mimetype).is_ok()
            && let Some(format) = odf_format(&mimetype)
        {
            return format;
        }
    }
    Format::Other
}

/// Read every member into memory, within the limits.
pub(crate) fn read_members(bytes: &[u8], format: Format) -> Result<Unzipped, CleanError> {
    let malformed = || CleanError::Malformed { format };
    let too_large = || CleanError::TooLarge { format };
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| malformed())?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(too_large());
    }
    let mut budget = MAX_UNZIPPED_BYTES;
    let mut members = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        if archive
            .by_index_raw(index)
            .map_err(|_| malformed())?
            .encrypted()
        {
            return Ok(Unzipped::Encrypted);
        }
        let mut file = archive.by_index(index).map_err(|_| malformed())?;
        let name = file.name().map_err(|_| malformed())?.into_owned();
        let is_dir = file.is_dir();
        let stored = file.compression() == CompressionMethod::Stored;
        // Do not trust the declared size: read at most the remaining budget plus one byte.
        // Sized up front (within the budget, and only so far as a lying header can cost
        // little) so that growing the buffer leaves few stale copies in freed memory.
        let hint = file.size().min(budget + 1).min(PREALLOCATE_AT_MOST);
        let mut data = Buf::new(Vec::with_capacity(usize::try_from(hint).unwrap_or(0)));
        (&mut file)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|_| malformed())?;
        let read = u64::try_from(data.len()).map_err(|_| too_large())?;
        budget = budget.checked_sub(read).ok_or_else(too_large)?;
        members.push(Member {
            name,
            data,
            is_dir,
            stored,
        });
    }
    Ok(Unzipped::Members(members))
}

/// Write members into a fresh archive. With `mimetype_first`, a member named `mimetype`
/// is written first and uncompressed, as ODF requires.
pub(crate) fn write_members(
    members: &[Member],
    format: Format,
    mimetype_first: bool,
) -> Result<Vec<u8>, CleanError> {
    let rewrite = |_| CleanError::Rewrite { format };
    let total: usize = members.iter().map(|m| m.data.len()).sum();
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(total / 2)));
    // A fixed timestamp: the original's member times tell when (and in which time zone)
    // the reporter last saved the file.
    let base = SimpleFileOptions::default()
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let is_mimetype = |m: &&Member| mimetype_first && m.name == "mimetype";
    let ordered = members
        .iter()
        .filter(is_mimetype)
        .chain(members.iter().filter(|m| !is_mimetype(m)));
    for member in ordered {
        if member.is_dir {
            writer
                .add_directory(member.name.as_str(), base)
                .map_err(rewrite)?;
            continue;
        }
        let method = if member.stored || is_mimetype(&member) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        writer
            .start_file(member.name.as_str(), base.compression_method(method))
            .map_err(rewrite)?;
        writer
            .write_all(&member.data)
            .map_err(|_| CleanError::Rewrite { format })?;
    }
    let cursor = writer.finish().map_err(rewrite)?;
    Ok(cursor.into_inner())
}

/// Compound File Binary (OLE2) signature: embedded OLE objects (`oleObject1.bin`, ODF's
/// `Object 1` for Office content), VBA projects.
const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Label of a removal inside embedded images.
pub(crate) const EMBEDDED_IMAGES: &str = "metadata of embedded images";
/// Label of a removal inside embedded documents.
pub(crate) const EMBEDDED_DOCUMENTS: &str = "metadata of embedded documents";
/// Left in: OLE compound files. Their summary streams name author and last editor, and
/// OLE "Package" objects carry the original file's full local path; no maintained crate
/// rewrites a compound file without leaving freed sectors behind, so they are reported.
pub(crate) const LEFT_OLE: &str = "embedded OLE objects (may carry author names and file paths)";
/// Left in: embedded files of formats that cannot be cleaned (video, audio …).
pub(crate) const LEFT_UNCLEANABLE: &str =
    "embedded files in formats whose metadata cannot be removed (audio, video …)";
/// Left in: embedded files that could not be parsed.
pub(crate) const LEFT_UNCHECKED: &str = "embedded files that could not be checked";
/// Left in: embedded images that could not be parsed.
pub(crate) const LEFT_IMAGES: &str = "embedded images that could not be checked";

/// What happened to one embedded file.
pub(crate) struct Embedded {
    /// The cleaned bytes, or `None` when the file stays as it was.
    pub(crate) bytes: Option<Buf>,
    /// What was removed from it, and what it still holds.
    pub(crate) labels: Labels,
}

/// Clean a file embedded in a document (a non-XML zip member, a PDF's attached file):
/// images are cleaned, embedded office documents and PDFs recursively (a chart's workbook
/// inside a DOCX carries its own author). What cannot be cleaned stays as it was and is
/// reported in `labels.remaining`: OLE objects, audio and video, files that fail to parse.
/// Fonts, vector previews and other binaries without metadata we know of pass unchanged.
pub(crate) fn clean_embedded(data: &[u8], depth: u8) -> Embedded {
    let unchanged = |left: Option<&'static str>| Embedded {
        bytes: None,
        labels: Labels {
            removed: Vec::new(),
            remaining: left.into_iter().collect(),
        },
    };
    if let Some(result) = super::clean_embedded_image(data, Orientation::Keep) {
        return match result {
            Ok((bytes, labels)) => Embedded {
                bytes: Some(bytes),
                labels: Labels::removed(if labels.removed.is_empty() {
                    Vec::new()
                } else {
                    vec![EMBEDDED_IMAGES]
                }),
            },
            Err(_) => unchanged(Some(LEFT_IMAGES)),
        };
    }
    if data.starts_with(CFB_MAGIC) {
        return unchanged(Some(LEFT_OLE));
    }
    match super::sniff(data) {
        Format::Pdf
        | Format::Docx
        | Format::Xlsx
        | Format::Pptx
        | Format::Odt
        | Format::Ods
        | Format::Odp
        | Format::OggOpus => match super::clean_nested(data, depth + 1) {
            Ok(cleaned) => {
                let (removed, remaining) = match cleaned.outcome {
                    Outcome::Cleaned { .. } => (vec![EMBEDDED_DOCUMENTS], Vec::new()),
                    Outcome::NothingFound => (Vec::new(), Vec::new()),
                    Outcome::Partial { removed, remaining } => {
                        let removed = if removed.is_empty() {
                            Vec::new()
                        } else {
                            vec![EMBEDDED_DOCUMENTS]
                        };
                        (removed, remaining)
                    }
                    Outcome::NotCleanable => return unchanged(Some(LEFT_UNCLEANABLE)),
                };
                Embedded {
                    bytes: Some(cleaned.bytes),
                    labels: Labels { removed, remaining },
                }
            }
            Err(_) => unchanged(Some(LEFT_UNCHECKED)),
        },
        Format::Mp4 | Format::Mp3 | Format::Heif => unchanged(Some(LEFT_UNCLEANABLE)),
        // Images are handled above; plain text has nothing to remove; other binaries
        // (fonts, EMF/WMF previews, printer blobs) are not files we know how to clean.
        Format::Jpeg
        | Format::Png
        | Format::WebP
        | Format::Gif
        | Format::PlainText
        | Format::Other => unchanged(None),
    }
}
