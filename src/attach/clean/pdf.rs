//! PDF cleaning with `lopdf`: load, strip, prune, save as a fresh file.
//!
//! - The trailer's `/Info` dictionary (Author, Creator, Producer, Title, Subject,
//!   Keywords, dates, custom keys) is removed.
//! - `/Metadata` (XMP streams) and `/PieceInfo` (application private data) are removed
//!   from every dictionary — catalog, pages, images, fonts, annotations, embedded files —
//!   and `/LastModified` dates too.
//! - Markup annotations (comments, highlights, stamps…) lose their author (`/T`) and
//!   dates; form-field widgets keep `/T`, which is their field name there.
//! - Images: JPEG (`/DCTDecode`) streams are cleaned like standalone JPEGs, and JPEG 2000
//!   (`/JPXDecode`) streams lose their XML, UUID and comment data ([`super::jp2`]), also
//!   when other filters are applied first (`[/FlateDecode /DCTDecode]`): the filters in
//!   front are decoded, the image cleaned, and Flate applied again if it was there. Scans
//!   and phone photos put into PDFs keep their EXIF GPS otherwise.
//! - Embedded files (the `/EmbeddedFiles` name tree, file attachment annotations: every
//!   stream an `/EF` dictionary points to) are decoded and cleaned recursively, one level
//!   deeper ([`super::archive::clean_embedded`]); their `/Params` (dates, checksum of the
//!   old content) go. Their file names — in the file specification (`/F`, `/UF`, `/DOS`,
//!   `/Mac`, `/Unix`) and as name-tree keys — become neutral `attachment-N.ext`, and any
//!   other file name or URI string that is a path on the author's machine
//!   (`file:///C:/Users/…`) is replaced.
//! - What cannot be cleaned stays and makes the outcome [`super::Outcome::Partial`]: an
//!   embedded file of a format we cannot clean or that fails to parse, an image stream
//!   whose filters cannot be decoded or whose JPEG/JPEG 2000 data does not parse.
//! - Unreferenced objects are pruned, so the removed dictionaries and streams do not stay
//!   in the file. Saving writes a single revision: earlier incremental-update revisions
//!   (with their old Info and XMP, whichever trailer pointed at them) and bytes after
//!   `%%EOF` are gone. Objects that were in object streams are written out individually,
//!   and cross-reference streams are replaced by a fresh table.
//! - `/ID` may stay (it identifies the file, not the person).
//!
//! Encrypted PDFs that need a password are not cleanable. Ones encrypted with an empty
//! user password are decrypted by lopdf on load and saved unencrypted.
//!
//! Not handled (left as content): digital signatures (`/Sig` dictionaries and the signer's
//! certificate), JavaScript, form field values.

use std::collections::{BTreeMap, HashSet};

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId, Stream};
use zeroize::Zeroize;

use super::archive::{self, LEFT_IMAGES, LEFT_UNCHECKED, LEFT_UNCLEANABLE};
use super::jpeg::Orientation;
use super::{CleanError, Format, Labels, MAX_INPUT_BYTES, Step};

const INFO: &str = "document info (author, creator, producer, title, dates)";
const XMP: &str = "XMP metadata";
const PIECE_INFO: &str = "application private data (PieceInfo)";
const DATES: &str = "modification dates";
const ANNOT_AUTHORS: &str = "comment authors";
const IMAGES: &str = "metadata of embedded images";
const FILE_NAMES: &str = "names and paths of attached files";
const ORPHANS: &str = "unreferenced objects (earlier revisions)";

/// A local path (file specification or URI) is replaced by this.
const REMOVED_PATH: &str = "file:///removed";

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

/// File-name keys of a file specification dictionary (PDF 32000-1 §7.11.3).
const FILE_NAME_KEYS: [&[u8]; 5] = [b"F", b"UF", b"DOS", b"Mac", b"Unix"];

/// Nesting bound for direct objects and name trees: lopdf's parser already limits depth,
/// this keeps the recursion here bounded whatever the document.
const MAX_DEPTH: usize = 256;

fn malformed() -> CleanError {
    CleanError::Malformed {
        format: Format::Pdf,
    }
}

/// Clean a PDF held in memory. `depth` is how deeply this PDF is nested inside other
/// documents; files embedded in it are cleaned at `depth + 1`.
pub(crate) fn clean(input: &[u8], depth: u8) -> Result<Step, CleanError> {
    // Default options bound the decompressed size of object and xref streams (bombs).
    let mut doc =
        Document::load_mem_with_options(input, LoadOptions::default()).map_err(|_| malformed())?;
    let result = clean_document(&mut doc, input.len(), depth);
    wipe(&mut doc);
    result
}

