//! AES-256-GCM (NIST SP 800-38D) with 96-bit random nonces.
//!
//! Every key used here is either fresh per object (envelope content keys) or derived per
//! purpose with HKDF, and each encrypts few messages, so random nonces stay far below the
//! 2^-32 collision bound of SP 800-38D §8.3.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use zeroize::Zeroizing;

use super::CryptoError;

/// Length of an AES-256-GCM key.
pub const KEY_LEN: usize = 32;
/// Length of a nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;

/// A 256-bit AES-GCM key, zeroized on drop.
pub struct AeadKey(Zeroizing<[u8; KEY_LEN]>);

impl AeadKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key.
    pub fn random() -> Self {
        Self::from_bytes(super::random_array())
    }

    /// The raw key bytes (secret).
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.0))
    }

    /// Encrypts `plaintext` under `nonce` with `aad`; returns ciphertext ‖ tag.
    pub fn seal_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buf.extend_from_slice(plaintext);
        // Encryption only fails when the message exceeds GCM's 64 GiB limit; callers bound
        // payloads far below that (attachments are at most tens of megabytes).
        #[allow(clippy::expect_used)]
        self.cipher()
            .encrypt_in_place(&Nonce::from(*nonce), aad, &mut buf)
            .expect("AES-GCM message length is bounded by the callers");
        buf
    }

    /// Encrypts with a fresh random nonce; returns nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = super::random_array();
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&self.seal_with_nonce(&nonce, aad, plaintext));
        out
    }

    /// Decrypts ciphertext ‖ tag made by [`AeadKey::seal_with_nonce`].
    pub fn open_with_nonce(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if ciphertext.len() < TAG_LEN {
            return Err(CryptoError::DecryptionFailed);
        }
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        self.cipher()
            .decrypt_in_place(&Nonce::from(*nonce), aad, &mut *buf)
            .map_err(|_| CryptoError::DecryptionFailed)?;
        Ok(buf)
    }

    /// Decrypts nonce ‖ ciphertext ‖ tag made by [`AeadKey::seal`].
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (nonce, ct) = sealed
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(CryptoError::DecryptionFailed)?;
        self.open_with_nonce(nonce, aad, ct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = AeadKey::random();
        let sealed = key.seal(b"aad", b"hello");
        assert_eq!(&key.open(b"aad", &sealed).unwrap()[..], b"hello");
        assert!(key.open(b"other", &sealed).is_err());
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(
                key.open(b"aad", &bad).unwrap_err(),
                CryptoError::DecryptionFailed
            );
        }
        assert!(key.open(b"aad", &sealed[..5]).is_err());
    }
}
