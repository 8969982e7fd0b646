//! `parse_mode` handling: turns HTML, MarkdownV2 and legacy Markdown into the
//! plain text and `entities` Telegram stores, and rejects malformed markup
//! with Telegram's "can't parse entities" errors.
//!
//! Escaping bugs (an unescaped `.` in MarkdownV2, a stray `<` in HTML) are the
//! most common way a Telegram bot breaks in production, so the simulator is
//! deliberately strict here, like the real server. Invariants: entity
//! `offset`/`length` are in UTF-16 code units, as the Bot API defines them;
//! zero-length entities are dropped; entities are sorted by offset, then by
//! decreasing length (outer before inner).

use serde_json::{Value, json};

use super::error::ApiError;

/// Text and entities after parsing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Parsed {
    /// Visible text.
    pub text: String,
    /// Bot API `MessageEntity` objects.
    pub entities: Vec<Value>,
}

/// Parses `text` according to `parse_mode` (`None` = plain text).
pub(crate) fn parse(text: &str, parse_mode: Option<&str>) -> Result<Parsed, ApiError> {
    let result = match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => {
            return Ok(Parsed {
                text: text.to_owned(),
                entities: Vec::new(),
            });
        }
        Some("html") => parse_html(text),
        Some("markdownv2") => parse_markdown_v2(text),
        Some("markdown") => parse_markdown_legacy(text),
        Some(_) => return Err(ApiError::bad_request("unsupported parse_mode")),
    };
    result.map_err(|msg| ApiError::bad_request(format!("can't parse entities: {msg}")))
}

/// Length in UTF-16 code units, the unit of Telegram's offsets.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[derive(Default)]
struct Out {
    text: String,
    pos: usize,
    entities: Vec<Value>,
}

impl Out {
    fn push(&mut self, c: char) {
        self.text.push(c);
        self.pos += c.len_utf16();
    }

    fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
        self.pos += utf16_len(s);
    }

    fn entity(&mut self, kind: &str, start: usize, extra: Option<(&str, Value)>) {
        if self.pos <= start {
            return;
        }
        let mut e = json!({ "type": kind, "offset": start, "length": self.pos - start });
        if let (Some((k, v)), Some(obj)) = (extra, e.as_object_mut()) {
            obj.insert(k.to_owned(), v);
        }
        self.entities.push(e);
    }

    fn finish(mut self) -> Parsed {
        let key = |e: &Value| {
            let off = e["offset"].as_u64().unwrap_or(0);
            let len = e["length"].as_u64().unwrap_or(0);
            (off, u64::MAX - len)
        };
        // Entities are pushed when they close (inner first); reversing before
        // the stable sort puts the outer one first when two cover the same range.
        self.entities.reverse();
        self.entities.sort_by_key(key);
        Parsed {
            text: self.text,
            entities: self.entities,
        }
    }
}

/// Telegram accepts only absolute links in `text_link` entities.
fn plausible_url(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("http://")
        || url.starts_with("https://")
        || url.starts_with("tg://")
        || url.starts_with("mailto:")
}

// ---------------------------------------------------------------- HTML

struct OpenTag {
    name: String,
    start: usize,
    byte: usize,
    attrs: Vec<(String, String)>,
    /// Language collected from an inner `<code class="language-…">`.
    language: Option<String>,
}

const HTML_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
];

fn decode_entity(s: &str) -> Option<(char, usize)> {
    // `s` starts right after '&'; Telegram supports the four named entities
    // and all numeric ones, anything else stays literal.
    let semi = s.find(';').filter(|&n| n <= 10)?;
    let name = &s[..semi];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, semi + 1))
}