fn clean_document(doc: &mut Document, input_len: usize, depth: u8) -> Result<Step, CleanError> {
    if doc.is_encrypted() || doc.trailer.has(b"Encrypt") {
        return Ok(Step::NotCleanable);
    }
    let pages_before = doc.get_pages().len();
    let mut labels = Labels::default();
    // Objects we unlink on purpose; anything else pruned afterwards was already orphaned.
    let mut unlinked: Vec<ObjectId> = Vec::new();

    if let Some(info) = doc.trailer.remove(b"Info") {
        labels.removed.push(INFO);
        if let Object::Reference(id) = info {
            unlinked.push(id);
        }
    }

    // Embedded files first, so their file specifications can be named after their content.
    let embedded = embedded_file_streams(doc);
    let mut extensions: BTreeMap<ObjectId, &'static str> = BTreeMap::new();
    for id in &embedded {
        if let Some(Object::Stream(stream)) = doc.objects.get_mut(id) {
            let ext = clean_embedded_file(stream, depth, &mut labels, &mut unlinked);
            extensions.insert(*id, ext);
        }
    }

    let mut names = Renamer {
        extensions: &extensions,
        next: 0,
        renamed: false,
    };
    for (id, object) in doc.objects.iter_mut() {
        if let Object::Stream(stream) = object {
            strip_dictionary(&mut stream.dict, &mut labels, &mut unlinked, &mut names);
            for (_, value) in stream.dict.iter_mut() {
                strip_object(value, &mut labels, &mut unlinked, &mut names, 0);
            }
            if !embedded.contains(id) {
                clean_image_stream(stream, &mut labels);
            }
        } else {
            strip_object(object, &mut labels, &mut unlinked, &mut names, 0);
        }
    }
    if rename_embedded_files_tree(doc) {
        names.renamed = true;
    }
    if names.renamed {
        labels.removed.push(FILE_NAMES);
    }

    let pruned = doc.prune_objects();
    if pruned.iter().any(|id| !unlinked.contains(id)) {
        labels.removed.push(ORPHANS);
    }
    // Close the gaps pruning left, so the trailer's /Size matches the objects written.
    doc.renumber_objects();
    // Removing metadata must never lose pages; if it did, the file was not what it seemed.
    if doc.get_pages().len() != pages_before {
        return Err(malformed());
    }
    let mut out = Vec::with_capacity(input_len);
    doc.save_to(&mut out).map_err(|_| CleanError::Rewrite {
        format: Format::Pdf,
    })?;
    Ok(Step::Done(out.into(), labels))
}

/// Zero every stream and string of a document before it is dropped: lopdf keeps decoded
/// copies of the reporter's file in them.
fn wipe(doc: &mut Document) {
    fn wipe_object(object: &mut Object, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match object {
            Object::String(bytes, _) | Object::Name(bytes) => bytes.zeroize(),
            Object::Array(items) => items.iter_mut().for_each(|o| wipe_object(o, depth + 1)),
            Object::Dictionary(dict) => {
                dict.iter_mut().for_each(|(_, o)| wipe_object(o, depth + 1))
            }
            Object::Stream(stream) => {
                stream.content.zeroize();
                stream
                    .dict
                    .iter_mut()
                    .for_each(|(_, o)| wipe_object(o, depth + 1));
            }
            _ => {}
        }
    }
    for object in doc.objects.values_mut() {
        wipe_object(object, 0);
    }
}

