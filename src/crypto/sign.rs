//! Ed25519 signatures (RFC 8032, verified strictly) for the keyring authority: the only file
//! that names `ed25519-dalek`.
//!
//! Every signature is over a domain-separated message, `"tipline signature v1" ‖ 0x00 ‖
//! context ‖ 0x00 ‖ message`, so a signature made for one purpose (a keyring statement) can
//! never be replayed as another (a disclosure approval). Verification uses
//! `verify_strict` (no malleable or small-order signatures) and refuses weak keys.
//!
//! Authority public key string: `tlauth1` followed by the Crockford base32 of the 32-byte key
//! and a 4-byte checksum, SHA-256("tipline authority key v1" ‖ key)[..4], lowercase, no
//! dashes (as recipients' `tlrev1…` strings). Authority key files are JSON like recipients'
//! key files (argon2id → AES-256-GCM, every other field bound as associated data), with the
//! format name `tipline-authority-key`.

use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signer, ed25519::SignatureBytes};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::aead::{AeadKey, NONCE_LEN};
use super::keyfile::{KdfParams, KeyFileError, argon2id, check_kdf_params};
use super::{CryptoError, base32, random_array};

/// Length of an Ed25519 public key.
pub const VERIFYING_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
const PREFIX: &str = "tlauth1";
const CHECKSUM_LEN: usize = 4;
const FILE_FORMAT: &str = "tipline-authority-key";
const FILE_VERSION: u32 = 1;

/// The bytes actually signed for `context` and `message`.
fn signed_message(context: &str, message: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(24 + context.len() + message.len());
    m.extend_from_slice(b"tipline signature v1\0");
    m.extend_from_slice(context.as_bytes());
    m.push(0);
    m.extend_from_slice(message);
    m
}

