//! Streaming XML rewriting for office documents, on `quick-xml` events.
//!
//! A [`Policy`] decides, per element, whether to keep it, drop it with its subtree, or
//! replace its text content, and per attribute whether to keep, drop or neutralise it.
//! Everything else — declarations, namespaces, processing instructions, text, and the
//! exact bytes of untouched tags — is written back as read, so the document stays valid
//! and diff-minimal. XML comments are dropped (office suites never need them and they can
//! carry tool or user notes). Namespace declarations are never touched.
//!
//! Invariants: input must be well-formed XML in UTF-8 (or UTF-16 with a BOM, written back
//! as UTF-8) with matching end tags, otherwise the part is reported malformed (fail
//! closed); output is well-formed whenever input is.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::{NsReader, Reader, XmlVersion};

use super::{CleanError, Format};

/// What to do with an element.
pub(crate) enum ElementAction {
    /// Keep it (its attributes still go through [`Policy::attribute`]).
    Keep,
    /// Remove it and everything inside it; the label names what was removed.
    Drop(&'static str),
    /// Keep the tag but replace all its content with this text (already XML-safe);
    /// the label is reported if the content actually differed.
    ReplaceText(&'static str, &'static str),
}

/// What to do with an attribute.
pub(crate) enum AttrAction {
    /// Keep as is.
    Keep,
    /// Remove it; the label names what was removed.
    Drop(&'static str),
    /// Replace its value with this (already XML-safe) value; labelled if it differed.
    Replace(&'static str, &'static str),
}

/// An element as a [`Policy`] sees it.
pub(crate) struct Tag<'a, 'b> {
    /// The start tag, for looking at its other attributes.
    pub(crate) start: &'a BytesStart<'b>,
    /// The local name (after the prefix).
    pub(crate) local: &'a str,
    /// The namespace URI the prefix resolves to, if any: prefixes are the author's choice
    /// (`dc:`, `ns0:` …), so rules about a vocabulary must match the URI.
    pub(crate) ns: Option<&'a str>,
}

/// One attribute as a [`Policy`] sees it.
pub(crate) struct Attr<'a> {
    /// The attribute's local name.
    pub(crate) local: &'a str,
    /// Its value as written (entities not expanded).
    pub(crate) value: &'a str,
    /// Whether the element also carries an `author` attribute (revision marks and comments
    /// do, and their dates go with their authors).
    pub(crate) has_author: bool,
}

/// Rules for one document family.
pub(crate) trait Policy {
    /// Decide about an element.
    fn element(&self, tag: &Tag<'_, '_>) -> ElementAction;
    /// Decide about one attribute of an element that is kept.
    fn attribute(&self, tag: &Tag<'_, '_>, attr: &Attr<'_>) -> AttrAction;
}

/// Whether an attribute value is a path on someone's computer or network share: a `file:`
/// URI, a drive-letter path (`C:\Users\…`), a UNC path (`\\server\share`), or a Unix or
/// macOS home directory. Such paths name the account that saved the file.
pub(crate) fn is_local_path(value: &str) -> bool {
    let v = value.trim();
    let b = v.as_bytes();
    let starts_ci = |prefix: &str| {
        v.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    starts_ci("file:")
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
        || v.starts_with("\\\\")
        || starts_ci("/users/")
        || starts_ci("/home/")
}

/// The part after the namespace prefix.
pub(crate) fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Value of the attribute with the given local name, unescaped, if present and readable.
pub(crate) fn attr_value(start: &BytesStart<'_>, wanted: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| local(a.key.0) == wanted)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(Cow::into_owned)
        })
}

/// An XML part as text. UTF-8 is used as is (a BOM is kept aside and written back);
/// UTF-16 with a BOM — which some producers use for `customXml` items — is decoded, and
/// the part is then written back as UTF-8 with its declaration saying so.
struct Decoded<'a> {
    bom: &'a [u8],
    text: Cow<'a, str>,
    from_utf16: bool,
}

