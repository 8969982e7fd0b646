//! PDF cleaning with `lopdf`: load, strip, prune, save as a fresh file.
//!
//! - The trailer's `/Info` dictionary (Author, Creator, Producer, Title, Subject,
//!   Keywords, dates, custom keys) is removed.
//! - `/Metadata` (XMP streams) and `/PieceInfo` (application private data) are removed
//!   from every dictionary — catalog, pages, images, fonts — and `/LastModified` dates too.
//! - Markup annotations (comments, highlights, stamps…) lose their author (`/T`) and
//!   dates; form-field widgets keep `/T`, which is their field name there.
//! - JPEG images (`/DCTDecode` streams) are cleaned like standalone JPEGs: scans and phone
//!   photos put into PDFs keep their EXIF GPS otherwise.
//! - Unreferenced objects are pruned, so the removed dictionaries and streams do not stay
//!   in the file. Saving writes a single revision: earlier incremental-update revisions
//!   (with their old Info and XMP) and bytes after `%%EOF` are gone. Objects that were in
//!   object streams are written out individually.
//! - `/ID` may stay (it identifies the file, not the person).
//!
//! Encrypted PDFs that need a password are not cleanable. Ones encrypted with an empty
//! user password are decrypted by lopdf on load and saved unencrypted.

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use super::jpeg::Orientation;
use super::{CleanError, Format, Step};

const INFO: &str = "document info (author, creator, producer, title, dates)";
const XMP: &str = "XMP metadata";
const PIECE_INFO: &str = "application private data (PieceInfo)";
const DATES: &str = "modification dates";
const ANNOT_AUTHORS: &str = "comment authors";
const IMAGES: &str = "metadata of embedded images";
const ORPHANS: &str = "unreferenced objects (earlier revisions)";

/// Annotation subtypes whose `/T` is the author (PDF 32000-1 §12.5.6.2, markup annotations).
const MARKUP: [&[u8]; 17] = [
    b"Text",
    b"FreeText",
    b"Line",
    b"Square",
    b"Circle",
    b"Polygon",
    b"PolyLine",
    b"Highlight",
    b"Underline",
    b"Squiggly",
    b"StrikeOut",
    b"Stamp",
    b"Caret",
    b"Ink",
    b"FileAttachment",
    b"Sound",
    b"Redact",
];

fn malformed() -> CleanError {
    CleanError::Malformed {
        format: Format::Pdf,
    }
}

/// Clean a PDF held in memory.
pub(crate) fn clean(input: &[u8], _depth: u8) -> Result<Step, CleanError> {
    // Default options bound the decompressed size of object and xref streams (bombs).
    let mut doc =
        Document::load_mem_with_options(input, LoadOptions::default()).map_err(|_| malformed())?;
    if doc.is_encrypted() || doc.trailer.has(b"Encrypt") {
        return Ok(Step::NotCleanable);
    }
    let pages_before = doc.get_pages().len();
    let mut removed = Vec::new();
    // Objects we unlink on purpose; anything else pruned afterwards was already orphaned.
    let mut unlinked: Vec<ObjectId> = Vec::new();

    if let Some(info) = doc.trailer.remove(b"Info") {
        removed.push(INFO);
        if let Object::Reference(id) = info {
            unlinked.push(id);
        }
    }
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object {
            strip_dictionary(&mut stream.dict, &mut removed, &mut unlinked);
            for (_, value) in stream.dict.iter_mut() {
                strip_object(value, &mut removed, &mut unlinked, 0);
            }
            if is_plain_jpeg(&stream.dict) {
                match super::clean_embedded_image(&stream.content, Orientation::Drop) {
                    Some(Ok((jpeg, labels))) => {
                        if !labels.is_empty() {
                            removed.push(IMAGES);
                        }
                        stream.set_content(jpeg);
                    }
                    // A DCT stream that is not a JPEG we can parse: fail closed.
                    Some(Err(_)) | None => return Err(malformed()),
                }
            }
        } else {
            strip_object(object, &mut removed, &mut unlinked, 0);
        }
    }
    let pruned = doc.prune_objects();
    if pruned.iter().any(|id| !unlinked.contains(id)) {
        removed.push(ORPHANS);
    }
    // Close the gaps pruning left, so the trailer's /Size matches the objects written.
    doc.renumber_objects();
    // Removing metadata must never lose pages; if it did, the file was not what it seemed.
    if doc.get_pages().len() != pages_before {
        return Err(malformed());
    }
    let mut out = Vec::with_capacity(input.len());
    doc.save_to(&mut out).map_err(|_| CleanError::Rewrite {
        format: Format::Pdf,
    })?;
    Ok(Step::Done(out, removed))
}

/// Nesting bound for direct objects: lopdf's parser already limits depth, this keeps the
/// recursion here bounded whatever the document.
const MAX_DEPTH: usize = 256;

/// Apply [`strip_dictionary`] to every dictionary inside `object`, at any depth:
/// annotation dictionaries are often direct objects inside a page's `/Annots` array.
fn strip_object(
    object: &mut Object,
    removed: &mut Vec<&'static str>,
    unlinked: &mut Vec<ObjectId>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match object {
        Object::Dictionary(dict) => {
            strip_dictionary(dict, removed, unlinked);
            for (_, value) in dict.iter_mut() {
                strip_object(value, removed, unlinked, depth + 1);
            }
        }
        Object::Array(items) => {
            for item in items {
                strip_object(item, removed, unlinked, depth + 1);
            }
        }
        _ => {}
    }
}

/// Remove metadata keys from one dictionary (not its children).
fn strip_dictionary(
    dict: &mut Dictionary,
    removed: &mut Vec<&'static str>,
    unlinked: &mut Vec<ObjectId>,
) {
    let mut drop_key = |dict: &mut Dictionary, key: &[u8], label: &'static str| {
        if let Some(value) = dict.remove(key) {
            removed.push(label);
            if let Object::Reference(id) = value {
                unlinked.push(id);
            }
        }
    };
    drop_key(dict, b"Metadata", XMP);
    drop_key(dict, b"PieceInfo", PIECE_INFO);
    drop_key(dict, b"LastModified", DATES);
    let is_markup = dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|subtype| MARKUP.contains(&subtype));
    if is_markup {
        drop_key(dict, b"T", ANNOT_AUTHORS);
        drop_key(dict, b"M", DATES);
        drop_key(dict, b"CreationDate", DATES);
    }
}

/// A stream whose only filter is `/DCTDecode`: its content is a complete JPEG file.
fn is_plain_jpeg(dict: &Dictionary) -> bool {
    match dict.get(b"Filter") {
        Ok(Object::Name(name)) => name == b"DCTDecode",
        Ok(Object::Array(filters)) => {
            matches!(filters.as_slice(), [Object::Name(name)] if name == b"DCTDecode")
        }
        _ => false,
    }
}