fn decode_all(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        if c == '&'
            && let Some((d, used)) = decode_entity(&s[i + 1..])
        {
            out.push(d);
            i += 1 + used;
            continue;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn parse_html(src: &str) -> Result<Parsed, String> {
    let mut out = Out::default();
    let mut stack: Vec<OpenTag> = Vec::new();
    let mut i = 0;
    while let Some(c) = src[i..].chars().next() {
        match c {
            '<' if src[i + 1..].starts_with('/') => {
                let rest = &src[i + 2..];
                let end = rest
                    .find('>')
                    .ok_or_else(|| format!("Unclosed end tag at byte offset {i}"))?;
                let name = rest[..end].trim().to_ascii_lowercase();
                let open = stack
                    .pop()
                    .ok_or_else(|| format!("Unexpected end tag at byte offset {i}"))?;
                if open.name != name {
                    return Err(format!(
                        "Unmatched end tag at byte offset {i}, expected \"</{}>\", found \"</{name}>\"",
                        open.name
                    ));
                }
                close_html(&mut out, open, stack.last_mut())?;
                i += 2 + end + 1;
            }
            '<' => {
                let rest = &src[i + 1..];
                let name_len = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
                    .count();
                let name = rest[..name_len].to_ascii_lowercase();
                if !HTML_TAGS.contains(&name.as_str()) {
                    return Err(format!(
                        "Unsupported start tag \"{name}\" at byte offset {i}"
                    ));
                }
                let (attrs, used) = parse_attrs(&rest[name_len..])
                    .ok_or_else(|| format!("Unclosed start tag at byte offset {i}"))?;
                if name == "span" && !attrs.iter().any(|(k, v)| k == "class" && v == "tg-spoiler") {
                    return Err("Tag \"span\" must have class \"tg-spoiler\"".to_owned());
                }
                stack.push(OpenTag {
                    name,
                    start: out.pos,
                    byte: i,
                    attrs,
                    language: None,
                });
                i += 1 + name_len + used;
            }
            '&' => match decode_entity(&src[i + 1..]) {
                Some((d, used)) => {
                    out.push(d);
                    i += 1 + used;
                }
                None => {
                    out.push('&');
                    i += 1;
                }
            },
            '>' => {
                // Telegram tolerates a bare '>' in text.
                out.push('>');
                i += 1;
            }
            _ => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    if let Some(open) = stack.pop() {
        let _ = open.byte;
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.name
        ));
    }
    Ok(out.finish())
}

/// Parses attributes up to and including '>', returning them and the bytes used.
fn parse_attrs(s: &str) -> Option<(Vec<(String, String)>, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        if b[i] == b'>' {
            return Some((attrs, i + 1));
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b'_') {
            i += 1;
        }
        if i == start {
            return None;
        }
        let key = s[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vstart = i + 1;
                let vend = vstart + b[vstart..].iter().position(|&x| x == q)?;
                value = decode_all(&s[vstart..vend]);
                i = vend + 1;
            } else {
                let vstart = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = decode_all(&s[vstart..i]);
            }
        }
        attrs.push((key, value));
    }
}

