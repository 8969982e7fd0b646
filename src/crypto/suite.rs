//! The one pinned HPKE suite: RFC 9180 base mode with DHKEM(X25519, HKDF-SHA256) (KEM 0x0020),
//! HKDF-SHA256 (KDF 0x0001) and AES-256-GCM (AEAD 0x0002).
//!
//! This is the only file that names the `hpke` crate, the way age pins its HPKE wrapper in one
//! place: changing the suite is a format change and must happen here, together with a new
//! envelope version. Known-answer tests against RFC 9180 Appendix A.1 and an independent
//! implementation's vectors for this exact suite live at the bottom of this file.

use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use zeroize::Zeroizing;

use super::keys::{PublicKey, SecretKey};
use super::{CryptoError, OsRng};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::AesGcm256;

/// Length of an encapsulated key (`enc`, RFC 9180 §7.1 Nenc).
pub const ENC_LEN: usize = 32;
/// Ciphertext expansion of one HPKE seal (the AES-GCM tag).
pub const TAG_LEN: usize = 16;

/// A fresh random X25519 keypair (RFC 9180 §7.1.3: DeriveKeyPair of 32 random bytes).
pub fn generate_keypair() -> (SecretKey, PublicKey) {
    let ikm = Zeroizing::new(super::random_array::<32>());
    derive_keypair(&ikm[..])
}

/// RFC 9180 §7.1.3 DeriveKeyPair for DHKEM(X25519, HKDF-SHA256): deterministic keypair from
/// input keying material (used for the reporter's receipt-derived mailbox key).
pub fn derive_keypair(ikm: &[u8]) -> (SecretKey, PublicKey) {
    let (sk, pk) = Kem::derive_keypair(ikm);
    let sk_bytes = Zeroizing::new(<[u8; 32]>::from(sk.to_bytes()));
    (
        SecretKey::from_bytes(*sk_bytes),
        PublicKey::from_bytes(pk.to_bytes().into()),
    )
}

/// The public key belonging to `sk`.
pub fn public_key_of(sk: &SecretKey) -> PublicKey {
    let secret = x25519_dalek::StaticSecret::from(*sk.expose_bytes());
    PublicKey::from_bytes(x25519_dalek::PublicKey::from(&secret).to_bytes())
}

/// RFC 9180 §6.1 SealBase(pkR, info, aad, pt) with the operating system's RNG.
pub fn seal_base(
    pk: &PublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<([u8; ENC_LEN], Vec<u8>), CryptoError> {
    seal_base_with_rng(pk, info, aad, plaintext, &mut OsRng)
}

/// [`seal_base`] with a caller-chosen RNG (deterministic known-answer and golden tests).
pub fn seal_base_with_rng(
    pk: &PublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<([u8; ENC_LEN], Vec<u8>), CryptoError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(pk.as_bytes())
        .map_err(|_| CryptoError::InvalidRecipients)?;
    let (enc, ct) = hpke::single_shot_seal_with_rng::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        aad,
        rng,
    )
    // Encapsulation fails only for a low-order public key (all-zero shared secret).
    .map_err(|_| CryptoError::InvalidRecipients)?;
    Ok((enc.to_bytes().into(), ct))
}