/// The ids of embedded file streams: every reference held by an `/EF` dictionary, found
/// anywhere in the document (name tree entries, annotation file specifications, portfolios).
fn embedded_file_streams(doc: &Document) -> HashSet<ObjectId> {
    fn visit(object: &Object, found: &mut HashSet<ObjectId>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match object {
            Object::Dictionary(dict) => visit_dict(dict, found, depth),
            Object::Stream(stream) => visit_dict(&stream.dict, found, depth),
            Object::Array(items) => items.iter().for_each(|o| visit(o, found, depth + 1)),
            _ => {}
        }
    }
    fn visit_dict(dict: &Dictionary, found: &mut HashSet<ObjectId>, depth: usize) {
        if let Ok(Object::Dictionary(ef)) = dict.get(b"EF") {
            found.extend(ef.iter().filter_map(|(_, v)| v.as_reference().ok()));
        }
        dict.iter().for_each(|(_, v)| visit(v, found, depth + 1));
    }
    let mut found = HashSet::new();
    for object in doc.objects.values() {
        visit(object, &mut found, 0);
    }
    // An /EF dictionary held by reference is rare but allowed: resolve one level.
    for object in doc.objects.values() {
        if let Ok(dict) = object.as_dict()
            && let Ok(Object::Reference(ef)) = dict.get(b"EF")
            && let Ok(ef) = doc.get_dictionary(*ef)
        {
            found.extend(ef.iter().filter_map(|(_, v)| v.as_reference().ok()));
        }
    }
    found.retain(|id| matches!(doc.objects.get(id), Some(Object::Stream(_))));
    found
}

/// Clean one embedded file stream in place. Returns the extension of its format, for the
/// neutral name its file specification gets.
fn clean_embedded_file(
    stream: &mut Stream,
    depth: u8,
    labels: &mut Labels,
    unlinked: &mut Vec<ObjectId>,
) -> &'static str {
    // Dates of the attached file, its size and a checksum of the old content.
    if let Some(params) = stream.dict.remove(b"Params") {
        labels.removed.push(DATES);
        if let Object::Reference(id) = params {
            unlinked.push(id);
        }
    }
    stream.dict.remove(b"DL");
    let decoded = match stream.filters() {
        Ok(filters) if !filters.is_empty() => {
            stream.decompressed_content_with_limit(MAX_INPUT_BYTES)
        }
        _ => Ok(stream.content.clone()),
    };
    let Ok(mut content) = decoded else {
        labels.remaining.push(LEFT_UNCHECKED);
        return Format::Other.extension();
    };
    let format = super::sniff(&content);
    if format == Format::Other {
        // An arbitrary attached file: nothing we know how to clean, so say so.
        labels.remaining.push(LEFT_UNCLEANABLE);
        content.zeroize();
        return format.extension();
    }
    let result = archive::clean_embedded(&content, depth);
    content.zeroize();
    if let Some(bytes) = result.bytes {
        set_content_deflated(stream, &bytes);
    }
    labels.extend(result.labels);
    format.extension()
}

/// Replace a stream's content with `bytes`, Flate-compressed when that saves space.
fn set_content_deflated(stream: &mut Stream, bytes: &[u8]) {
    stream.set_plain_content(bytes.to_vec());
    // Compression failing leaves the plain content, which is valid too.
    let _ = stream.compress();
}

/// Clean a JPEG or JPEG 2000 image stream in place; other streams are left alone.
fn clean_image_stream(stream: &mut Stream, labels: &mut Labels) {
    let Ok(filters) = stream.filters() else {
        return;
    };
    let filters: Vec<Vec<u8>> = filters.into_iter().map(<[u8]>::to_vec).collect();
    let Some(at) = filters
        .iter()
        .position(|f| f == b"DCTDecode" || f == b"JPXDecode")
    else {
        return;
    };
    let jpx = filters[at] == b"JPXDecode";
    let params = decode_params(&stream.dict, filters.len());
    let Some(params) = params else {
        labels.remaining.push(LEFT_IMAGES);
        return;
    };
    // Decode the filters in front of the image filter (Flate, ASCII85 …).
    let mut encoded = if at == 0 {
        stream.content.clone()
    } else {
        let mut outer = Dictionary::new();
        outer.set("Filter", names_object(&filters[..at]));
        outer.set("DecodeParms", Object::Array(params[..at].to_vec()));
        let outer = Stream::new(outer, stream.content.clone());
        match outer.decompressed_content_with_limit(MAX_INPUT_BYTES) {
            Ok(decoded) => decoded,
            Err(_) => {
                labels.remaining.push(LEFT_IMAGES);
                return;
            }
        }
    };
    let cleaned = if jpx {
        super::jp2::clean(&encoded).ok()
    } else {
        match super::clean_embedded_image(&encoded, Orientation::Drop) {
            Some(Ok((bytes, l))) => Some((bytes.to_vec(), l.removed)),
            Some(Err(_)) | None => None,
        }
    };
    let Some((mut image, removed)) = cleaned else {
        encoded.zeroize();
        labels.remaining.push(LEFT_IMAGES);
        return;
    };
    let changed = image != encoded;
    encoded.zeroize();
    if !removed.is_empty() {
        labels.removed.push(IMAGES);
    }
    if !changed {
        image.zeroize();
        return;
    }
    let mut new_filters = filters[at..].to_vec();
    let mut new_params = params[at..].to_vec();
    let mut content = image;
    if filters[..at].iter().any(|f| f == b"FlateDecode") {
        let mut deflated = Stream::new(Dictionary::new(), std::mem::take(&mut content));
        let _ = deflated.compress();
        if deflated.dict.has(b"Filter") {
            new_filters.insert(0, b"FlateDecode".to_vec());
            new_params.insert(0, Object::Null);
        }
        content = std::mem::take(&mut deflated.content);
    }
    stream.dict.set("Filter", names_object(&new_filters));
    if new_params.iter().all(|p| matches!(p, Object::Null)) {
        stream.dict.remove(b"DecodeParms");
    } else if new_params.len() == 1 {
        stream.dict.set("DecodeParms", new_params.remove(0));
    } else {
        stream.dict.set("DecodeParms", Object::Array(new_params));
    }
    stream.dict.remove(b"DL");
    stream.set_content(content);
}

