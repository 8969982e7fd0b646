//! Request parameter parsing for the fake Bot API.
//!
//! The Bot API accepts parameters in the query string, as a JSON body, as
//! `application/x-www-form-urlencoded` and as `multipart/form-data`; teloxide
//! uses JSON for ordinary calls and multipart when it uploads a file (the file
//! field then holds `attach://<part name>`). All four are merged into one
//! [`Params`] so that method handlers never care how the bot encoded a call.
//!
//! Invariants: values from text encodings arrive as strings, so every accessor
//! coerces (`"123"` is an integer, `"true"` a boolean, a JSON string holding
//! an object is that object); uploaded parts are kept as bytes and never
//! appear in [`Params::to_record`] as content, only as size and name.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::ApiError;

/// One uploaded multipart file part.
#[derive(Clone, Debug)]
pub(crate) struct Upload {
    /// File name given by the client, if any.
    pub file_name: Option<String>,
    /// Content type given by the client, if any.
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: Bytes,
}

/// Merged parameters of one API call.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    fields: Map<String, Value>,
    uploads: HashMap<String, Upload>,
    /// Upload parts already described by a resolved field.
    consumed: HashSet<String>,
}

impl Params {
    /// Parses the query string and the body according to `content_type`.
    pub(crate) fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &Bytes,
    ) -> Result<Self, ApiError> {
        let mut p = Self::default();
        if let Some(q) = query {
            for (k, v) in parse_urlencoded(q.as_bytes()) {
                p.fields.insert(k, Value::String(v));
            }
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        if body.is_empty() {
            return Ok(p);
        }
        if ct.starts_with("application/json") || (ct.is_empty() && body.first() == Some(&b'{')) {
            let v: Value = serde_json::from_slice(body)
                .map_err(|_| ApiError::bad_request("can't parse JSON object"))?;
            match v {
                Value::Object(map) => p.fields.extend(map),
                _ => return Err(ApiError::bad_request("can't parse JSON object")),
            }
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            for (k, v) in parse_urlencoded(body) {
                p.fields.insert(k, Value::String(v));
            }
        } else if ct.starts_with("multipart/form-data") {
            let boundary = content_type.and_then(boundary_of).ok_or_else(|| {
                ApiError::bad_request("can't parse multipart/form-data: no boundary")
            })?;
            for part in parse_multipart(body, &boundary)? {
                match part.file_name {
                    Some(_) => {
                        p.uploads.insert(
                            part.name,
                            Upload {
                                file_name: part.file_name,
                                content_type: part.content_type,
                                bytes: part.body,
                            },
                        );
                    }
                    None => {
                        let text = String::from_utf8_lossy(&part.body).into_owned();
                        p.fields.insert(part.name, Value::String(text));
                    }
                }
            }
        }
        Ok(p)
    }

    /// Builds parameters directly (used by tests of the method layer).
    #[cfg(test)]
    pub(crate) fn from_json(v: Value) -> Self {
        match v {
            Value::Object(fields) => Self {
                fields,
                ..Self::default()
            },
            _ => Self::default(),
        }
    }

    /// Raw value of a field.
    pub(crate) fn raw(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }

    /// A string field (numbers are rendered as strings).
    pub(crate) fn str(&self, name: &str) -> Option<String> {
        match self.raw(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An integer field; `Err` if present but not an integer.
    pub(crate) fn i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("invalid {name} specified"))),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid {name} specified"))),
            Some(_) => Err(ApiError::bad_request(format!("invalid {name} specified"))),
        }
    }

    /// A boolean field; absent means `false`.
    pub(crate) fn flag(&self, name: &str) -> bool {
        match self.raw(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.as_str(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// A structured field (object or array), accepting a JSON-encoded string
    /// as the text encodings send it.
    pub(crate) fn json(&self, name: &str) -> Result<Option<Value>, ApiError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("can't parse {name} JSON object"))),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// The uploaded part with this name.
    pub(crate) fn upload(&self, name: &str) -> Option<&Upload> {
        self.uploads.get(name)
    }

    /// Replaces a field with the descriptor of the upload it referenced, so
    /// the record shows the upload once, under the field's name.
    pub(crate) fn resolve_upload(&mut self, field: &str, part: &str, descriptor: Value) {
        self.fields.insert(field.to_owned(), descriptor);
        self.consumed.insert(part.to_owned());
    }

    /// The parameters as recorded for assertions: fields as sent, plus one
    /// descriptor per upload that was not already resolved into a field.
    pub(crate) fn to_record(&self) -> Value {
        let mut m = self.fields.clone();
        for (name, up) in self
            .uploads
            .iter()
            .filter(|(n, _)| !self.consumed.contains(*n))
        {
            m.entry(name.clone()).or_insert_with(
                || json!({ "upload": { "file_name": up.file_name, "size": up.bytes.len() } }),
            );
        }
        Value::Object(m)
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs.
pub(crate) fn parse_urlencoded(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|&b| b == b'&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Percent-decodes bytes (and `+` as space when `plus_is_space`), lossily as UTF-8.
pub(crate) fn percent_decode(input: &[u8], plus_is_space: bool) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A small RFC 7578 parser: enough for reqwest's (and curl's) encoders.
fn parse_multipart(body: &Bytes, boundary: &str) -> Result<Vec<Part>, ApiError> {
    let bad = || ApiError::bad_request("can't parse multipart/form-data");
    let delim = format!("--{boundary}").into_bytes();
    let mut next_delim = Vec::with_capacity(delim.len() + 2);
    next_delim.extend_from_slice(b"\r\n");
    next_delim.extend_from_slice(&delim);

    let mut pos = find(body, &delim, 0).ok_or_else(bad)? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err(bad());
        }
        pos += 2;
        let header_end = find(body, b"\r\n\r\n", pos).ok_or_else(bad)?;
        let headers = String::from_utf8_lossy(&body[pos..header_end]).into_owned();
        let content_start = header_end + 4;
        let content_end = find(body, &next_delim, content_start).ok_or_else(bad)?;

        let mut name = None;
        let mut file_name = None;
        let mut file_name_star = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let Some((h, v)) = line.split_once(':') else {
                continue;
            };
            if h.trim().eq_ignore_ascii_case("content-disposition") {
                for attr in split_disposition(v) {
                    let Some((k, val)) = attr.split_once('=') else {
                        continue;
                    };
                    let k = k.trim().to_ascii_lowercase();
                    let val = unquote(val.trim());
                    match k.as_str() {
                        "name" => name = Some(val),
                        "filename" => file_name = Some(val),
                        "filename*" => file_name_star = Some(val),
                        _ => {}
                    }
                }
            } else if h.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_owned());
            }
        }
        // RFC 5987 `filename*=utf-8''...` wins; reqwest percent-encodes plain
        // `filename` values outside ASCII, so decode those too.
        let file_name = match file_name_star {
            Some(star) => Some(match star.split_once("''") {
                Some((_, enc)) => percent_decode(enc.as_bytes(), false),
                None => star,
            }),
            None => file_name.map(|f| {
                if f.contains('%') {
                    percent_decode(f.as_bytes(), false)
                } else {
                    f
                }
            }),
        };
        parts.push(Part {
            name: name.ok_or_else(bad)?,
            file_name,
            content_type,
            body: body.slice(content_start..content_end),
        });
        pos = content_end + next_delim.len();
    }
}

