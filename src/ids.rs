//! Identifier newtypes, parsed at the edge so that a string from a URL, a command line or a
//! chat never reaches the store unchecked.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The internal, random identifier of a case (16 bytes). Never shown to reporters; bound into
/// the associated data of every sealed item of the case.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseId([u8; 16]);

impl CaseId {
    /// A fresh random case id.
    pub fn random() -> Self {
        Self(crate::crypto::random_array())
    }

    /// Wraps raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Parses raw bytes from a slice of the right length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the 32-hex-digit form (either case; surrounding white space is trimmed).
    pub fn parse(s: &str) -> Option<Self> {
        Self::from_slice(&hex::decode(s.trim()).ok()?)
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseId({self})")
    }
}

impl Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom("invalid case id"))
    }
}

/// The public code of a case, `KH-` and eight Crockford base32 symbols in two groups
/// (e.g. `KH-7Q4M-2XPA`, 40 random bits): what the reporter and the Inspectorate quote. It is
/// not a secret and not enough to read anything; the receipt is.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseCode(String);

impl CaseCode {
    /// A fresh random case code.
    pub fn random() -> Self {
        let raw = crate::crypto::base32::encode(&crate::crypto::random_array::<5>());
        Self(format!("KH-{}-{}", &raw[..4], &raw[4..8]))
    }

    /// Parses a case code tolerantly: surrounding white space is trimmed; a leading `KH-` (any
    /// case, and only with its dash) is dropped; the rest is [`crate::crypto::base32::decode`]d
    /// to exactly 5 bytes, so any case, the separators space, `-`, `_` and no-break space
    /// anywhere, and O/0 and I/L/1 confusions are accepted. The result is the canonical
    /// `KH-XXXX-XXXX`. So `kh-7q4m-2xpa`, `7Q4M 2XPA` and `7q4m2xpa` parse, but `KH 7Q4M 2XPA`
    /// and `KH7Q4M2XPA` do not: without the dash `K` and `H` are read as two more symbols.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let rest = s
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("KH-"))
            .map(|_| &s[3..])
            .unwrap_or(s);
        let bytes = crate::crypto::base32::decode(rest, 5)?;
        let raw = crate::crypto::base32::encode(&bytes);
        Some(Self(format!("KH-{}-{}", &raw[..4], &raw[4..8])))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| "invalid case code".to_owned())
    }
}

impl From<CaseCode> for String {
    fn from(c: CaseCode) -> String {
        c.0
    }
}

impl fmt::Display for CaseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CaseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseCode({})", self.0)
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Submitted, not yet taken up.
    New,
    /// A reviewer is working on it.
    InReview,
    /// The Inspectorate asked the reporter something and waits for an answer.
    AwaitingReporter,
    /// Finished, with an outcome.
    Closed,
}

impl CaseStatus {
    /// Every status.
    pub const ALL: [CaseStatus; 4] = [
        Self::New,
        Self::InReview,
        Self::AwaitingReporter,
        Self::Closed,
    ];

    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InReview => "in_review",
            Self::AwaitingReporter => "awaiting_reporter",
            Self::Closed => "closed",
        }
    }

    /// Parses [`CaseStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How a closed case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The report was substantiated.
    Substantiated,
    /// The report could not be substantiated.
    Unsubstantiated,
    /// Referred to another competent body.
    Referred,
    /// Not actionable (too vague, outside competence, …).
    NotActionable,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 4] = [
        Self::Substantiated,
        Self::Unsubstantiated,
        Self::Referred,
        Self::NotActionable,
    ];

    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Substantiated => "substantiated",
            Self::Unsubstantiated => "unsubstantiated",
            Self::Referred => "referred",
            Self::NotActionable => "not_actionable",
        }
    }

    /// Parses [`Outcome::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_code_parse() {
        let c = CaseCode::random();
        assert_eq!(c.as_str().len(), 12);
        assert_eq!(CaseCode::parse(&c.as_str().to_lowercase()), Some(c.clone()));
        assert_eq!(CaseCode::parse(&c.as_str()[3..]), Some(c));
        assert!(CaseCode::parse("KH-").is_none());
        let id = CaseId::random();
        assert_eq!(CaseId::parse(&id.to_string()), Some(id));
    }
}
