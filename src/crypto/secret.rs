//! The server secret: 32 random bytes per version, from which the server derives reporter
//! pseudonyms (HMAC-SHA256 of a Telegram id) and the key that encrypts drafts.
//!
//! Versioned so it can be rotated: the newest version is current; older versions stay readable
//! for a grace period so that drafts in progress survive a rotation.
//!
//! File format (mode 0600), one version per line, comments allowed:
//! ```text
//! # tipline server secret
//! v1 <64 hex digits>
//! v2 <64 hex digits>
//! ```
//! [`ServerSecret::expose_file_text`] writes two `#` comment lines, then `v<N> <64 lower-case hex
//! digits>` per version in ascending order, each line ending in `\n`. [`ServerSecret::parse`]
//! reads more than that:
//! - lines end at `\n` or `\r\n`; each line is trimmed of white space (so indentation, tabs
//!   and trailing blanks are fine); empty lines are skipped;
//! - a comment is a whole line starting with `#` (after trimming); a `#` after a key makes the
//!   line malformed;
//! - a key line is exactly two tokens separated by white space: `v` (lower case) followed by a
//!   decimal `u32` as [`str::parse`] reads it (leading zeros and a leading `+` allowed, so
//!   `v07` and `v+7` are both version 7), then hex of either case decoding to exactly 32 bytes;
//! - lines may come in any order: the **current version is the highest number**, not the last
//!   line;
//! - errors name the line (from 1), never its content; the same version twice is reported as
//!   malformed at "line 0"; no key line at all is [`SecretError::Empty`].
//!
//! Derivations (`docs/FORMATS.md` §9–§11; `tests/formats_kat.rs` checks known answers):
//! ```text
//! pseudonym(v, id) = HMAC-SHA256(key = version v's 32 bytes,
//!                                msg = "tipline/pseudonym/v1/telegram-id" ‖ i64 BE(id))
//! draft_key(v)     = HKDF-SHA256(salt "tipline", ikm = version v's 32 bytes,
//!                                info "tipline/server-secret/v1/draft-key", 32 bytes)
//! ```

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use super::aead::AeadKey;

/// Errors from loading a server secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret text is malformed; the message says which line (never its content).
    #[error("the server secret is malformed at line {0}: expected `vN <64 hex digits>`")]
    Malformed(usize),
    /// No version is present.
    #[error("the server secret contains no key")]
    Empty,
    /// The secret file could not be read or written.
    #[error("could not access the server secret file {path}: {source}")]
    Io {
        /// The file's path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A reporter pseudonym: HMAC-SHA256 of a Telegram id under one server secret version.
/// Keys drafts and rate limits; the raw id is never stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pseudonym(pub [u8; 32]);

impl Pseudonym {
    /// A short, non-reversible label for logs: the first 6 bytes in hex.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({})", self.short())
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

/// The versioned server secret. No `Debug` that prints it, no `Clone`, no `Serialize`.
pub struct ServerSecret {
    /// (version, key), sorted by version ascending; the last is current.
    versions: Vec<(u32, Zeroizing<[u8; 32]>)>,
}

/// Shows only the version numbers, never key material.
impl fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ServerSecret(versions {:?})",
            self.versions_newest_first()
        )
    }
}

impl ServerSecret {
    /// A fresh secret with one version.
    pub fn generate() -> Self {
        Self {
            versions: vec![(1, Zeroizing::new(super::random_array()))],
        }
    }

