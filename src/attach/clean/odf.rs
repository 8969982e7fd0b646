//! OpenDocument (ODT, ODS, ODP) cleaning: a fresh zip ([`super::archive`]) with the
//! `mimetype` member first and uncompressed, as ODF 1.2 part 3 §3.3 requires.
//!
//! - Every `meta.xml` (the document's and those of embedded objects such as
//!   `Object 1/meta.xml`) is replaced by a minimal valid one: the original root with its
//!   namespaces and `office:version`, and an empty `<office:meta/>`. That removes
//!   initial-creator, creator, dates, editing cycles and time, generator, statistics
//!   and user-defined fields.
//! - `Thumbnails/` (a preview that may show an older, unredacted version) is removed
//!   together with its manifest entries.
//! - In the other XML parts: annotation and tracked-change authors (`dc:creator`,
//!   `meta:creator-initials`) are neutralised and their dates (`dc:date`, matched by the
//!   Dublin Core namespace URI, whatever the prefix) set to the epoch; printer names and
//!   printer driver blobs in `settings.xml` are emptied.
//! - Fields that display who wrote the document (`text:author-name`,
//!   `text:author-initials`, `text:initial-creator`, `text:creator`), the sender's
//!   details from the office suite's user profile (`text:sender-firstname`, `-lastname`,
//!   `-email`, `-phone-private` … every `text:sender-*`), the document's file name and
//!   template path, and user-defined fields keep their element but lose the text they
//!   show, which was copied from that metadata.
//! - Embedded images are cleaned; embedded documents recursively; OLE objects (Office
//!   content embedded as binary `Object N`), audio and video, and embedded files that fail
//!   to parse stay as they were and make the outcome [`super::Outcome::Partial`].
//! - Encrypted documents (manifest `encryption-data`) are not cleanable.

use std::collections::HashSet;

use super::archive::{self, Unzipped};
use super::xml::{self, Attr, AttrAction, ElementAction, Policy, Tag, attr_value};
use super::{CleanError, Format, Labels, Step};

const AUTHORS: &str = "comment and revision authors";
const DATES: &str = "comment and revision dates";
const META: &str = "document properties (author, dates, editing time, statistics)";
const THUMBNAIL: &str = "thumbnail preview";
const PRINTER: &str = "printer settings";
const PATHS: &str = "file and template paths";
const FIELDS: &str = "author, sender and file-name fields";
const EPOCH: &str = "1970-01-01T00:00:00";

/// Dublin Core elements (`dc:date`, `dc:creator`).
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";
/// ODF text fields (`text:author-name`, `text:sender-email` …).
const TEXT_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";

/// Clean an OpenDocument package held in memory.
pub(crate) fn clean(bytes: &[u8], format: Format, depth: u8) -> Result<Step, CleanError> {
    let mut members = match archive::read_members(bytes, format)? {
        Unzipped::Members(members) => members,
        Unzipped::Encrypted => return Ok(Step::NotCleanable),
    };
    // ODF encrypts members itself (not the zip layer) and says so in the manifest.
    let encrypted = members.iter().any(|m| {
        m.key() == "meta-inf/manifest.xml" && m.data.windows(15).any(|w| w == b"encryption-data")
    });
    if encrypted {
        return Ok(Step::NotCleanable);
    }
    let removed_parts: HashSet<String> = members
        .iter()
        .map(|m| m.name.clone())
        .filter(|n| n.to_ascii_lowercase().starts_with("thumbnails/"))
        .collect();
    let policy = OdfPolicy {
        removed_parts: &removed_parts,
    };
    let mut labels = Labels::default();

    let mut kept = Vec::with_capacity(members.len());
    for mut member in members.drain(..) {
        let key = member.key();
        if removed_parts.contains(&member.name) {
            labels.removed.push(THUMBNAIL);
            continue;
        }
        if member.is_dir || member.name == "mimetype" {
            kept.push(member);
            continue;
        }
        if key == "meta.xml" || key.ends_with("/meta.xml") {
            let minimal = xml::minimal_root(&member.data, &["version"], Some("meta"), format)?;
            member.replace(minimal, META, &mut labels);
        } else if key.ends_with(".xml") || key.ends_with(".rdf") {
            member.rewrite_xml(&policy, format, &mut labels)?;
        } else {
            member.clean_as_embedded(depth, &mut labels);
        }
        kept.push(member);
    }
    let out = archive::write_members(&kept, format, true)?;
    Ok(Step::Done(out.into(), labels))
}

/// The ODF rules; see the module documentation.
struct OdfPolicy<'a> {
    /// Members removed from the package, whose manifest entries must go too.
    removed_parts: &'a HashSet<String>,
}

impl Policy for OdfPolicy<'_> {
    fn element(&self, tag: &Tag<'_, '_>) -> ElementAction {
        let start = tag.start;
        if tag.ns == Some(TEXT_NS) {
            match tag.local {
                "author-name" | "initial-creator" | "creator" => {
                    return ElementAction::ReplaceText("Author", FIELDS);
                }
                "author-initials" => return ElementAction::ReplaceText("A", FIELDS),
                "file-name" | "template-name" | "user-defined" => {
                    return ElementAction::ReplaceText("", FIELDS);
                }
                local if local.starts_with("sender-") => {
                    return ElementAction::ReplaceText("", FIELDS);
                }
                _ => {}
            }
        }
        match tag.local {
            "creator" => ElementAction::ReplaceText("Author", AUTHORS),
            "creator-initials" => ElementAction::ReplaceText("A", AUTHORS),
            "date" if tag.ns == Some(DC_NS) => ElementAction::ReplaceText(EPOCH, DATES),
            "config-item" => match attr_value(start, "name").as_deref() {
                Some("PrinterName" | "PrinterSetup") => ElementAction::ReplaceText("", PRINTER),
                _ => ElementAction::Keep,
            },
            "file-entry" => match attr_value(start, "full-path") {
                Some(path) if self.removed_parts.contains(&path) => ElementAction::Drop(THUMBNAIL),
                // The directory entry for the removed folder, if listed.
                Some(path)
                    if path.eq_ignore_ascii_case("Thumbnails/")
                        && !self.removed_parts.is_empty() =>
                {
                    ElementAction::Drop(THUMBNAIL)
                }
                _ => ElementAction::Keep,
            },
            _ => ElementAction::Keep,
        }
    }

    fn attribute(&self, _tag: &Tag<'_, '_>, attr: &Attr<'_>) -> AttrAction {
        // Linked images and objects (`xlink:href="file:///C:/Users/…"`), hyperlinks to
        // local files: the path names the author's account.
        if xml::is_local_path(attr.value) {
            return AttrAction::Replace(super::ooxml::REMOVED_PATH, PATHS);
        }
        AttrAction::Keep
    }
}
