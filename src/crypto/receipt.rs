//! Receipts: what a reporter keeps instead of an account.
//!
//! A receipt is 80 random bits written as 16 Crockford base32 symbols in four groups
//! (`7Q4M-2XPA-9KDE-W3HZ`). The server never stores it. argon2id turns it into a master secret
//! from which HKDF-SHA256 derives, under separate labels,
//! - the *lookup id* stored with the case (so the receipt finds its case), and
//! - the seed of the reporter's X25519 *mailbox* keypair (RFC 9180 §7.1.3 DeriveKeyPair), whose
//!   public half is stored so the Inspectorate can seal replies only the receipt holder opens.
//!
//! Exactly (`docs/FORMATS.md` §8.3; `tests/formats_kat.rs` checks known answers):
//! ```text
//! master       = argon2id(password = the 10 raw receipt bytes (not the printed text),
//!                         salt = "tipline-receipt1", RECEIPT_KDF, version 0x13, 32 bytes)
//! lookup id    = HKDF-SHA256(salt "tipline", ikm master, info "tipline/receipt/v1/lookup-id", 32)
//! mailbox seed = HKDF-SHA256(salt "tipline", ikm master, info "tipline/receipt/v1/mailbox-x25519", 32)
//! mailbox keys = DeriveKeyPair(mailbox seed)        (secret key held clamped)
//! ```
//!
//! Why argon2id when 80 bits already defeat brute force: a receipt may leak partially (a
//! photographed screen, a half-remembered code), and the lookup ids sit in the database; the
//! memory-hard KDF keeps guessing the missing symbols expensive. Parameters: 64 MiB, 3 passes,
//! 1 lane — RFC 9106 §4's second recommended option — costs about 0.1–0.2 s of one core on
//! server hardware, acceptable once per submission or /status, and at most
//! [`ReceiptDeriver`]'s permit count run at once so a flood of /status requests cannot exhaust
//! memory (2 permits → 128 MiB peak). The salt is a fixed label: the receipt's own entropy, not
//! the salt, is what makes tables useless.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::keyfile::{KdfParams, argon2id_in};
use super::keys::{PublicKey, SecretKey};
use super::{CryptoError, base32};

const RECEIPT_BYTES: usize = 10;
/// The argon2id salt: a fixed label (see the module docs for why that is enough).
const SALT: &[u8; 16] = b"tipline-receipt1";

/// The argon2id parameters for receipts (see the module docs).
pub const RECEIPT_KDF: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};

/// A receipt. Secret: no `Debug`, `Clone` or `Serialize`; zeroized on drop.
pub struct Receipt(Zeroizing<[u8; RECEIPT_BYTES]>);

impl Receipt {
    /// A fresh random receipt.
    pub fn generate() -> Self {
        Self(Zeroizing::new(super::random_array()))
    }

    /// Parses a receipt tolerantly: exactly [`base32::decode`] of the whole input into 10
    /// bytes. So any case; the separators space, `-`, `_` and no-break space (U+00A0)
    /// anywhere, including before and after; O for 0 and I or L for 1; exactly 16 symbols.
    /// The input is not trimmed: a tab or a newline (a receipt pasted with a trailing newline)
    /// is refused, so callers holding untrimmed text should trim it first.
    ///
    /// ```
    /// use tipline::crypto::Receipt;
    /// let r = Receipt::parse("7q4m 2xpa 9kde w3hz").unwrap();
    /// assert_eq!(&*r.expose_text(), "7Q4M-2XPA-9KDE-W3HZ");
    /// assert_eq!(&*Receipt::parse("7Q4M-2XPA-9KDE-W3HZ").unwrap().expose_text(), &*r.expose_text());
    /// assert_eq!(&*Receipt::parse("7q4m_2xpa\u{a0}9kde-w3hz").unwrap().expose_text(), &*r.expose_text());
    /// assert!(Receipt::parse("7Q4M-2XPA-9KDE").is_err());
    /// assert!(Receipt::parse("7Q4M-2XPA-9KDE-W3HZ\n").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, CryptoError> {
        let bytes =
            Zeroizing::new(base32::decode(s, RECEIPT_BYTES).ok_or(CryptoError::InvalidReceipt)?);
        let mut out = Zeroizing::new([0u8; RECEIPT_BYTES]);
        out.copy_from_slice(&bytes);
        Ok(Self(out))
    }

    /// The canonical text, e.g. `7Q4M-2XPA-9KDE-W3HZ` (secret).
    pub fn expose_text(&self) -> Zeroizing<String> {
        let raw = Zeroizing::new(base32::encode(&self.0[..]));
        Zeroizing::new(format!(
            "{}-{}-{}-{}",
            &raw[0..4],
            &raw[4..8],
            &raw[8..12],
            &raw[12..16]
        ))
    }

    /// Runs the (slow) derivation described in the module docs on the current thread; the
    /// argon2id password is the receipt's 10 raw bytes, not its text. Prefer
    /// [`ReceiptDeriver::derive`] in async code.
    pub fn derive_blocking(&self, params: KdfParams) -> Result<ReceiptKeys, CryptoError> {
        self.derive_in(params, &mut Vec::new())
    }

    /// [`Receipt::derive_blocking`] with argon2id's memory in `memory` (zeroized after use).
    fn derive_in(
        &self,
        params: KdfParams,
        memory: &mut Vec<argon2::Block>,
    ) -> Result<ReceiptKeys, CryptoError> {
        let master = argon2id_in(&self.0[..], SALT, params, memory)?;
        let mut lookup = [0u8; 32];
        super::hkdf_sha256(
            b"tipline",
            &master[..],
            &[b"tipline/receipt/v1/lookup-id"],
            &mut lookup,
        );
        let mut seed = Zeroizing::new([0u8; 32]);
        super::hkdf_sha256(
            b"tipline",
            &master[..],
            &[b"tipline/receipt/v1/mailbox-x25519"],
            &mut seed[..],
        );
        let (mailbox_secret, mailbox_public) = super::suite::derive_keypair(&seed[..]);
        Ok(ReceiptKeys {
            lookup_id: LookupId(lookup),
            mailbox_secret,
            mailbox_public,
        })
    }
}