fn attr<'a>(open: &'a OpenTag, key: &str) -> Option<&'a str> {
    open.attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn close_html(out: &mut Out, open: OpenTag, parent: Option<&mut OpenTag>) -> Result<(), String> {
    let start = open.start;
    match open.name.as_str() {
        "b" | "strong" => out.entity("bold", start, None),
        "i" | "em" => out.entity("italic", start, None),
        "u" | "ins" => out.entity("underline", start, None),
        "s" | "strike" | "del" => out.entity("strikethrough", start, None),
        "tg-spoiler" | "span" => out.entity("spoiler", start, None),
        "a" => {
            if let Some(href) = attr(&open, "href").filter(|h| plausible_url(h)) {
                out.entity("text_link", start, Some(("url", json!(href.trim()))));
            }
        }
        "code" => {
            let lang = attr(&open, "class").and_then(|c| c.strip_prefix("language-"));
            match parent {
                Some(p) if p.name == "pre" => p.language = lang.map(str::to_owned),
                _ => out.entity("code", start, None),
            }
        }
        "pre" => {
            let extra = open.language.clone().map(|l| ("language", json!(l)));
            out.entity("pre", start, extra);
        }
        "blockquote" => {
            let kind = if attr(&open, "expandable").is_some() {
                "expandable_blockquote"
            } else {
                "blockquote"
            };
            out.entity(kind, start, None);
        }
        "tg-emoji" => {
            let id = attr(&open, "emoji-id")
                .ok_or("Custom emoji entity must have \"emoji-id\" attribute")?;
            out.entity("custom_emoji", start, Some(("custom_emoji_id", json!(id))));
        }
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------- MarkdownV2

const MD2_RESERVED: &str = "_*[]()~`>#+-=|{}.!";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Md {
    Bold,
    Italic,
    Underline,
    Strike,
    Spoiler,
    Link,
}

impl Md {
    fn name(self) -> &'static str {
        match self {
            Md::Bold => "Bold",
            Md::Italic => "Italic",
            Md::Underline => "Underline",
            Md::Strike => "Strikethrough",
            Md::Spoiler => "Spoiler",
            Md::Link => "TextUrl",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Md::Bold => "bold",
            Md::Italic => "italic",
            Md::Underline => "underline",
            Md::Strike => "strikethrough",
            Md::Spoiler => "spoiler",
            Md::Link => "text_link",
        }
    }
}

fn reserved(c: char) -> String {
    format!("Character '{c}' is reserved and must be escaped with the preceding '\\'")
}

fn parse_markdown_v2(src: &str) -> Result<Parsed, String> {
    let mut out = Out::default();
    let mut stack: Vec<(Md, usize, usize)> = Vec::new();
    let mut quote: Option<usize> = None;
    let mut i = 0;
    while let Some(c) = src[i..].chars().next() {
        let at_line_start = i == 0 || src[..i].ends_with('\n');
        if at_line_start {
            if c == '>' {
                quote.get_or_insert(out.pos);
                i += 1;
                continue;
            }
            if let Some(q) = quote.take() {
                // The quote ended with the previous line; its newline is not part of it.
                let end = out.pos;
                out.pos -= 1;
                out.entity("blockquote", q, None);
                out.pos = end;
            }
        }
        match c {
            '\\' => {
                let next = src[i + 1..].chars().next().ok_or_else(|| reserved('\\'))?;
                out.push(next);
                i += 1 + next.len_utf8();
            }
            '*' | '~' => {
                let kind = if c == '*' { Md::Bold } else { Md::Strike };
                toggle(&mut out, &mut stack, kind, i);
                i += 1;
            }
            '_' if src[i + 1..].starts_with('_') => {
                toggle(&mut out, &mut stack, Md::Underline, i);
                i += 2;
            }
            '_' => {
                toggle(&mut out, &mut stack, Md::Italic, i);
                i += 1;
            }
            '|' if src[i + 1..].starts_with('|') => {
                toggle(&mut out, &mut stack, Md::Spoiler, i);
                i += 2;
            }
            '[' => {
                stack.push((Md::Link, out.pos, i));
                i += 1;
            }
            ']' => {
                let Some(pos) = stack.iter().rposition(|(k, _, _)| *k == Md::Link) else {
                    return Err(reserved(']'));
                };
                let (_, start, _) = stack.remove(pos);
                if !src[i + 1..].starts_with('(') {
                    return Err(reserved('['));
                }
                let (url, used) = read_until_unescaped(&src[i + 2..], ')')
                    .ok_or_else(|| format!("Can't find end of a url at byte offset {}", i + 2))?;
                if plausible_url(&url) {
                    out.entity("text_link", start, Some(("url", json!(url))));
                }
                i += 2 + used + 1;
            }
            '`' if src[i..].starts_with("```") => {
                let (body, used) = read_until_unescaped_str(&src[i + 3..], "```")
                    .ok_or_else(|| format!("Can't find end of Pre entity at byte offset {i}"))?;
                let (lang, code) = match body.split_once('\n') {
                    Some((first, rest))
                        if !first.is_empty() && !first.contains(char::is_whitespace) =>
                    {
                        (Some(first.to_owned()), rest.to_owned())
                    }
                    _ => (None, body.clone()),
                };
                let start = out.pos;
                out.push_str(&code);
                out.entity("pre", start, lang.map(|l| ("language", json!(l))));
                i += 3 + used + 3;
            }
            '`' => {
                let (code, used) = read_until_unescaped(&src[i + 1..], '`')
                    .ok_or_else(|| format!("Can't find end of Code entity at byte offset {i}"))?;
                let start = out.pos;
                out.push_str(&code);
                out.entity("code", start, None);
                i += 1 + used + 1;
            }
            c if MD2_RESERVED.contains(c) => return Err(reserved(c)),
            _ => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    if let Some(q) = quote {
        out.entity("blockquote", q, None);
    }
    if let Some((kind, _, byte)) = stack.first() {
        return Err(format!(
            "Can't find end of {} entity at byte offset {byte}",
            kind.name()
        ));
    }
    Ok(out.finish())
}

fn toggle(out: &mut Out, stack: &mut Vec<(Md, usize, usize)>, kind: Md, byte: usize) {
    match stack.iter().rposition(|(k, _, _)| *k == kind) {
        Some(pos) => {
            let (_, start, _) = stack.remove(pos);
            out.entity(kind.kind(), start, None);
        }
        None => stack.push((kind, out.pos, byte)),
    }
}

/// Reads up to an unescaped `end`; returns the unescaped content and bytes consumed (excluding `end`).
fn read_until_unescaped(s: &str, end: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        if c == '\\' {
            let (_, n) = it.next()?;
            out.push(n);
        } else if c == end {
            return Some((out, i));
        } else {
            out.push(c);
        }
    }
    None
}

fn read_until_unescaped_str(s: &str, end: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        if s[i..].starts_with(end) {
            return Some((out, i));
        }
        if c == '\\' {
            let n = s[i + 1..].chars().next()?;
            out.push(n);
            i += 1 + n.len_utf8();
        } else {
            out.push(c);
            i += c.len_utf8();
        }
    }
    None
}

// ---------------------------------------------------------------- legacy Markdown

fn parse_markdown_legacy(src: &str) -> Result<Parsed, String> {
    let mut out = Out::default();
    let mut i = 0;
    while let Some(c) = src[i..].chars().next() {
        let unclosed = || format!("Can't find end of the entity starting at byte offset {i}");
        match c {
            '\\' if src[i + 1..].starts_with(['_', '*', '`', '[']) => {
                out.push(src[i + 1..].chars().next().unwrap_or('\\'));
                i += 2;
            }
            '*' | '_' => {
                let end = src[i + 1..].find(c).ok_or_else(unclosed)?;
                let start = out.pos;
                out.push_str(&src[i + 1..i + 1 + end]);
                out.entity(if c == '*' { "bold" } else { "italic" }, start, None);
                i += 1 + end + 1;
            }
            '`' if src[i..].starts_with("```") => {
                let end = src[i + 3..].find("```").ok_or_else(unclosed)?;
                let start = out.pos;
                out.push_str(&src[i + 3..i + 3 + end]);
                out.entity("pre", start, None);
                i += 3 + end + 3;
            }
            '`' => {
                let end = src[i + 1..].find('`').ok_or_else(unclosed)?;
                let start = out.pos;
                out.push_str(&src[i + 1..i + 1 + end]);
                out.entity("code", start, None);
                i += 1 + end + 1;
            }
            '[' => {
                let close = src[i + 1..].find("](").ok_or_else(unclosed)?;
                let text = &src[i + 1..i + 1 + close];
                let url_start = i + 1 + close + 2;
                let url_end = src[url_start..].find(')').ok_or_else(unclosed)?;
                let url = &src[url_start..url_start + url_end];
                let start = out.pos;
                out.push_str(text);
                if plausible_url(url) {
                    out.entity("text_link", start, Some(("url", json!(url))));
                }
                i = url_start + url_end + 1;
            }
            _ => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, mode: &str) -> Parsed {
        parse(text, Some(mode)).unwrap()
    }

    fn err(text: &str, mode: &str) -> String {
        parse(text, Some(mode)).unwrap_err().description
    }

    #[test]
    fn html_tags_entities_and_utf16_offsets() {
        let p = ok(
            "Xin <b>chào</b> 😀 <a href=\"https://x.vn\">link</a> &lt;3 &amp; &#39;",
            "HTML",
        );
        assert_eq!(p.text, "Xin chào 😀 link <3 & '");
        assert_eq!(p.entities[0], json!({"type":"bold","offset":4,"length":4}));
        // The emoji counts as two UTF-16 units.
        assert_eq!(
            p.entities[1],
            json!({"type":"text_link","offset":12,"length":4,"url":"https://x.vn"})
        );
    }

    #[test]
    fn html_pre_with_language_and_nesting() {
        let p = ok(
            "<pre><code class=\"language-rust\">fn x()</code></pre><b><i>ab</i></b>",
            "html",
        );
        assert_eq!(p.text, "fn x()ab");
        assert_eq!(
            p.entities[0],
            json!({"type":"pre","offset":0,"length":6,"language":"rust"})
        );
        assert_eq!(p.entities[1]["type"], "bold");
        assert_eq!(p.entities[2]["type"], "italic");
    }

    #[test]
    fn html_errors_match_telegram() {
        assert!(
            err("a <foo>b</foo>", "HTML")
                .starts_with("Bad Request: can't parse entities: Unsupported start tag \"foo\"")
        );
        assert!(
            err("<b>x", "HTML").contains("Can't find end tag corresponding to start tag \"b\"")
        );
        assert!(err("<b><i>x</b></i>", "HTML").contains("Unmatched end tag"));
        assert!(err("x</b>", "HTML").contains("Unexpected end tag"));
        assert!(err("1 < 2", "HTML").contains("Unsupported start tag"));
    }

    #[test]
    fn markdown_v2_requires_escaping() {
        let e = err("Cảm ơn.", "MarkdownV2");
        assert_eq!(
            e,
            "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"
        );
        let p = ok(
            "*Cảm ơn*\\. __u__ ||s|| [x](https://a.b/c\\)d) `c\\`d`",
            "MarkdownV2",
        );
        assert_eq!(p.text, "Cảm ơn. u s x c`d");
        let kinds: Vec<_> = p
            .entities
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kinds, ["bold", "underline", "spoiler", "text_link", "code"]);
        assert_eq!(p.entities[3]["url"], "https://a.b/c)d");
        assert!(
            err("*open", "MarkdownV2").contains("Can't find end of Bold entity at byte offset 0")
        );
    }

    #[test]
    fn markdown_v2_blockquote_and_pre() {
        let p = ok(">q1\n>q2\nafter\n```rust\nlet x;```", "MarkdownV2");
        assert_eq!(p.text, "q1\nq2\nafter\nlet x;");
        assert_eq!(
            p.entities[0],
            json!({"type":"blockquote","offset":0,"length":5})
        );
        assert_eq!(
            p.entities[1],
            json!({"type":"pre","offset":12,"length":6,"language":"rust"})
        );
    }

    #[test]
    fn legacy_markdown() {
        let p = ok("*b* _i_ `c` [t](https://e.org) 1.5!", "Markdown");
        assert_eq!(p.text, "b i c t 1.5!");
        assert_eq!(p.entities.len(), 4);
        assert!(
            err("*open", "Markdown")
                .contains("Can't find end of the entity starting at byte offset 0")
        );
    }

    #[test]
    fn plain_and_unknown_modes() {
        assert_eq!(parse("<b>", None).unwrap().text, "<b>");
        assert_eq!(
            parse("x", Some("bbcode")).unwrap_err().description,
            "Bad Request: unsupported parse_mode"
        );
    }
}