/// RFC 9180 §6.1 OpenBase(enc, skR, info, aad, ct).
pub fn open_base(
    sk: &SecretKey,
    enc: &[u8; ENC_LEN],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(sk.expose_bytes())
        .map_err(|_| CryptoError::DecryptionFailed)?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)
        .map_err(|_| CryptoError::DecryptionFailed)?;
    hpke::single_shot_open::<Aead, Kdf, Kem>(&OpModeR::Base, &sk, &enc, info, ciphertext, aad)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    //! Known-answer tests. The vector files are copies of `shared/vectors/` (see their
    //! `source` field): RFC 9180 A.1 as published (AES-128-GCM), and the same inputs on tipline's
    //! suite (AES-256-GCM) produced by an independent implementation (pyhpke).
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Vector {
        source: String,
        mode: u8,
        kem_id: u16,
        kdf_id: u16,
        aead_id: u16,
        info: String,
        #[serde(rename = "ikmE")]
        ikm_e: String,
        #[serde(rename = "pkEm")]
        pk_em: String,
        #[serde(rename = "ikmR")]
        ikm_r: String,
        #[serde(rename = "pkRm")]
        pk_rm: String,
        #[serde(rename = "skRm")]
        sk_rm: String,
        enc: String,
        pt: String,
        encryptions: Vec<Encryption>,
    }

    #[derive(Deserialize)]
    struct Encryption {
        seq: u64,
        aad: String,
        ct: String,
    }

    /// An RNG that replays fixed bytes: makes the ephemeral key equal `ikmE`, because the hpke
    /// crate generates ephemeral keys as DeriveKeyPair(random 32 bytes).
    struct Replay(Vec<u8>);

    impl rand_core::TryRng for Replay {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            unreachable!("HPKE asks only for fill_bytes")
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            unreachable!("HPKE asks only for fill_bytes")
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            let taken: Vec<u8> = self.0.drain(..dst.len()).collect();
            dst.copy_from_slice(&taken);
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Replay {}

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// Runs one vector through a setup-sender context of the given AEAD, sealing every
    /// encryption in sequence as RFC 9180 A.1.1.1 does.
    fn check<A: hpke::aead::Aead>(v: &Vector) {
        assert_eq!((v.mode, v.kem_id, v.kdf_id), (0, 0x20, 1), "{}", v.source);
        let (sk_r, pk_r) = Kem::derive_keypair(&h(&v.ikm_r));
        assert_eq!(pk_r.to_bytes().to_vec(), h(&v.pk_rm));
        // The hpke crate stores X25519 secret keys clamped (RFC 7748 §5); clamp the RFC's
        // unclamped skRm the same way before comparing.
        let mut sk_rm = h(&v.sk_rm);
        sk_rm[0] &= 248;
        sk_rm[31] &= 127;
        sk_rm[31] |= 64;
        assert_eq!(sk_r.to_bytes().to_vec(), sk_rm);
        let (_, pk_e) = Kem::derive_keypair(&h(&v.ikm_e));
        assert_eq!(pk_e.to_bytes().to_vec(), h(&v.pk_em));

        let mut rng = Replay(h(&v.ikm_e));
        let (enc, mut sender) = hpke::setup_sender_with_rng::<A, Kdf, Kem>(
            &OpModeS::Base,
            &pk_r,
            &h(&v.info),
            &mut rng,
        )
        .unwrap();
        assert_eq!(enc.to_bytes().to_vec(), h(&v.enc));
        let mut receiver =
            hpke::setup_receiver::<A, Kdf, Kem>(&OpModeR::Base, &sk_r, &enc, &h(&v.info)).unwrap();
        for (i, e) in v.encryptions.iter().enumerate() {
            assert_eq!(e.seq, i as u64);
            let ct = sender.seal(&h(&v.pt), &h(&e.aad)).unwrap();
            assert_eq!(ct, h(&e.ct), "ciphertext {i} of {}", v.source);
            assert_eq!(receiver.open(&ct, &h(&e.aad)).unwrap(), h(&v.pt));
        }
    }

    #[test]
    fn rfc9180_a1_x25519_sha256_aes128gcm() {
        let v: Vector = serde_json::from_str(include_str!(
            "../../tests/data/hpke/hpke-rfc9180-a1-x25519-sha256-aes128gcm.json"
        ))
        .unwrap();
        assert_eq!(v.aead_id, 1);
        check::<hpke::aead::AesGcm128>(&v);
    }

    #[test]
    fn independent_x25519_sha256_aes256gcm_is_our_suite() {
        let v: Vector = serde_json::from_str(include_str!(
            "../../tests/data/hpke/hpke-x25519-sha256-aes256gcm.json"
        ))
        .unwrap();
        assert_eq!(v.aead_id, 2);
        check::<Aead>(&v);

        // And through this module's own single-shot API: the first encryption of a context
        // is exactly SealBase.
        let (_, pk) = derive_keypair(&h(&v.ikm_r));
        let mut rng = Replay(h(&v.ikm_e));
        let e0 = &v.encryptions[0];
        let (enc, ct) =
            seal_base_with_rng(&pk, &h(&v.info), &h(&e0.aad), &h(&v.pt), &mut rng).unwrap();
        assert_eq!(enc.to_vec(), h(&v.enc));
        assert_eq!(ct, h(&e0.ct));
        let (sk, _) = derive_keypair(&h(&v.ikm_r));
        assert_eq!(
            &open_base(&sk, &enc, &h(&v.info), &h(&e0.aad), &ct).unwrap()[..],
            &h(&v.pt)[..]
        );
    }

    #[test]
    fn public_key_of_matches_derivation() {
        let (sk, pk) = generate_keypair();
        assert_eq!(public_key_of(&sk), pk);
    }
}