    /// Parses the file format described in the module docs (tolerant of white space, CRLF,
    /// hex case, line order and leading zeros in version numbers).
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let mut versions = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(v), Some(h), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(SecretError::Malformed(i + 1));
            };
            let version: u32 = v
                .strip_prefix('v')
                .and_then(|n| n.parse().ok())
                .ok_or(SecretError::Malformed(i + 1))?;
            let bytes = Zeroizing::new(hex::decode(h).map_err(|_| SecretError::Malformed(i + 1))?);
            let key: [u8; 32] = bytes[..]
                .try_into()
                .map_err(|_| SecretError::Malformed(i + 1))?;
            versions.push((version, Zeroizing::new(key)));
        }
        if versions.is_empty() {
            return Err(SecretError::Empty);
        }
        versions.sort_by_key(|(v, _)| *v);
        if versions.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(SecretError::Malformed(0));
        }
        Ok(Self { versions })
    }

    /// Reads a secret file.
    pub fn load(path: &Path) -> Result<Self, SecretError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| SecretError::Io {
                    path: path.display().to_string(),
                    source,
                })?,
            );
        Self::parse(&text)
    }

    /// The file text (secret).
    pub fn expose_file_text(&self) -> Zeroizing<String> {
        let mut s = String::from(
            "# tipline server secret: keep private (mode 0600). One version per line;\n\
             # the highest is current, older ones keep drafts readable during a rotation.\n",
        );
        for (v, key) in &self.versions {
            s.push_str(&format!("v{v} {}\n", hex::encode(&key[..])));
        }
        Zeroizing::new(s)
    }

    /// Adds a new current version (rotation). The old versions stay until [`Self::retain_latest`].
    pub fn rotate(&mut self) -> u32 {
        let next = self.current_version() + 1;
        self.versions
            .push((next, Zeroizing::new(super::random_array())));
        next
    }

    /// Drops all but the newest `keep` versions (end of a rotation's grace period).
    pub fn retain_latest(&mut self, keep: usize) {
        let drop = self.versions.len().saturating_sub(keep.max(1));
        self.versions.drain(..drop);
    }

    /// The current version number: the highest present.
    pub fn current_version(&self) -> u32 {
        self.versions.last().map(|(v, _)| *v).unwrap_or(0)
    }

    /// All version numbers, newest first.
    pub fn versions_newest_first(&self) -> Vec<u32> {
        self.versions.iter().rev().map(|(v, _)| *v).collect()
    }

    fn key(&self, version: u32) -> Option<&[u8; 32]> {
        self.versions
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, k)| &**k)
    }

    /// The pseudonym of a Telegram user or chat id under `version`.
    pub fn pseudonym_with(&self, version: u32, telegram_id: i64) -> Option<Pseudonym> {
        Some(pseudonym_under(self.key(version)?, telegram_id))
    }

    /// The pseudonym of a Telegram user or chat id under the current version.
    pub fn pseudonym(&self, telegram_id: i64) -> Pseudonym {
        // `versions` is never empty: `parse` and `generate` guarantee at least one.
        let (_, key) = &self.versions[self.versions.len() - 1];
        pseudonym_under(key, telegram_id)
    }

    /// The key that encrypts drafts under `version`: HKDF-SHA256 with salt `"tipline"`, the
    /// version's 32 bytes as input keying material and info
    /// `"tipline/server-secret/v1/draft-key"`, 32 bytes. `None` if the version is absent.
    pub fn draft_key(&self, version: u32) -> Option<AeadKey> {
        let key = self.key(version)?;
        let mut out = [0u8; 32];
        super::hkdf_sha256(
            b"tipline",
            key,
            &[b"tipline/server-secret/v1/draft-key"],
            &mut out,
        );
        let k = AeadKey::from_bytes(out);
        zeroize::Zeroize::zeroize(&mut out);
        Some(k)
    }

    /// A key for another server-side purpose, under the **current** version: HKDF-SHA256 with
    /// salt `"tipline"` and info `"tipline/server-secret/v1/" ‖ label`, 32 bytes.
    ///
    /// Labels share their prefix with [`Self::draft_key`]'s info, so `derive_key("draft-key")`
    /// *is* the current draft key: never pass `"draft-key"` (nothing calls this today; see
    /// `docs/FORMATS.md` §16).
    pub fn derive_key(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let (_, key) = &self.versions[self.versions.len() - 1];
        let mut out = Zeroizing::new([0u8; 32]);
        super::hkdf_sha256(
            b"tipline",
            &key[..],
            &[b"tipline/server-secret/v1/", label.as_bytes()],
            &mut out[..],
        );
        out
    }
}

fn pseudonym_under(key: &[u8; 32], telegram_id: i64) -> Pseudonym {
    Pseudonym(super::hmac_sha256(
        key,
        &[
            b"tipline/pseudonym/v1/telegram-id",
            &telegram_id.to_be_bytes(),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trip_and_rotation() {
        let mut s = ServerSecret::generate();
        let p1 = s.pseudonym(42);
        let text = s.expose_file_text();
        let back = ServerSecret::parse(&text).unwrap();
        assert_eq!(back.pseudonym(42), p1);
        assert_ne!(back.pseudonym(43), p1);
        assert_eq!(s.rotate(), 2);
        assert_ne!(s.pseudonym(42), p1);
        assert_eq!(s.pseudonym_with(1, 42), Some(p1));
        assert!(s.draft_key(1).is_some() && s.draft_key(2).is_some());
        s.retain_latest(1);
        assert_eq!(s.versions_newest_first(), vec![2]);
        assert!(s.pseudonym_with(1, 42).is_none());
    }

    #[test]
    fn malformed_lines_name_the_line_not_the_content() {
        let err = ServerSecret::parse("# c\nv1 zz\n").unwrap_err().to_string();
        assert!(err.contains("line 2"));
        assert!(!err.contains("zz"));
        assert!(matches!(
            ServerSecret::parse("# only a comment"),
            Err(SecretError::Empty)
        ));
    }
}
