//! Recipient keys: X25519 public and secret keys, their key ids, and the short copyable string
//! in which a key holder hands a public key to an administrator.
//!
//! Public key string: `tlrev1…` (reviewer) or `tlcus1…` (custodian), followed by the Crockford
//! base32 of the 32-byte key and a 4-byte checksum, SHA-256("tipline public key v1" ‖ prefix ‖
//! key)[..4]. The checksum catches a mistyped or truncated paste, and the prefix makes it
//! impossible to register a custodian key as a reviewer key by accident. The string has no
//! dashes so a double click selects all of it.
//!
//! Version 2 (`tlrev2…` / `tlcus2…`, made by key files of version 2) carries the holder's
//! Ed25519 verification key too: base32 of the X25519 key (32) ‖ the Ed25519 key (32) ‖ a
//! 4-byte checksum, SHA-256("tipline public key v2" ‖ prefix ‖ both keys)[..4]. The keyring
//! authority signs both keys into the keyring; replies to reporters are signed with it.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{CryptoError, base32};

/// Length of an X25519 key.
pub const KEY_LEN: usize = 32;
/// Length of a key id.
pub const KEY_ID_LEN: usize = 8;
const CHECKSUM_LEN: usize = 4;

/// What a recipient key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// Inspectorate staff who read case summaries, attachments and the reporter thread.
    Reviewer,
    /// Holders of the separate keys that open reporter identities.
    Custodian,
}

impl RecipientRole {
    /// The stable name used in storage and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reviewer => "reviewer",
            Self::Custodian => "custodian",
        }
    }

    /// Parses [`RecipientRole::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reviewer" => Some(Self::Reviewer),
            "custodian" => Some(Self::Custodian),
            _ => None,
        }
    }

    fn string_prefix(self) -> &'static str {
        match self {
            Self::Reviewer => "tlrev1",
            Self::Custodian => "tlcus1",
        }
    }
}

impl fmt::Display for RecipientRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An X25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses raw key bytes from a slice of the right length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self(
            bytes.try_into().map_err(|_| CryptoError::InvalidEnvelope)?,
        ))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key id: SHA-256("tipline key id v1" ‖ key)[..8]. It lets a key holder find its wrap
    /// in an envelope without trial decryption; it is not a security boundary (a wrong key
    /// simply fails to open).
    pub fn key_id(&self) -> KeyId {
        let digest = super::sha256(&[b"tipline key id v1", &self.0]);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }

    /// Checks that something can be sealed to this key: a low-order point (which an attacker
    /// could register so that "sealed" data is readable by anyone) fails HPKE encapsulation.
    pub fn check_usable(&self) -> Result<(), CryptoError> {
        super::suite::seal_base(self, b"tipline key check", b"", b"").map(|_| ())
    }

    /// The copyable string for this key in the given role (see the module docs).
    pub fn to_key_string(&self, role: RecipientRole) -> String {
        let prefix = role.string_prefix();
        let mut body = self.0.to_vec();
        body.extend_from_slice(&checksum(prefix, &self.0));
        format!("{prefix}{}", base32::encode(&body).to_lowercase())
    }

    /// Parses a string made by [`PublicKey::to_key_string`], returning the role it names.
    /// Surrounding white space is ignored; anything else wrong is an error.
    pub fn parse_key_string(s: &str) -> Result<(RecipientRole, Self), CryptoError> {
        let s = s.trim();
        for role in [RecipientRole::Reviewer, RecipientRole::Custodian] {
            let prefix = role.string_prefix();
            if !s
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            {
                continue;
            }
            let body = base32::decode(&s[prefix.len()..], KEY_LEN + CHECKSUM_LEN)
                .ok_or(CryptoError::InvalidPublicKeyString)?;
            let (key, sum) = body.split_at(KEY_LEN);
            let mut bytes = [0u8; KEY_LEN];
            bytes.copy_from_slice(key);
            if !super::ct_eq(sum, &checksum(prefix, &bytes)) {
                return Err(CryptoError::InvalidPublicKeyString);
            }
            return Ok((role, Self(bytes)));
        }
        Err(CryptoError::InvalidPublicKeyString)
    }
}

/// A recipient's public keys as a key string names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientKeys {
    /// Reviewer or custodian.
    pub role: RecipientRole,
    /// The X25519 key items are sealed to.
    pub encryption: PublicKey,
    /// The Ed25519 key its holder signs with (version 2 strings only).
    pub verification: Option<super::sign::VerifyingKey>,
}

impl RecipientKeys {
    /// The version 2 string (`tlrev2…`/`tlcus2…`), or version 1 without a verification key.
    pub fn to_key_string(&self) -> String {
        let Some(v) = self.verification else {
            return self.encryption.to_key_string(self.role);
        };
        let prefix = v2_prefix(self.role);
        let mut body = self.encryption.0.to_vec();
        body.extend_from_slice(v.as_bytes());
        body.extend_from_slice(&checksum_v2(prefix, &body));
        format!("{prefix}{}", base32::encode(&body).to_lowercase())
    }