fn decode(xml: &[u8]) -> Option<Decoded<'_>> {
    let utf16 = |body: &[u8], big_endian: bool| -> Option<String> {
        if !body.len().is_multiple_of(2) {
            return None;
        }
        let units = body.chunks_exact(2).map(|u| {
            if big_endian {
                u16::from_be_bytes([u[0], u[1]])
            } else {
                u16::from_le_bytes([u[0], u[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    if let Some(body) = xml.strip_prefix(b"\xEF\xBB\xBF") {
        let text = Cow::Borrowed(std::str::from_utf8(body).ok()?);
        return Some(Decoded {
            bom: &xml[..3],
            text,
            from_utf16: false,
        });
    }
    if let Some(body) = xml.strip_prefix(b"\xFF\xFE") {
        return Some(Decoded {
            bom: &[],
            text: Cow::Owned(utf16(body, false)?),
            from_utf16: true,
        });
    }
    if let Some(body) = xml.strip_prefix(b"\xFE\xFF") {
        return Some(Decoded {
            bom: &[],
            text: Cow::Owned(utf16(body, true)?),
            from_utf16: true,
        });
    }
    let text = Cow::Borrowed(std::str::from_utf8(xml).ok()?);
    Some(Decoded {
        bom: &[],
        text,
        from_utf16: false,
    })
}

/// An XML part as text, for read-only scans.
pub(crate) fn decode_text(xml: &[u8]) -> Option<Cow<'_, str>> {
    decode(xml).map(|d| d.text)
}

/// The XML declaration to write: unchanged, or saying UTF-8 for a part decoded from UTF-16.
fn declaration<'a>(decl: BytesDecl<'a>, from_utf16: bool) -> BytesDecl<'a> {
    if !from_utf16 {
        return decl;
    }
    let version = decl
        .version()
        .map(Cow::into_owned)
        .unwrap_or_else(|_| "1.0".to_owned());
    let standalone = decl.standalone().and_then(Result::ok).map(Cow::into_owned);
    BytesDecl::new(&version, Some("UTF-8"), standalone.as_deref())
}

/// Rewrite one XML part under `policy`. Returns the new bytes and the labels of what
/// was removed (empty if nothing was).
pub(crate) fn rewrite(
    xml: &[u8],
    policy: &dyn Policy,
    format: Format,
) -> Result<(Vec<u8>, Vec<&'static str>), CleanError> {
    let malformed = || CleanError::Malformed { format };
    let decoded = decode(xml).ok_or_else(malformed)?;
    let mut reader = NsReader::from_str(&decoded.text);
    let mut out = Vec::with_capacity(xml.len());
    out.extend_from_slice(decoded.bom);
    let mut writer = Writer::new(out);
    let mut labels = Vec::new();
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| {
        w.write_event(e).map_err(|_| CleanError::Rewrite { format })
    };

    // While > 0 we are inside a dropped or replaced element.
    let mut skip_depth = 0usize;
    // Elements open in the output; the reader does not report unclosed ones at the end.
    let mut open = 0usize;
    // For a replaced element: its end tag, replacement and label, and the old content.
    let mut replacing: Option<(BytesEnd<'static>, &'static str, &'static str)> = None;
    let mut old_content = String::new();

    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(|_| malformed())?;
        let ns: Option<String> = match resolved {
            ResolveResult::Bound(Namespace(uri)) => Some(uri.to_owned()),
            ResolveResult::Unbound | ResolveResult::Unknown(_) => None,
        };
        if skip_depth > 0 {
            match event {
                Event::Start(_) => skip_depth += 1,
                Event::End(_) => {
                    skip_depth -= 1;
                    if skip_depth == 0
                        && let Some((end, replacement, label)) = replacing.take()
                    {
                        if old_content != replacement {
                            labels.push(label);
                        }
                        old_content.clear();
                        write(&mut writer, Event::End(end))?;
                    }
                }
                Event::Text(t) if replacing.is_some() => old_content.push_str(&t),
                Event::CData(_) | Event::GeneralRef(_) | Event::Empty(_) if replacing.is_some() => {
                    // Any non-text content differs from the replacement.
                    old_content.push('\u{fffd}');
                }
                Event::Eof => return Err(malformed()),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(start) => match element_action(policy, &start, ns.as_deref()) {
                ElementAction::Drop(label) => {
                    labels.push(label);
                    skip_depth = 1;
                }
                ElementAction::ReplaceText(replacement, label) => {
                    let start =
                        rewrite_attributes(start, ns.as_deref(), policy, &mut labels, format)?;
                    let end = start.to_end().into_owned();
                    write(&mut writer, Event::Start(start))?;
                    write(
                        &mut writer,
                        Event::Text(BytesText::from_escaped(replacement)),
                    )?;
                    replacing = Some((end, replacement, label));
                    skip_depth = 1;
                }
                ElementAction::Keep => {
                    let start =
                        rewrite_attributes(start, ns.as_deref(), policy, &mut labels, format)?;
                    open += 1;
                    write(&mut writer, Event::Start(start))?;
                }
            },
            Event::Empty(start) => match element_action(policy, &start, ns.as_deref()) {
                ElementAction::Drop(label) => labels.push(label),
                // An empty element has no content to replace.
                ElementAction::ReplaceText(..) | ElementAction::Keep => {
                    let start =
                        rewrite_attributes(start, ns.as_deref(), policy, &mut labels, format)?;
                    write(&mut writer, Event::Empty(start))?;
                }
            },
            Event::End(end) => {
                open = open.checked_sub(1).ok_or_else(malformed)?;
                write(&mut writer, Event::End(end))?;
            }
            Event::Comment(_) => {}
            Event::Decl(decl) => write(
                &mut writer,
                Event::Decl(declaration(decl, decoded.from_utf16)),
            )?,
            Event::Eof if open == 0 => break,
            Event::Eof => return Err(malformed()),
            other => write(&mut writer, other)?,
        }
    }
    Ok((writer.into_inner(), labels))
}

fn element_action(policy: &dyn Policy, start: &BytesStart<'_>, ns: Option<&str>) -> ElementAction {
    policy.element(&Tag {
        start,
        local: local(start.name().0),
        ns,
    })
}

/// Apply the attribute policy to a start tag. Returns it unchanged (same bytes) when no
/// attribute is affected.
fn rewrite_attributes<'a>(
    start: BytesStart<'a>,
    ns: Option<&str>,
    policy: &dyn Policy,
    labels: &mut Vec<&'static str>,
    format: Format,
) -> Result<BytesStart<'a>, CleanError> {
    let attrs: Vec<Attribute<'_>> = start
        .attributes()
        .collect::<Result<_, _>>()
        .map_err(|_| CleanError::Malformed { format })?;
    let tag = Tag {
        start: &start,
        local: local(start.name().0),
        ns,
    };
    let has_author = attrs.iter().any(|a| local(a.key.0) == "author");
    let mut new_attrs: Vec<Attribute<'_>> = Vec::with_capacity(attrs.len());
    let mut changed = false;
    for attr in &attrs {
        let key = attr.key.0;
        if key == "xmlns" || key.starts_with("xmlns:") {
            new_attrs.push(attr.clone());
            continue;
        }
        let action = policy.attribute(
            &tag,
            &Attr {
                local: local(key),
                value: &attr.value,
                has_author,
            },
        );
        match action {
            AttrAction::Keep => new_attrs.push(attr.clone()),
            AttrAction::Drop(label) => {
                labels.push(label);
                changed = true;
            }
            AttrAction::Replace(value, label) => {
                if attr.value != value {
                    labels.push(label);
                    changed = true;
                }
                new_attrs.push(Attribute {
                    key: QName(key),
                    value: Cow::Borrowed(value),
                });
            }
        }
    }
    if !changed {
        return Ok(start);
    }
    let mut rebuilt = BytesStart::new(start.name().0.to_owned());
    for attr in new_attrs {
        rebuilt.push_attribute(attr);
    }
    Ok(rebuilt)
}

/// A minimal replacement for a metadata part: the XML declaration (if any) and the root
/// element with only its namespace declarations plus the attributes named in `keep`,
/// optionally wrapping one empty child element (ODF requires `<office:meta/>`). Built from
/// the original root so Strict and Transitional OOXML and every ODF version keep their
/// own namespaces.
pub(crate) fn minimal_root(
    xml: &[u8],
    keep: &[&str],
    child: Option<&str>,
    format: Format,
) -> Result<Vec<u8>, CleanError> {
    let malformed = || CleanError::Malformed { format };
    let decoded = decode(xml).ok_or_else(malformed)?;
    let mut reader = Reader::from_str(&decoded.text);
    let mut writer = Writer::new(Vec::new());
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| {
        w.write_event(e).map_err(|_| CleanError::Rewrite { format })
    };
    loop {
        match reader.read_event().map_err(|_| malformed())? {
            Event::Decl(decl) => write(
                &mut writer,
                Event::Decl(declaration(decl, decoded.from_utf16)),
            )?,
            Event::Start(root) | Event::Empty(root) => {
                let name = root.name().0.to_owned();
                let mut new_root = BytesStart::new(name.clone());
                for attr in root.attributes() {
                    let attr = attr.map_err(|_| malformed())?;
                    let key = attr.key.0;
                    if key == "xmlns" || key.starts_with("xmlns:") || keep.contains(&local(key)) {
                        new_root.push_attribute(attr);
                    }
                }
                write(&mut writer, Event::Start(new_root))?;
                if let Some(child) = child {
                    let prefix = name.rsplit_once(':').map(|(p, _)| p);
                    let child_name = match prefix {
                        Some(p) => format!("{p}:{child}"),
                        None => child.to_owned(),
                    };
                    write(&mut writer, Event::Empty(BytesStart::new(child_name)))?;
                }
                write(&mut writer, Event::End(BytesEnd::new(name)))?;
                return Ok(writer.into_inner());
            }
            Event::Eof => return Err(malformed()),
            _ => {}
        }
    }
}
