//! Office Open XML (DOCX, XLSX, PPTX) cleaning: a fresh zip ([`super::archive`]) whose
//! XML parts go through the rules below ([`super::xml`]).
//!
//! - Core, extended (app) and custom properties parts — found by content type in
//!   `[Content_Types].xml`, and at their usual `docProps/` names — are replaced by empty
//!   but valid parts with the original root and namespaces, so relationships and content
//!   types stay consistent. That removes creator, lastModifiedBy, dates, revision,
//!   Company, Manager, Template, HyperlinkBase and every custom property.
//! - Custom XML data parts (`customXml/item*.xml`: SharePoint puts the author's display
//!   name, account and e-mail there) are emptied the same way; their `itemProps` parts and
//!   relationships stay, so the package stays consistent.
//! - The thumbnail (a preview of the first page, which may show an older, unredacted
//!   version) is removed together with its relationship and content-type override.
//! - In every XML part: comment and tracked-change authors and initials are neutralised
//!   (`w:author` → "Author": the attribute is required by the schema, so it is replaced,
//!   not removed), their dates dropped; `rsid*` revision ids and `w:rsids` removed;
//!   people/persons/comment-author lists and comment reactions (names, user and provider
//!   ids, presence info) neutralised wherever they appear (`word/people.xml`,
//!   `xl/persons/person.xml`, `ppt/authors.xml`, `word/commentsExtensible.xml`); XLSX
//!   comment `<author>` names, threaded-comment and modern-comment dates, `userName`
//!   attributes, the author's local path (`x15ac:absPath`), cloud revision pointers and
//!   attached-template paths removed; document GUIDs (`w14:docId`, `w15:docId`) removed.
//!   (`commentsExtended.xml` and `commentsIds.xml` hold only paragraph and durable ids.)
//! - Paths on the author's machine: external relationship targets that are local paths
//!   (hyperlinks to `file:`, linked images and OLE objects, external workbook links —
//!   `file:///C:\Users\<name>\…`, `\\server\share\…`, relative paths) are replaced by
//!   [`REMOVED_PATH`], and so is any attribute value that is a local path (Word writes the
//!   inserted picture's full path into `docPr/@descr`). Web links stay: they are content.
//! - Embedded images are cleaned like standalone ones; embedded office documents and
//!   PDFs recursively ([`archive::clean_embedded`]). OLE objects (`oleObject*.bin`, VBA
//!   projects), embedded audio and video, and embedded files that fail to parse stay as
//!   they were and make the outcome [`super::Outcome::Partial`]. Fonts and vector previews
//!   pass unchanged.

use std::collections::HashSet;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::archive::{self, Member, Unzipped};
use super::xml::{self, Attr, AttrAction, ElementAction, Policy, Tag, attr_value};
use super::{CleanError, Format, Labels, Step};

const AUTHORS: &str = "comment and revision authors";
const DATES: &str = "comment and revision dates";
const RSIDS: &str = "revision ids (rsid)";
const THUMBNAIL: &str = "thumbnail preview";
const PATHS: &str = "file and template paths";
const IDS: &str = "document and revision ids";
const CUSTOM_XML: &str = "custom XML data (e.g. SharePoint author and e-mail)";

/// What a local path is replaced with: says that something was there, names nothing.
pub(crate) const REMOVED_PATH: &str = "file:///removed";
/// Replacement for required date attributes (modern PowerPoint comments).
const EPOCH: &str = "1970-01-01T00:00:00Z";

const CORE_TYPE: &str = "application/vnd.openxmlformats-package.core-properties+xml";
const APP_TYPE: &str = "application/vnd.openxmlformats-officedocument.extended-properties+xml";
const CUSTOM_TYPE: &str = "application/vnd.openxmlformats-officedocument.custom-properties+xml";

/// Which properties part a member is.
#[derive(Clone, Copy)]
enum Props {
    Core,
    App,
    Custom,
}

impl Props {
    fn label(self) -> &'static str {
        match self {
            Props::Core => "document properties (author, last modified by, dates, revision)",
            Props::App => "application properties (company, manager, template)",
            Props::Custom => "custom properties",
        }
    }
}

