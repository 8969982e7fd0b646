//! Private key files: a recipient's X25519 secret key encrypted under a passphrase, made and
//! kept on the key holder's own machine. The server never sees one.
//!
//! The file is JSON (readable, diffable, self-describing). The secret key is encrypted with
//! AES-256-GCM under a key derived from the passphrase with argon2id (RFC 9106); the associated
//! data binds every other field, so editing the role, name or public key makes the file fail to
//! open. Files are created with mode 0600 and `O_EXCL`: an existing file is never overwritten.

use std::io::Write;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::aead::{AeadKey, NONCE_LEN};
use super::keys::{PublicKey, RecipientRole, SecretKey};
use super::{CryptoError, random_array};

const FORMAT: &str = "tipline-private-key";
/// Version 2 files also hold the holder's Ed25519 signing key (their public key string is a
/// version 2 string naming both keys); version 1 files hold the X25519 key only and open as
/// before, without a signing key (`tipline keys upgrade` makes a version 2 file of one).
const VERSION: u32 = 2;

/// argon2id cost parameters, stored in the file so they can be raised later without breaking
/// existing files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The default for key files: 256 MiB, 3 passes, 1 lane. A key file guards every report
    /// its holder can read, it is opened once per client run on a workstation, and an attacker
    /// who steals it can guess offline for as long as they like; so it gets about a second of
    /// work and a quarter GiB per guess, well above RFC 9106 §4's second recommended option
    /// (64 MiB, 3 passes).
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 256 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// Cheap parameters for tests only: never use them for a real key.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
}

/// Refuses absurd parameters from a tampered file before allocating for them, weak ones that
/// would make its passphrase cheap to guess (below RFC 9106's and OWASP's floor for argon2id:
/// 19 MiB and 2 passes), and a salt too short to be random. The crate's own unit tests use
/// cheap parameters for their fixture files, so the floor is not applied in them.
pub(crate) fn check_kdf_params(params: KdfParams, salt_len: usize) -> Result<(), CryptoError> {
    check_kdf_bounds(params, salt_len, !cfg!(test))
}

fn check_kdf_bounds(params: KdfParams, salt_len: usize, floor: bool) -> Result<(), CryptoError> {
    if params.memory_kib > 4 * 1024 * 1024 || params.iterations > 100 || salt_len < 16 {
        return Err(CryptoError::KeyDerivation);
    }
    if floor && (params.memory_kib < 19 * 1024 || params.iterations < 2) {
        return Err(CryptoError::KeyDerivation);
    }
    Ok(())
}

/// argon2id of `password` with `salt` into a 32-byte key.
pub(crate) fn argon2id(
    password: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    argon2id_in(password, salt, params, &mut Vec::new())
}

/// [`argon2id`] in `memory`, grown to the size `params` need and zeroized before returning,
/// so that a caller deriving often can keep one buffer instead of mapping, faulting in and
/// unmapping 64 MiB each time.
pub(crate) fn argon2id_in(
    password: &[u8],
    salt: &[u8],
    params: KdfParams,
    memory: &mut Vec<argon2::Block>,
) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let p = argon2::Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|_| CryptoError::KeyDerivation)?;
    let blocks = p.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::new());
    }
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 32]);
    let hashed =
        a.hash_password_into_with_memory(password, salt, &mut out[..], &mut memory[..blocks]);
    // What argon2 left in memory is derived from the password: cleared whatever happened.
    memory.iter_mut().for_each(zeroize::Zeroize::zeroize);
    hashed.map_err(|_| CryptoError::KeyDerivation)?;
    Ok(out)
}

