//! Cryptography: the only module that touches `hpke`, `aes-gcm`, `x25519-dalek`,
//! `ed25519-dalek`, `argon2`, `hkdf`, `hmac` and `sha2`.
//!
//! | file          | owns                                                                    |
//! |---------------|-------------------------------------------------------------------------|
//! | `suite`       | the one pinned HPKE suite (RFC 9180 base mode, X25519/HKDF-SHA256/AES-256-GCM) |
//! | `aead`        | AES-256-GCM with random nonces, for payloads, drafts and key files      |
//! | `envelope`    | the versioned multi-recipient sealed envelope (byte layout documented there) |
//! | `keys`        | recipient public keys, key ids, copyable public-key strings             |
//! | `keyfile`     | passphrase-protected private key files (argon2id → AES-256-GCM)         |
//! | `receipt`     | receipts, their lookup ids and the reporter's mailbox keypair           |
//! | `secret`      | the versioned server secret, pseudonyms and the draft key               |
//! | `sign`        | Ed25519 signatures and the keyring authority's key file and string      |
//!
//! Invariants: secrets live in types without `Debug`, `Clone` or `Serialize` that zeroize on
//! drop; accessors that reveal a secret say so in their name (`expose_…`); errors are coarse and
//! never say *why* an authenticated decryption failed.

pub mod aead;
pub mod base32;
pub mod envelope;
pub mod keyfile;
pub mod keys;
pub mod receipt;
pub mod secret;
pub mod sign;
pub mod suite;
pub mod threshold;

pub use envelope::{ItemKind, Sealed};
pub use keys::{KeyId, PublicKey, RecipientKeys, RecipientRole, SecretKey};
pub use receipt::Receipt;
pub use secret::{Pseudonym, ServerSecret};

/// Errors from the cryptographic layer. Deliberately coarse: a caller (or an attacker watching
/// error messages) learns that something failed, never which byte or check it was.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Authenticated decryption failed: wrong key, tampered data or data moved to another context.
    #[error("decryption failed")]
    DecryptionFailed,
    /// The bytes are not a well-formed object of the expected format.
    #[error("invalid envelope or key material")]
    InvalidEnvelope,
    /// The object was made by a format version this build does not understand.
    #[error("unsupported format version")]
    UnsupportedVersion,
    /// None of the wraps in an envelope is addressed to the given key.
    #[error("not sealed to this key")]
    NotARecipient,
    /// Sealing was asked for with no recipients, too many, or the same key twice.
    #[error("invalid recipient set")]
    InvalidRecipients,
    /// A public key string failed to parse or its checksum did not match.
    #[error("invalid public key string (typo or truncated copy?)")]
    InvalidPublicKeyString,
    /// A passphrase-protected file could not be opened with the given passphrase.
    #[error("wrong passphrase or damaged key file")]
    WrongPassphrase,
    /// A receipt string is not well formed.
    #[error("invalid receipt")]
    InvalidReceipt,
    /// The key derivation function could not run with the configured parameters.
    #[error("key derivation failed")]
    KeyDerivation,
    /// A signature did not verify, or a signing key is not usable.
    #[error("invalid signature")]
    InvalidSignature,
    /// A threshold envelope: no single key opens it; it opens with enough key holders' shares.
    #[error("sealed to a threshold of key holders: opens only with enough of their shares")]
    NeedsShares,
}

/// Fills `buf` with bytes from the operating system's CSPRNG.
///
/// # Panics
/// If the operating system cannot provide randomness. Continuing without randomness would
/// produce predictable keys and receipts, so aborting is the only safe answer (the `hpke` crate
/// makes the same choice).
pub fn random_bytes(buf: &mut [u8]) {
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// Returns `N` random bytes from the operating system's CSPRNG.
pub fn random_array<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    random_bytes(&mut out);
    out
}

/// The operating system's CSPRNG behind `rand_core`'s traits, for APIs that take an RNG.
pub struct OsRng;

impl rand_core::TryRng for OsRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(random_array()))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes(random_array()))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        random_bytes(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for OsRng {}

/// HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info` into `out`.
pub(crate) fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[&[u8]], out: &mut [u8]) {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), ikm);
    // An expand error only happens when `out` exceeds 255 × 32 bytes; every caller asks for
    // 32 or 64 bytes.
    #[allow(clippy::expect_used)]
    hk.expand_multi_info(info, out)
        .expect("HKDF output length is a small constant");
}

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// One link of a hash chain: SHA-256("tipline chain v1" ‖ prev ‖ for each part: len (u32 BE) ‖
/// part). Length prefixes keep field boundaries unambiguous.
pub fn chain_hash(prev: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"tipline chain v1");
    h.update(prev);
    for p in parts {
        h.update(u32::try_from(p.len()).unwrap_or(u32::MAX).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}