/// What the server may store to find a case from its receipt.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LookupId(pub [u8; 32]);

impl fmt::Debug for LookupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LookupId(…)")
    }
}

/// Everything derived from a receipt.
pub struct ReceiptKeys {
    /// Stored with the case; finds it again.
    pub lookup_id: LookupId,
    /// Opens replies from the Inspectorate; held in memory only while the reporter is here.
    pub mailbox_secret: SecretKey,
    /// Stored with the case; the Inspectorate seals replies to it.
    pub mailbox_public: PublicKey,
}

/// Runs receipt derivations on blocking threads, at most `permits` at a time, each in an
/// argon2id buffer kept between derivations (one per permit, zeroized after every use): a
/// fresh 64 MiB mapping per derivation cost a fifth of the bot's CPU in page faults and
/// zeroing (BENCHMARKS.md, "Load"). Memory is bounded by `permits` buffers.
#[derive(Clone)]
pub struct ReceiptDeriver {
    permits: Arc<tokio::sync::Semaphore>,
    params: KdfParams,
    buffers: Arc<std::sync::Mutex<Vec<Vec<argon2::Block>>>>,
}

impl ReceiptDeriver {
    /// A deriver with the production parameters.
    pub fn new(permits: usize) -> Self {
        Self::with_params(permits, RECEIPT_KDF)
    }

    /// A deriver with explicit parameters (tests use cheap ones).
    pub fn with_params(permits: usize, params: KdfParams) -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(permits.max(1))),
            params,
            buffers: Arc::new(std::sync::Mutex::new(Vec::new())),
        }
    }

    /// Derives the receipt's keys without blocking the async runtime.
    pub async fn derive(&self, receipt: Receipt) -> Result<ReceiptKeys, CryptoError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| CryptoError::KeyDerivation)?;
        let params = self.params;
        let mut memory = self.take_buffer();
        let (keys, memory) = tokio::task::spawn_blocking(move || {
            let keys = receipt.derive_in(params, &mut memory);
            (keys, memory)
        })
        .await
        .map_err(|_| CryptoError::KeyDerivation)?;
        self.buffers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memory);
        keys
    }

    /// A kept buffer, or an empty one (the derivation grows it).
    fn take_buffer(&self) -> Vec<argon2::Block> {
        self.buffers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_tolerant_parse() {
        let r = Receipt::generate();
        let t = r.expose_text();
        assert_eq!(t.len(), 19);
        assert_eq!(t.matches('-').count(), 3);
        let sloppy = t
            .to_lowercase()
            .replace('-', " ")
            .replace('0', "o")
            .replace('1', "l");
        assert_eq!(*Receipt::parse(&sloppy).unwrap().expose_text(), *t);
        assert_eq!(
            *Receipt::parse(&t.replace('-', "")).unwrap().expose_text(),
            *t
        );
        assert!(Receipt::parse("7Q4M-2XPA-9KDE").is_err());
        assert!(Receipt::parse("7Q4M-2XPA-9KDE-W3HU").is_err());
    }

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let r = Receipt::parse("7Q4M-2XPA-9KDE-W3HZ").unwrap();
        let a = r.derive_blocking(KdfParams::INSECURE_FOR_TESTS).unwrap();
        let b = Receipt::parse("7q4m2xpa9kdew3hz")
            .unwrap()
            .derive_blocking(KdfParams::INSECURE_FOR_TESTS)
            .unwrap();
        assert_eq!(a.lookup_id, b.lookup_id);
        assert_eq!(a.mailbox_public, b.mailbox_public);
        assert_ne!(&a.lookup_id.0, a.mailbox_public.as_bytes());
        let other = Receipt::generate()
            .derive_blocking(KdfParams::INSECURE_FOR_TESTS)
            .unwrap();
        assert_ne!(a.lookup_id, other.lookup_id);
    }

    // Checked at compile time: at least 80 bits of receipt entropy, at least 64 MiB of argon2id.
    const _: () = assert!(RECEIPT_BYTES * 8 >= 80);
    const _: () = assert!(RECEIPT_KDF.memory_kib >= 64 * 1024);
}