#[derive(Serialize, Deserialize)]
struct KdfSection {
    algorithm: String,
    #[serde(flatten)]
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct FileBody {
    format: String,
    version: u32,
    role: RecipientRole,
    name: String,
    public_key: String,
    kdf: KdfSection,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

impl FileBody {
    /// The AEAD's associated data: the 32-byte chain hash ([`super::chain_hash`], label
    /// `tipline key file aad v1`) of every field but the nonce and ciphertext, each
    /// length-prefixed so no two different files share associated data.
    fn aad(&self) -> Vec<u8> {
        let p = &self.kdf.params;
        let fields: [&[u8]; 11] = [
            self.format.as_bytes(),
            &self.version.to_be_bytes(),
            self.role.as_str().as_bytes(),
            self.name.as_bytes(),
            self.public_key.as_bytes(),
            self.kdf.algorithm.as_bytes(),
            &p.memory_kib.to_be_bytes(),
            &p.iterations.to_be_bytes(),
            &p.parallelism.to_be_bytes(),
            self.kdf.salt.as_bytes(),
            self.cipher.as_bytes(),
        ];
        super::chain_hash(b"tipline key file aad v1", &fields).to_vec()
    }
}

/// An opened key file: who it belongs to and the secret keys.
pub struct KeyFile {
    /// The role the key was made for.
    pub role: RecipientRole,
    /// The holder's display name.
    pub name: String,
    /// The secret key.
    pub secret: SecretKey,
    /// The signing key (version 2 files).
    pub signing: Option<super::sign::SigningKey>,
}

impl KeyFile {
    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }

    /// Both public keys, as the key string names them.
    pub fn keys(&self) -> super::keys::RecipientKeys {
        super::keys::RecipientKeys {
            role: self.role,
            encryption: self.public_key(),
            verification: self.signing.as_ref().map(|s| s.verifying_key()),
        }
    }
}

/// Errors from reading or writing key files.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The output path exists already; key files are never overwritten.
    #[error(
        "{0} already exists; refusing to overwrite a key file (choose another path or move the old file away)"
    )]
    Exists(String),
    /// The file could not be read or written.
    #[error("could not access the key file {path}: {source}")]
    Io {
        /// The file's path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a tipline private key file.
    #[error("{0} is not a tipline private key file")]
    NotAKeyFile(String),
    /// The passphrase is wrong or the file was altered.
    #[error("wrong passphrase, or the key file was altered")]
    WrongPassphrase,
    /// The key derivation could not run.
    #[error("key derivation failed")]
    Kdf,
}

/// The JSON text of a new key file for `secret`.
pub fn encrypt(
    secret: &SecretKey,
    signing: Option<&super::sign::SigningKey>,
    role: RecipientRole,
    name: &str,
    passphrase: &SecretString,
    params: KdfParams,
) -> Result<String, KeyFileError> {
    let salt: [u8; 16] = random_array();
    let mut body = FileBody {
        format: FORMAT.to_owned(),
        version: if signing.is_some() { VERSION } else { 1 },
        role,
        name: name.to_owned(),
        public_key: super::keys::RecipientKeys {
            role,
            encryption: secret.public_key(),
            verification: signing.map(|s| s.verifying_key()),
        }
        .to_key_string(),
        kdf: KdfSection {
            algorithm: "argon2id".to_owned(),
            params,
            salt: hex::encode(salt),
        },
        cipher: "aes-256-gcm".to_owned(),
        nonce: String::new(),
        ciphertext: String::new(),
    };
    let key = argon2id(passphrase.expose_secret().as_bytes(), &salt, params)
        .map_err(|_| KeyFileError::Kdf)?;
    let nonce: [u8; NONCE_LEN] = random_array();
    let mut plain = Zeroizing::new(secret.expose_bytes().to_vec());
    if let Some(s) = signing {
        plain.extend_from_slice(&s.expose_seed()[..]);
    }
    let ct = AeadKey::from_bytes(*key).seal_with_nonce(&nonce, &body.aad(), &plain);
    body.nonce = hex::encode(nonce);
    body.ciphertext = hex::encode(ct);
    // Plain structs with string fields always serialize.
    #[allow(clippy::expect_used)]
    let mut text = serde_json::to_string_pretty(&body).expect("key file serializes");
    text.push('\n');
    Ok(text)
}