/// `/DecodeParms` as one entry per filter (`null` where absent), or `None` when it does
/// not match the filters.
fn decode_params(dict: &Dictionary, filters: usize) -> Option<Vec<Object>> {
    match dict.get(b"DecodeParms") {
        Err(_) | Ok(Object::Null) => Some(vec![Object::Null; filters]),
        Ok(d @ Object::Dictionary(_)) if filters == 1 => Some(vec![d.clone()]),
        Ok(Object::Array(items)) if items.len() == filters => Some(items.clone()),
        _ => None,
    }
}

/// A `/Filter` value: one name, or an array of names.
fn names_object(names: &[Vec<u8>]) -> Object {
    match names {
        [one] => Object::Name(one.clone()),
        many => Object::Array(many.iter().cloned().map(Object::Name).collect()),
    }
}

/// Gives file specifications of embedded files neutral names.
struct Renamer<'a> {
    /// Extension of each embedded file stream's content.
    extensions: &'a BTreeMap<ObjectId, &'static str>,
    /// Number of the next name.
    next: usize,
    /// Whether any name or path was replaced.
    renamed: bool,
}

impl Renamer<'_> {
    /// Rename a file specification that embeds a file (it has `/EF`), and replace local
    /// paths in any file name or URI string.
    fn visit(&mut self, dict: &mut Dictionary) {
        let embedded_ext = match dict.get(b"EF") {
            Ok(Object::Dictionary(ef)) => Some(
                ef.iter()
                    .find_map(|(_, v)| v.as_reference().ok())
                    .and_then(|id| self.extensions.get(&id).copied())
                    .unwrap_or(Format::Other.extension()),
            ),
            Ok(Object::Reference(_)) => Some(Format::Other.extension()),
            _ => None,
        };
        if let Some(ext) = embedded_ext {
            self.next += 1;
            let name = format!("attachment-{}.{ext}", self.next);
            for key in FILE_NAME_KEYS {
                if dict.has(key) {
                    dict.set(key, Object::string_literal(name.clone()));
                    self.renamed = true;
                }
            }
            return;
        }
        for key in FILE_NAME_KEYS.iter().copied().chain([b"URI".as_slice()]) {
            if let Ok(Object::String(value, _)) = dict.get(key)
                && is_local_path_bytes(value)
            {
                dict.set(key, Object::string_literal(REMOVED_PATH));
                self.renamed = true;
            }
        }
    }
}

/// [`super::xml::is_local_path`] on a PDF string (bytes, possibly UTF-16 with a BOM).
fn is_local_path_bytes(value: &[u8]) -> bool {
    let text = if let Some(utf16) = value.strip_prefix(b"\xFE\xFF") {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(value).into_owned()
    };
    super::xml::is_local_path(&text)
}

/// Rename the keys of the `/EmbeddedFiles` name tree (Acrobat uses the attached file's
/// name as key) to `attachment-000001` …, in tree order so the keys stay sorted, and fix
/// each node's `/Limits`. Returns whether any key was renamed.
fn rename_embedded_files_tree(doc: &mut Document) -> bool {
    let Some(root) = embedded_files_root(doc) else {
        return false;
    };
    let mut counter = 0usize;
    let mut root = root;
    rename_node(doc, &mut root, &mut counter, 0, true);
    put_embedded_files_root(doc, root);
    counter > 0
}