    /// Parses a version 1 or version 2 key string.
    pub fn parse(s: &str) -> Result<RecipientKeys, CryptoError> {
        let t = s.trim();
        for role in [RecipientRole::Reviewer, RecipientRole::Custodian] {
            let prefix = v2_prefix(role);
            if !t
                .get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
            {
                continue;
            }
            let body = base32::decode(&t[prefix.len()..], 2 * KEY_LEN + CHECKSUM_LEN)
                .ok_or(CryptoError::InvalidPublicKeyString)?;
            let (keys, sum) = body.split_at(2 * KEY_LEN);
            if !super::ct_eq(sum, &checksum_v2(prefix, keys)) {
                return Err(CryptoError::InvalidPublicKeyString);
            }
            let mut enc = [0u8; KEY_LEN];
            enc.copy_from_slice(&keys[..KEY_LEN]);
            let verification = super::sign::VerifyingKey::from_slice(&keys[KEY_LEN..])
                .map_err(|_| CryptoError::InvalidPublicKeyString)?;
            return Ok(RecipientKeys {
                role,
                encryption: PublicKey(enc),
                verification: Some(verification),
            });
        }
        let (role, encryption) = PublicKey::parse_key_string(t)?;
        Ok(RecipientKeys {
            role,
            encryption,
            verification: None,
        })
    }
}

fn v2_prefix(role: RecipientRole) -> &'static str {
    match role {
        RecipientRole::Reviewer => "tlrev2",
        RecipientRole::Custodian => "tlcus2",
    }
}

fn checksum_v2(prefix: &str, keys: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = super::sha256(&[b"tipline public key v2", prefix.as_bytes(), keys]);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

fn checksum(prefix: &str, key: &[u8; KEY_LEN]) -> [u8; CHECKSUM_LEN] {
    let digest = super::sha256(&[b"tipline public key v1", prefix.as_bytes(), key]);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

/// An X25519 secret key. No `Debug`, `Clone` or `Serialize`; zeroized on drop.
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    /// Wraps raw secret key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw secret key bytes.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        super::suite::public_key_of(self)
    }
}

/// A short identifier of a public key (see [`PublicKey::key_id`]); shown as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// Wraps raw key id bytes.
    pub fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }

    /// Parses the 16-hex-digit form.
    pub fn parse(s: &str) -> Option<Self> {
        let bytes = hex::decode(s.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom("invalid key id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_string_round_trip_and_typos() {
        let (_, pk) = super::super::suite::generate_keypair();
        let s = pk.to_key_string(RecipientRole::Reviewer);
        assert!(s.starts_with("tlrev1"));
        assert_eq!(s.len(), 6 + 58);
        assert_eq!(
            PublicKey::parse_key_string(&format!("  {s}\n")).unwrap(),
            (RecipientRole::Reviewer, pk)
        );
        assert_eq!(
            PublicKey::parse_key_string(&s.to_uppercase()).unwrap().1,
            pk
        );
        // Every single-character substitution is caught by the checksum or the alphabet.
        let alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        for i in 6..s.len() {
            for c in alphabet.chars() {
                let mut t: Vec<char> = s.chars().collect();
                if t[i] == c {
                    continue;
                }
                t[i] = c;
                let t: String = t.into_iter().collect();
                assert!(
                    PublicKey::parse_key_string(&t).is_err(),
                    "typo at {i} accepted"
                );
            }
        }
        assert!(PublicKey::parse_key_string(&s[..s.len() - 1]).is_err());
        let c = pk.to_key_string(RecipientRole::Custodian);
        assert_eq!(
            PublicKey::parse_key_string(&c).unwrap().0,
            RecipientRole::Custodian
        );
        // A reviewer string with a custodian prefix pasted over it fails the checksum.
        let forged = format!("tlcus1{}", &s[6..]);
        assert!(PublicKey::parse_key_string(&forged).is_err());
    }

    #[test]
    fn low_order_points_are_refused() {
        assert!(PublicKey::from_bytes([0; 32]).check_usable().is_err());
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(PublicKey::from_bytes(one).check_usable().is_err());
        assert!(
            super::super::suite::generate_keypair()
                .1
                .check_usable()
                .is_ok()
        );
    }

    #[test]
    fn key_id_display_parse() {
        let (_, pk) = super::super::suite::generate_keypair();
        let id = pk.key_id();
        assert_eq!(KeyId::parse(&id.to_string()), Some(id));
        assert_eq!(id.to_string().len(), 16);
    }
}

#[cfg(test)]
mod v2_tests {
    use super::*;

    #[test]
    fn version_2_strings_carry_both_keys_and_catch_typos() {
        let (_, enc) = crate::crypto::suite::generate_keypair();
        let v = crate::crypto::sign::SigningKey::generate().verifying_key();
        let keys = RecipientKeys {
            role: RecipientRole::Custodian,
            encryption: enc,
            verification: Some(v),
        };
        let s = keys.to_key_string();
        assert!(s.starts_with("tlcus2"));
        assert_eq!(RecipientKeys::parse(&s).unwrap(), keys);
        for i in 6..s.len() {
            let mut chars: Vec<char> = s.chars().collect();
            chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
            let typo: String = chars.into_iter().collect();
            if typo != s {
                assert!(RecipientKeys::parse(&typo).is_err(), "typo at {i} accepted");
            }
        }
        // Version 1 strings still parse, without a verification key.
        let v1 = RecipientKeys::parse(&enc.to_key_string(RecipientRole::Reviewer)).unwrap();
        assert_eq!(v1.verification, None);
        assert_eq!(v1.encryption, enc);
    }
}