/// Opens key file text with `passphrase`.
pub fn decrypt(text: &str, passphrase: &SecretString, path: &str) -> Result<KeyFile, KeyFileError> {
    let body: FileBody =
        serde_json::from_str(text).map_err(|_| KeyFileError::NotAKeyFile(path.to_owned()))?;
    if body.format != FORMAT
        || !(body.version == 1 || body.version == VERSION)
        || body.kdf.algorithm != "argon2id"
        || body.cipher != "aes-256-gcm"
    {
        return Err(KeyFileError::NotAKeyFile(path.to_owned()));
    }
    let salt =
        hex::decode(&body.kdf.salt).map_err(|_| KeyFileError::NotAKeyFile(path.to_owned()))?;
    let nonce: [u8; NONCE_LEN] = hex::decode(&body.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| KeyFileError::NotAKeyFile(path.to_owned()))?;
    let ct =
        hex::decode(&body.ciphertext).map_err(|_| KeyFileError::NotAKeyFile(path.to_owned()))?;
    check_kdf_params(body.kdf.params, salt.len())
        .map_err(|_| KeyFileError::NotAKeyFile(path.to_owned()))?;
    let key = argon2id(
        passphrase.expose_secret().as_bytes(),
        &salt,
        body.kdf.params,
    )
    .map_err(|_| KeyFileError::Kdf)?;
    let plain = AeadKey::from_bytes(*key)
        .open_with_nonce(&nonce, &body.aad(), &ct)
        .map_err(|_| KeyFileError::WrongPassphrase)?;
    let expected = if body.version == 1 { 32 } else { 64 };
    if plain.len() != expected {
        return Err(KeyFileError::WrongPassphrase);
    }
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&plain[..32]);
    let secret = SecretKey::from_bytes(bytes);
    let signing = (body.version != 1).then(|| {
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&plain[32..64]);
        super::sign::SigningKey::from_seed(&seed)
    });
    // The public key string is authenticated; check it matches the secrets as a last guard.
    let named = super::keys::RecipientKeys::parse(&body.public_key)
        .map_err(|_| KeyFileError::NotAKeyFile(path.to_owned()))?;
    if named.role != body.role
        || named.encryption != secret.public_key()
        || named.verification != signing.as_ref().map(|s| s.verifying_key())
    {
        return Err(KeyFileError::NotAKeyFile(path.to_owned()));
    }
    Ok(KeyFile {
        role: body.role,
        name: body.name,
        secret,
        signing,
    })
}

/// Reads only the public parts of a key file (no passphrase needed).
pub fn read_public(path: &Path) -> Result<(RecipientRole, String, PublicKey), KeyFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: shown.clone(),
        source,
    })?;
    let body: FileBody =
        serde_json::from_str(&text).map_err(|_| KeyFileError::NotAKeyFile(shown.clone()))?;
    let keys = super::keys::RecipientKeys::parse(&body.public_key)
        .map_err(|_| KeyFileError::NotAKeyFile(shown))?;
    Ok((keys.role, body.name, keys.encryption))
}

/// Reads both public keys of a key file (no passphrase needed).
pub fn read_public_keys(path: &Path) -> Result<(super::keys::RecipientKeys, String), KeyFileError> {
    let (_, name, _) = read_public(path)?;
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let body: FileBody = serde_json::from_str(&text)
        .map_err(|_| KeyFileError::NotAKeyFile(path.display().to_string()))?;
    let keys = super::keys::RecipientKeys::parse(&body.public_key)
        .map_err(|_| KeyFileError::NotAKeyFile(path.display().to_string()))?;
    Ok((keys, name))
}

/// Reads and opens a key file.
pub fn load(path: &Path, passphrase: &SecretString) -> Result<KeyFile, KeyFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: shown.clone(),
        source,
    })?;
    decrypt(&text, passphrase, &shown)
}

/// Writes `contents` to a new file with mode 0600, refusing to overwrite anything.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), KeyFileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display().to_string();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                KeyFileError::Exists(shown.clone())
            } else {
                KeyFileError::Io {
                    path: shown.clone(),
                    source,
                }
            }
        })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyFileError::Io {
            path: shown,
            source,
        })
}

/// Makes a new keypair and writes its key file to `path` (0600, never overwriting).
pub fn create(
    path: &Path,
    role: RecipientRole,
    name: &str,
    passphrase: &SecretString,
    params: KdfParams,
) -> Result<super::keys::RecipientKeys, KeyFileError> {
    if path.exists() {
        return Err(KeyFileError::Exists(path.display().to_string()));
    }
    let (secret, _) = super::suite::generate_keypair();
    let signing = super::sign::SigningKey::generate();
    let text = encrypt(&secret, Some(&signing), role, name, passphrase, params)?;
    write_new_private_file(path, text.as_bytes())?;
    Ok(super::keys::RecipientKeys {
        role,
        encryption: secret.public_key(),
        verification: Some(signing.verifying_key()),
    })
}