/// Clean an OOXML package held in memory.
pub(crate) fn clean(bytes: &[u8], format: Format, depth: u8) -> Result<Step, CleanError> {
    let mut members = match archive::read_members(bytes, format)? {
        Unzipped::Members(members) => members,
        Unzipped::Encrypted => return Ok(Step::NotCleanable),
    };
    let props = properties_parts(&members, format)?;
    let thumbnails = thumbnail_parts(&members, format)?;
    let policy = OoxmlPolicy {
        removed_parts: &thumbnails,
    };
    let mut labels = Labels::default();

    let mut kept = Vec::with_capacity(members.len());
    for mut member in members.drain(..) {
        let key = member.key();
        if thumbnails.contains(&key) {
            labels.removed.push(THUMBNAIL);
            continue;
        }
        if member.is_dir {
            kept.push(member);
            continue;
        }
        if let Some(kind) = props
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, kind)| *kind)
        {
            let minimal = xml::minimal_root(&member.data, &[], None, format)?;
            member.replace(minimal, kind.label(), &mut labels);
        } else if is_custom_xml_item(&key) {
            let minimal = xml::minimal_root(&member.data, &[], None, format)?;
            member.replace(minimal, CUSTOM_XML, &mut labels);
        } else if key.ends_with(".xml") || key.ends_with(".rels") {
            member.rewrite_xml(&policy, format, &mut labels)?;
        } else {
            member.clean_as_embedded(depth, &mut labels);
        }
        kept.push(member);
    }
    let out = archive::write_members(&kept, format, false)?;
    Ok(Step::Done(out.into(), labels))
}

