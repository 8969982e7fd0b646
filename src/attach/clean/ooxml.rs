//! Office Open XML (DOCX, XLSX, PPTX) cleaning: a fresh zip ([`super::archive`]) whose
//! XML parts go through the rules below ([`super::xml`]).
//!
//! - Core, extended (app) and custom properties parts — found by content type in
//!   `[Content_Types].xml`, and at their usual `docProps/` names — are replaced by empty
//!   but valid parts with the original root and namespaces, so relationships and content
//!   types stay consistent. That removes creator, lastModifiedBy, dates, revision,
//!   Company, Manager, Template, HyperlinkBase and every custom property.
//! - The thumbnail (a preview of the first page, which may show an older, unredacted
//!   version) is removed together with its relationship and content-type override.
//! - In every XML part: comment and tracked-change authors and initials are neutralised
//!   (`w:author` → "Author": the attribute is required by the schema, so it is replaced,
//!   not removed), their dates dropped; `rsid*` revision ids and `w:rsids` removed;
//!   people/persons/comment-author lists (names, user and provider ids, presence info)
//!   neutralised; XLSX comment `<author>` names, `userName` attributes, the author's
//!   local path (`x15ac:absPath`), cloud revision pointers and attached-template paths
//!   removed; document GUIDs (`w14:docId`, `w15:docId`) removed.
//! - Embedded images are cleaned like standalone ones; embedded office documents and
//!   PDFs recursively. Other embedded binaries (fonts, OLE objects, media) pass unchanged.

use std::collections::HashSet;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::archive::{self, Member, Unzipped};
use super::xml::{self, AttrAction, ElementAction, Policy, attr_value};
use super::{CleanError, Format, Step};

const AUTHORS: &str = "comment and revision authors";
const DATES: &str = "comment and revision dates";
const RSIDS: &str = "revision ids (rsid)";
const THUMBNAIL: &str = "thumbnail preview";
const PATHS: &str = "file and template paths";
const IDS: &str = "document and revision ids";

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
    let mut removed = Vec::new();

    let mut kept = Vec::with_capacity(members.len());
    for mut member in members.drain(..) {
        let key = member.key();
        if thumbnails.contains(&key) {
            removed.push(THUMBNAIL);
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
            if minimal != member.data {
                removed.push(kind.label());
            }
            member.data = minimal;
        } else if key.ends_with(".xml") || key.ends_with(".rels") {
            let (data, labels) = xml::rewrite(&member.data, &policy, format)?;
            member.data = data;
            removed.extend(labels);
        } else if let Some((data, labels)) = archive::clean_binary_member(&member.data, depth)? {
            member.data = data;
            removed.extend(labels);
        }
        kept.push(member);
    }
    let out = archive::write_members(&kept, format, false)?;
    Ok(Step::Done(out, removed))
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
    fn element(&self, start: &BytesStart<'_>, local: &str) -> ElementAction {
        match local {
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

    fn attribute(&self, element: &str, attribute: &str, has_author: bool) -> AttrAction {
        if attribute.starts_with("rsid") {
            return AttrAction::Drop(RSIDS);
        }
        match (element, attribute) {
            (_, "author") => AttrAction::Replace("Author", AUTHORS),
            (_, "initials") => AttrAction::Replace("A", AUTHORS),
            (_, "userName") => AttrAction::Replace("Author", AUTHORS),
            (_, "date") if has_author => AttrAction::Drop(DATES),
            (_, "dateUtc") => AttrAction::Drop(DATES),
            ("cm", "dt") | ("threadedComment", "dT") => AttrAction::Drop(DATES),
            ("cmAuthor" | "author" | "person" | "userInfo", "name" | "displayName" | "userId") => {
                AttrAction::Replace("Author", AUTHORS)
            }
            ("cmAuthor" | "author" | "person" | "userInfo", "providerId") => {
                AttrAction::Replace("None", AUTHORS)
            }
            _ => AttrAction::Keep,
        }
    }
}