/// Take the `/EmbeddedFiles` entry out of the catalog's `/Names` (to be put back by
/// [`put_embedded_files_root`]), whether the dictionaries are direct or referenced.
fn embedded_files_root(doc: &mut Document) -> Option<Object> {
    let names = names_dict_mut(doc)?;
    names.remove(b"EmbeddedFiles")
}

fn put_embedded_files_root(doc: &mut Document, root: Object) {
    if let Some(names) = names_dict_mut(doc) {
        names.set("EmbeddedFiles", root);
    }
}

/// The catalog's `/Names` dictionary, mutable.
fn names_dict_mut(doc: &mut Document) -> Option<&mut Dictionary> {
    let root = doc.trailer.get(b"Root").ok()?.as_reference().ok()?;
    let names_ref = match doc.get_dictionary(root).ok()?.get(b"Names").ok()? {
        Object::Reference(id) => Some(*id),
        _ => None,
    };
    match names_ref {
        Some(id) => doc.get_dictionary_mut(id).ok(),
        None => match doc.get_dictionary_mut(root).ok()?.get_mut(b"Names").ok()? {
            Object::Dictionary(d) => Some(d),
            _ => None,
        },
    }
}

/// Rename the keys below one name-tree node. Referenced nodes are taken out of the
/// document while visited, so a cycle ends the walk instead of looping. Returns the
/// node's first and last key.
fn rename_node(
    doc: &mut Document,
    node: &mut Object,
    counter: &mut usize,
    depth: usize,
    is_root: bool,
) -> Option<(Vec<u8>, Vec<u8>)> {
    if depth > MAX_DEPTH {
        return None;
    }
    if let Object::Reference(id) = node {
        let id = *id;
        let mut taken = doc.objects.remove(&id)?;
        let limits = rename_node(doc, &mut taken, counter, depth + 1, is_root);
        doc.objects.insert(id, taken);
        return limits;
    }
    let Object::Dictionary(dict) = node else {
        return None;
    };
    let mut first: Option<Vec<u8>> = None;
    let mut last: Option<Vec<u8>> = None;
    if let Ok(Object::Array(kids)) = dict.get_mut(b"Kids") {
        let mut kids = std::mem::take(kids);
        for kid in &mut kids {
            if let Some((f, l)) = rename_node(doc, kid, counter, depth + 1, false) {
                first.get_or_insert(f);
                last = Some(l);
            }
        }
        dict.set("Kids", Object::Array(kids));
    }
    if let Ok(Object::Array(entries)) = dict.get_mut(b"Names") {
        for pair in entries.chunks_mut(2) {
            if let [Object::String(key, _), _] = pair {
                *counter += 1;
                let new = format!("attachment-{:06}", *counter).into_bytes();
                key.zeroize();
                *key = new.clone();
                first.get_or_insert_with(|| new.clone());
                last = Some(new);
            }
        }
    }
    let limits = first.zip(last)?;
    if !is_root || dict.has(b"Limits") {
        dict.set(
            "Limits",
            vec![
                Object::string_literal(limits.0.clone()),
                Object::string_literal(limits.1.clone()),
            ],
        );
    }
    Some(limits)
}

/// Apply [`strip_dictionary`] to every dictionary inside `object`, at any depth:
/// annotation dictionaries are often direct objects inside a page's `/Annots` array.
fn strip_object(
    object: &mut Object,
    labels: &mut Labels,
    unlinked: &mut Vec<ObjectId>,
    names: &mut Renamer<'_>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match object {
        Object::Dictionary(dict) => {
            strip_dictionary(dict, labels, unlinked, names);
            for (_, value) in dict.iter_mut() {
                strip_object(value, labels, unlinked, names, depth + 1);
            }
        }
        Object::Array(items) => {
            for item in items {
                strip_object(item, labels, unlinked, names, depth + 1);
            }
        }
        _ => {}
    }
}

/// Remove metadata keys from one dictionary (not its children).
fn strip_dictionary(
    dict: &mut Dictionary,
    labels: &mut Labels,
    unlinked: &mut Vec<ObjectId>,
    names: &mut Renamer<'_>,
) {
    let mut drop_key = |dict: &mut Dictionary, key: &[u8], label: &'static str| {
        if let Some(value) = dict.remove(key) {
            labels.removed.push(label);
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
    names.visit(dict);
}