/// `customXml/item1.xml` and the like, but not `itemProps1.xml` or the relationships.
fn is_custom_xml_item(key: &str) -> bool {
    key.strip_prefix("customxml/item")
        .and_then(|rest| rest.strip_suffix(".xml"))
        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

/// Lower-case names of the core/app/custom properties parts: from content-type overrides,
/// plus the conventional names in case a producer relied on defaults.
fn properties_parts(
    members: &[Member],
    format: Format,
) -> Result<Vec<(String, Props)>, CleanError> {
    let mut parts = vec![
        ("docprops/core.xml".to_owned(), Props::Core),
        ("docprops/app.xml".to_owned(), Props::App),
        ("docprops/custom.xml".to_owned(), Props::Custom),
    ];
    let Some(types) = members.iter().find(|m| m.key() == "[content_types].xml") else {
        return Ok(parts);
    };
    for_each_element(&types.data, format, |e| {
        if xml::local(e.name().0) == "Override"
            && let (Some(part), Some(kind)) =
                (attr_value(e, "PartName"), attr_value(e, "ContentType"))
        {
            let props = match kind.as_str() {
                CORE_TYPE => Some(Props::Core),
                APP_TYPE => Some(Props::App),
                CUSTOM_TYPE => Some(Props::Custom),
                _ => None,
            };
            if let Some(props) = props {
                parts.push((part_key(&part), props));
            }
        }
    })?;
    Ok(parts)
}

/// Lower-case names of thumbnail parts: targets of package-level thumbnail relationships,
/// plus anything under `docProps/thumbnail`.
fn thumbnail_parts(members: &[Member], format: Format) -> Result<HashSet<String>, CleanError> {
    let mut parts: HashSet<String> = members
        .iter()
        .map(Member::key)
        .filter(|k| k.starts_with("docprops/thumbnail"))
        .collect();
    if let Some(rels) = members.iter().find(|m| m.key() == "_rels/.rels") {
        for_each_element(&rels.data, format, |e| {
            if xml::local(e.name().0) == "Relationship"
                && attr_value(e, "Type").is_some_and(|t| t.ends_with("/metadata/thumbnail"))
                && attr_value(e, "TargetMode").is_none_or(|m| m != "External")
                && let Some(target) = attr_value(e, "Target")
            {
                parts.insert(part_key(&target));
            }
        })?;
    }
    Ok(parts)
}

/// Package-relative part name as used for matching: no leading slash, lower case.
fn part_key(name: &str) -> String {
    name.trim_start_matches('/').to_ascii_lowercase()
}

/// Visit every start or empty tag of an XML part.
fn for_each_element(
    xml: &[u8],
    format: Format,
    mut f: impl FnMut(&BytesStart<'_>),
) -> Result<(), CleanError> {
    let malformed = || CleanError::Malformed { format };
    let text = xml::decode_text(xml).ok_or_else(malformed)?;
    let mut reader = Reader::from_str(&text);
    loop {
        match reader.read_event().map_err(|_| malformed())? {
            Event::Start(e) | Event::Empty(e) => f(&e),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// The OOXML rules; see the module documentation.
struct OoxmlPolicy<'a> {
    /// Parts removed from the package, whose relationships and overrides must go too.
    removed_parts: &'a HashSet<String>,
}

impl Policy for OoxmlPolicy<'_> {
    fn element(&self, tag: &Tag<'_, '_>) -> ElementAction {
        let start = tag.start;
        match tag.local {
            "rsids" => ElementAction::Drop(RSIDS),
            "presenceInfo" => ElementAction::Drop(AUTHORS),
            "absPath" | "attachedTemplate" => ElementAction::Drop(PATHS),
            "revisionPtr" | "docId" => ElementAction::Drop(IDS),
            // XLSX legacy comments list their authors as text: <authors><author>Name</author>.
            // (PowerPoint's `p188:author` carries its name in attributes instead; giving it
            // text content would make it invalid, so only attribute-free ones qualify.)
            "author" if start.attributes().next().is_none() => {
                ElementAction::ReplaceText("Author", AUTHORS)
            }
            "Relationship" => {
                let kind = attr_value(start, "Type").unwrap_or_default();
                if kind.ends_with("/attachedTemplate") {
                    ElementAction::Drop(PATHS)
                } else if kind.ends_with("/metadata/thumbnail") {
                    ElementAction::Drop(THUMBNAIL)
                } else {
                    ElementAction::Keep
                }
            }
            "Override" => match attr_value(start, "PartName") {
                Some(part) if self.removed_parts.contains(&part_key(&part)) => {
                    ElementAction::Drop(THUMBNAIL)
                }
                _ => ElementAction::Keep,
            },
            _ => ElementAction::Keep,
        }
    }

    fn attribute(&self, tag: &Tag<'_, '_>, attr: &Attr<'_>) -> AttrAction {
        let element = tag.local;
        let attribute = attr.local;
        if attribute.starts_with("rsid") {
            return AttrAction::Drop(RSIDS);
        }
        if element == "Relationship" && attribute == "Target" {
            let external = attr_value(tag.start, "TargetMode").is_some_and(|m| m == "External");
            return if external && is_local_target(attr.value) {
                AttrAction::Replace(REMOVED_PATH, PATHS)
            } else {
                AttrAction::Keep
            };
        }
        if xml::is_local_path(attr.value) {
            return AttrAction::Replace(REMOVED_PATH, PATHS);
        }
        match (element, attribute) {
            (_, "author") => AttrAction::Replace("Author", AUTHORS),
            (_, "initials") => AttrAction::Replace("A", AUTHORS),
            // Identity attributes of people lists and comment reactions (`cr:user`), in
            // whatever element a producer puts them.
            (_, "userName" | "userId") => AttrAction::Replace("Author", AUTHORS),
            (_, "providerId" | "userProvider") => AttrAction::Replace("None", AUTHORS),
            (_, "date") if attr.has_author => AttrAction::Drop(DATES),
            (_, "dateUtc") => AttrAction::Drop(DATES),
            ("cm", "dt") | ("threadedComment", "dT") => AttrAction::Drop(DATES),
            // Modern PowerPoint comments and replies require `created`.
            ("cm" | "reply", "created") => AttrAction::Replace(EPOCH, DATES),
            ("cmAuthor" | "author" | "person" | "userInfo", "name" | "displayName") => {
                AttrAction::Replace("Author", AUTHORS)
            }
            _ => AttrAction::Keep,
        }
    }
}

/// An external relationship target that points into a file system rather than the web:
/// a local path (see [`xml::is_local_path`]) or a reference without a URI scheme, which
/// Office resolves relative to the document's folder (`../Users/…`, `Book2.xlsx`).
fn is_local_target(target: &str) -> bool {
    if xml::is_local_path(target) {
        return true;
    }
    let t = target.trim();
    let scheme = t.split_once(':').map(|(s, _)| s).filter(|s| {
        s.len() > 1
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    });
    scheme.is_none() && !t.starts_with('#')
}