/// An Ed25519 signing key. No `Debug`, `Clone` or `Serialize`; zeroized on drop.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Self {
        let seed = Zeroizing::new(random_array::<32>());
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// The key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed (secret).
    pub fn expose_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` for `context` (see the module docs).
    pub fn sign(&self, context: &str, message: &[u8]) -> Signature {
        Signature(self.0.sign(&signed_message(context, message)).to_bytes())
    }
}

/// An Ed25519 public key (an authority's, or later a recipient's verification key).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VerifyingKey([u8; VERIFYING_KEY_LEN]);

impl VerifyingKey {
    /// Parses raw key bytes, refusing what is not a usable key (not a curve point, or weak).
    pub fn from_bytes(bytes: [u8; VERIFYING_KEY_LEN]) -> Result<Self, CryptoError> {
        let k = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| CryptoError::InvalidSignature)?;
        if k.is_weak() {
            return Err(CryptoError::InvalidSignature);
        }
        Ok(Self(bytes))
    }

    /// Parses raw key bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        Self::from_bytes(
            bytes
                .try_into()
                .map_err(|_| CryptoError::InvalidSignature)?,
        )
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; VERIFYING_KEY_LEN] {
        &self.0
    }

    /// Checks `signature` over `message` for `context`.
    pub fn verify(
        &self,
        context: &str,
        message: &[u8],
        signature: &Signature,
    ) -> Result<(), CryptoError> {
        let k = ed25519_dalek::VerifyingKey::from_bytes(&self.0)
            .map_err(|_| CryptoError::InvalidSignature)?;
        let sig = ed25519_dalek::Signature::from_bytes(&SignatureBytes::from(signature.0));
        k.verify_strict(&signed_message(context, message), &sig)
            .map_err(|_| CryptoError::InvalidSignature)
    }

    /// The copyable `tlauth1…` string (see the module docs).
    pub fn to_authority_string(&self) -> String {
        let mut body = self.0.to_vec();
        body.extend_from_slice(&checksum(&self.0));
        format!("{PREFIX}{}", base32::encode(&body).to_lowercase())
    }

    /// Parses [`VerifyingKey::to_authority_string`]; surrounding white space is ignored.
    pub fn parse_authority_string(s: &str) -> Result<Self, CryptoError> {
        let s = s.trim();
        if !s
            .get(..PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
        {
            return Err(CryptoError::InvalidPublicKeyString);
        }
        let body = base32::decode(&s[PREFIX.len()..], VERIFYING_KEY_LEN + CHECKSUM_LEN)
            .ok_or(CryptoError::InvalidPublicKeyString)?;
        let (key, sum) = body.split_at(VERIFYING_KEY_LEN);
        let mut bytes = [0u8; VERIFYING_KEY_LEN];
        bytes.copy_from_slice(key);
        if !super::ct_eq(sum, &checksum(&bytes)) {
            return Err(CryptoError::InvalidPublicKeyString);
        }
        Self::from_bytes(bytes).map_err(|_| CryptoError::InvalidPublicKeyString)
    }
}

fn checksum(key: &[u8; VERIFYING_KEY_LEN]) -> [u8; CHECKSUM_LEN] {
    let digest = super::sha256(&[b"tipline authority key v1", key]);
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.to_authority_string())
    }
}

impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_authority_string())
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    /// Wraps raw signature bytes.
    pub fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses raw signature bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self(
            bytes
                .try_into()
                .map_err(|_| CryptoError::InvalidSignature)?,
        ))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", hex::encode(&self.0[..8]))
    }
}

#[derive(Serialize, Deserialize)]
struct AuthorityFile {
    format: String,
    version: u32,
    name: String,
    public_key: String,
    kdf_algorithm: String,
    #[serde(flatten)]
    kdf: KdfParams,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

impl AuthorityFile {
    /// Everything but the nonce and ciphertext, bound as the AEAD's associated data.
    fn aad(&self) -> Vec<u8> {
        let fields: [&[u8]; 10] = [
            self.format.as_bytes(),
            &self.version.to_be_bytes(),
            self.name.as_bytes(),
            self.public_key.as_bytes(),
            self.kdf_algorithm.as_bytes(),
            &self.kdf.memory_kib.to_be_bytes(),
            &self.kdf.iterations.to_be_bytes(),
            &self.kdf.parallelism.to_be_bytes(),
            self.salt.as_bytes(),
            self.cipher.as_bytes(),
        ];
        super::chain_hash(b"tipline authority key file aad v1", &fields).to_vec()
    }
}

/// An opened authority key file.
pub struct AuthorityKey {
    /// Who holds it (the Inspectorate's leadership, by name or office).
    pub name: String,
    /// The signing key.
    pub key: SigningKey,
}

/// Creates a new authority key file at `path` (0600, never over an existing file) and returns
/// its public key.
pub fn create_authority_file(
    path: &Path,
    name: &str,
    passphrase: &SecretString,
    params: KdfParams,
) -> Result<VerifyingKey, KeyFileError> {
    let key = SigningKey::generate();
    let public = key.verifying_key();
    let salt: [u8; 16] = random_array();
    let mut body = AuthorityFile {
        format: FILE_FORMAT.to_owned(),
        version: FILE_VERSION,
        name: name.to_owned(),
        public_key: public.to_authority_string(),
        kdf_algorithm: "argon2id".to_owned(),
        kdf: params,
        salt: hex::encode(salt),
        cipher: "aes-256-gcm".to_owned(),
        nonce: String::new(),
        ciphertext: String::new(),
    };
    let wrapping = argon2id(passphrase.expose_secret().as_bytes(), &salt, params)
        .map_err(|_| KeyFileError::Kdf)?;
    let nonce: [u8; NONCE_LEN] = random_array();
    let ct =
        AeadKey::from_bytes(*wrapping).seal_with_nonce(&nonce, &body.aad(), &key.expose_seed()[..]);
    body.nonce = hex::encode(nonce);
    body.ciphertext = hex::encode(ct);
    // Plain structs with string and number fields always serialize.
    #[allow(clippy::expect_used)]
    let mut text = serde_json::to_string_pretty(&body).expect("authority file serializes");
    text.push('\n');
    super::keyfile::write_new_private_file(path, text.as_bytes())?;
    Ok(public)
}

fn read_authority_file(path: &Path) -> Result<AuthorityFile, KeyFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: shown.clone(),
        source,
    })?;
    let body: AuthorityFile =
        serde_json::from_str(&text).map_err(|_| KeyFileError::NotAKeyFile(shown.clone()))?;
    if body.format != FILE_FORMAT
        || body.version != FILE_VERSION
        || body.kdf_algorithm != "argon2id"
        || body.cipher != "aes-256-gcm"
    {
        return Err(KeyFileError::NotAKeyFile(shown));
    }
    Ok(body)
}

/// The public key named in an authority key file (no passphrase needed).
pub fn read_authority_public(path: &Path) -> Result<(String, VerifyingKey), KeyFileError> {
    let body = read_authority_file(path)?;
    let key = VerifyingKey::parse_authority_string(&body.public_key)
        .map_err(|_| KeyFileError::NotAKeyFile(path.display().to_string()))?;
    Ok((body.name, key))
}

/// Opens an authority key file with `passphrase`.
pub fn load_authority_file(
    path: &Path,
    passphrase: &SecretString,
) -> Result<AuthorityKey, KeyFileError> {
    let shown = path.display().to_string();
    let body = read_authority_file(path)?;
    let bad = || KeyFileError::NotAKeyFile(shown.clone());
    let salt = hex::decode(&body.salt).map_err(|_| bad())?;
    let nonce: [u8; NONCE_LEN] = hex::decode(&body.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(bad)?;
    let ct = hex::decode(&body.ciphertext).map_err(|_| bad())?;
    check_kdf_params(body.kdf, salt.len()).map_err(|_| bad())?;
    let wrapping = argon2id(passphrase.expose_secret().as_bytes(), &salt, body.kdf)
        .map_err(|_| KeyFileError::Kdf)?;
    let plain = AeadKey::from_bytes(*wrapping)
        .open_with_nonce(&nonce, &body.aad(), &ct)
        .map_err(|_| KeyFileError::WrongPassphrase)?;
    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
        plain[..]
            .try_into()
            .map_err(|_| KeyFileError::WrongPassphrase)?,
    );
    let key = SigningKey::from_seed(&seed);
    // The public key is authenticated; check it matches the secret as a last guard.
    if VerifyingKey::parse_authority_string(&body.public_key).ok() != Some(key.verifying_key()) {
        return Err(bad());
    }
    Ok(AuthorityKey {
        name: body.name,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_context_and_message() {
        let k = SigningKey::generate();
        let v = k.verifying_key();
        let sig = k.sign("keyring-statement", b"hello");
        assert!(v.verify("keyring-statement", b"hello", &sig).is_ok());
        assert!(v.verify("disclosure-approval", b"hello", &sig).is_err());
        assert!(v.verify("keyring-statement", b"hellp", &sig).is_err());
        let other = SigningKey::generate().verifying_key();
        assert!(other.verify("keyring-statement", b"hello", &sig).is_err());
        let mut bytes = *sig.as_bytes();
        bytes[10] ^= 1;
        assert!(
            v.verify("keyring-statement", b"hello", &Signature::from_bytes(bytes))
                .is_err()
        );
    }

    #[test]
    fn authority_strings_round_trip_and_catch_typos() {
        let v = SigningKey::generate().verifying_key();
        let s = v.to_authority_string();
        assert!(s.starts_with("tlauth1"));
        assert_eq!(VerifyingKey::parse_authority_string(&s).unwrap(), v);
        assert_eq!(
            VerifyingKey::parse_authority_string(&format!("  {}\n", s.to_uppercase())).unwrap(),
            v
        );
        for i in PREFIX.len()..s.len() {
            let mut chars: Vec<char> = s.chars().collect();
            chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
            let typo: String = chars.into_iter().collect();
            if typo != s {
                assert!(
                    VerifyingKey::parse_authority_string(&typo).is_err(),
                    "typo at {i} accepted"
                );
            }
        }
        assert!(VerifyingKey::parse_authority_string("tlrev1abc").is_err());
        // The identity point is a weak key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(VerifyingKey::from_bytes(identity).is_err());
    }

    #[test]
    fn authority_file_opens_only_with_its_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authority.key");
        let pass = SecretString::from("correct horse battery");
        let public = create_authority_file(
            &path,
            "Chánh Thanh tra",
            &pass,
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        assert!(
            create_authority_file(&path, "x", &pass, KdfParams::INSECURE_FOR_TESTS).is_err(),
            "never overwritten"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let opened = load_authority_file(&path, &pass).unwrap();
        assert_eq!(opened.key.verifying_key(), public);
        assert_eq!(opened.name, "Chánh Thanh tra");
        assert_eq!(read_authority_public(&path).unwrap().1, public);
        assert!(matches!(
            load_authority_file(&path, &SecretString::from("wrong horse battery")),
            Err(KeyFileError::WrongPassphrase)
        ));
        // Renaming the holder in the file breaks it.
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = dir.path().join("edited.key");
        std::fs::write(&edited, text.replace("Chánh Thanh tra", "Someone else")).unwrap();
        assert!(load_authority_file(&edited, &pass).is_err());
    }
}