/// Writes a version 2 copy of the key file at `from` (same X25519 key, a new signing key,
/// the same passphrase) to `out` (0600, never overwriting); `from` stays as it was.
pub fn upgrade(
    from: &Path,
    out: &Path,
    passphrase: &SecretString,
    params: KdfParams,
) -> Result<super::keys::RecipientKeys, KeyFileError> {
    if out.exists() {
        return Err(KeyFileError::Exists(out.display().to_string()));
    }
    let kf = load(from, passphrase)?;
    let signing = kf.signing.unwrap_or_else(super::sign::SigningKey::generate);
    let text = encrypt(
        &kf.secret,
        Some(&signing),
        kf.role,
        &kf.name,
        passphrase,
        params,
    )?;
    write_new_private_file(out, text.as_bytes())?;
    Ok(super::keys::RecipientKeys {
        role: kf.role,
        encryption: kf.secret.public_key(),
        verification: Some(signing.verifying_key()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn create_open_refuse_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let pass = SecretString::from("correct horse");
        let pk = create(
            &path,
            RecipientRole::Custodian,
            "Ms Lan",
            &pass,
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let kf = load(&path, &pass).unwrap();
        assert_eq!(kf.keys(), pk);
        let pk = pk.encryption;
        assert_eq!(kf.role, RecipientRole::Custodian);
        assert!(matches!(
            load(&path, &SecretString::from("wrong")),
            Err(KeyFileError::WrongPassphrase)
        ));
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(
            create(
                &path,
                RecipientRole::Custodian,
                "x",
                &pass,
                KdfParams::INSECURE_FOR_TESTS
            ),
            Err(KeyFileError::Exists(_))
        ));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(read_public(&path).unwrap().2, pk);
    }

    #[test]
    fn tampered_fields_fail() {
        let pass = SecretString::from("pw");
        let (sk, _) = super::super::suite::generate_keypair();
        let text = encrypt(
            &sk,
            None,
            RecipientRole::Reviewer,
            "Anh",
            &pass,
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        let renamed = text.replace("\"Anh\"", "\"Bình\"");
        assert!(matches!(
            decrypt(&renamed, &pass, "f"),
            Err(KeyFileError::WrongPassphrase)
        ));
        assert!(matches!(
            decrypt("{}", &pass, "f"),
            Err(KeyFileError::NotAKeyFile(_))
        ));
        assert!(matches!(
            decrypt("not json", &pass, "f"),
            Err(KeyFileError::NotAKeyFile(_))
        ));
    }

    #[test]
    fn version_1_files_open_and_upgrade_keeps_the_encryption_key() {
        let dir = tempfile::tempdir().unwrap();
        let pass = SecretString::from("pw");
        let (sk, pk) = super::super::suite::generate_keypair();
        let old = dir.path().join("v1.key");
        let text = encrypt(
            &sk,
            None,
            RecipientRole::Reviewer,
            "Anh",
            &pass,
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        assert!(text.contains("\"version\": 1"));
        write_new_private_file(&old, text.as_bytes()).unwrap();
        let kf = load(&old, &pass).unwrap();
        assert!(kf.signing.is_none());
        let new = dir.path().join("v2.key");
        let keys = upgrade(&old, &new, &pass, KdfParams::INSECURE_FOR_TESTS).unwrap();
        assert_eq!(keys.encryption, pk);
        let kf = load(&new, &pass).unwrap();
        assert_eq!(kf.keys(), keys);
        assert!(kf.signing.is_some());
        assert_eq!(read_public_keys(&new).unwrap().0, keys);
        assert!(upgrade(&old, &new, &pass, KdfParams::INSECURE_FOR_TESTS).is_err());
    }

    #[test]
    fn weak_and_absurd_parameters_are_refused() {
        assert!(check_kdf_bounds(KdfParams::DEFAULT, 16, true).is_ok());
        assert!(check_kdf_bounds(KdfParams::INSECURE_FOR_TESTS, 16, true).is_err());
        let one_pass = KdfParams {
            iterations: 1,
            ..KdfParams::DEFAULT
        };
        assert!(check_kdf_bounds(one_pass, 16, true).is_err());
        let huge = KdfParams {
            memory_kib: 8 * 1024 * 1024,
            ..KdfParams::DEFAULT
        };
        assert!(check_kdf_bounds(huge, 16, true).is_err());
        assert!(check_kdf_bounds(KdfParams::DEFAULT, 8, true).is_err());
    }
}