/// Splits `form-data; name="a;b"; filename="x"` on semicolons outside quotes.
fn split_disposition(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut escaped = false;
    for c in v.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                in_quotes = !in_quotes;
                cur.push(c);
            }
            ';' if !in_quotes => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_decodes_plus_and_percent() {
        let p = parse_urlencoded(b"chat_id=42&text=Xin+ch%C3%A0o%21&empty=");
        assert_eq!(p[0], ("chat_id".into(), "42".into()));
        assert_eq!(p[1], ("text".into(), "Xin chào!".into()));
        assert_eq!(p[2], ("empty".into(), String::new()));
    }

    #[test]
    fn percent_decode_keeps_broken_escapes() {
        assert_eq!(percent_decode(b"100%", false), "100%");
        assert_eq!(percent_decode(b"%zz%41", false), "%zzA");
        assert_eq!(percent_decode(b"a%2Fb", false), "a/b");
    }

    #[test]
    fn multipart_text_and_file_parts() {
        let body = Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"document\"\r\n\r\nattach://abc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"abc\"; filename=\"b%C3%A1o c%C3%A1o.pdf\"\r\nContent-Type: application/pdf\r\n\r\n\x00\x01\r\n--\x02\r\n--XyZ--\r\n",
        );
        let p = Params::parse(None, Some("multipart/form-data; boundary=XyZ"), &body).unwrap();
        assert_eq!(p.i64("chat_id").unwrap(), Some(42));
        assert_eq!(p.str("document").as_deref(), Some("attach://abc"));
        let up = p.upload("abc").unwrap();
        assert_eq!(up.file_name.as_deref(), Some("báo cáo.pdf"));
        assert_eq!(&up.bytes[..], b"\x00\x01\r\n--\x02");
        assert_eq!(up.content_type.as_deref(), Some("application/pdf"));
    }

    #[test]
    fn json_fields_accept_encoded_strings() {
        let p = Params::parse(
            Some("x=1"),
            Some("application/x-www-form-urlencoded"),
            &Bytes::from_static(b"reply_markup=%7B%22remove_keyboard%22%3Atrue%7D&flag=true"),
        )
        .unwrap();
        assert_eq!(
            p.json("reply_markup").unwrap(),
            Some(json!({"remove_keyboard": true}))
        );
        assert!(p.flag("flag"));
        assert_eq!(p.i64("x").unwrap(), Some(1));
    }
}
