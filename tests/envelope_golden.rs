//! The envelope format is frozen: a blob sealed by this version must open forever, and the same
//! inputs with the same randomness must produce the same bytes. If this test fails, the format
//! changed: that needs a new version number, not a new golden file.

use serde::Deserialize;
use tipline::crypto::envelope::{self, ItemKind};
use tipline::crypto::suite;
use tipline::ids::CaseId;

#[derive(Deserialize)]
struct Golden {
    recipient_ikms: Vec<String>,
    kind: String,
    case_id: String,
    plaintext: String,
    rng_seed: String,
    blob: String,
}

/// A deterministic RNG: SHA-256(seed ‖ counter) blocks. Test-only.
struct CounterRng {
    seed: Vec<u8>,
    counter: u64,
    buf: Vec<u8>,
}

impl rand_core::TryRng for CounterRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        use sha2::Digest;
        while self.buf.len() < dst.len() {
            let mut h = sha2::Sha256::new();
            h.update(&self.seed);
            h.update(self.counter.to_be_bytes());
            self.counter += 1;
            self.buf.extend_from_slice(&h.finalize());
        }
        let rest = self.buf.split_off(dst.len());
        dst.copy_from_slice(&self.buf);
        self.buf = rest;
        Ok(())
    }
}
impl rand_core::TryCryptoRng for CounterRng {}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn golden_blob_v1_opens_and_reproduces() {
    let g: Golden = serde_json::from_str(include_str!("data/envelope/golden-v1.json")).unwrap();
    let keys: Vec<_> = g
        .recipient_ikms
        .iter()
        .map(|i| suite::derive_keypair(&h(i)))
        .collect();
    let kind = ItemKind::parse(&g.kind).unwrap();
    let case = CaseId::parse(&g.case_id).unwrap();
    let pks: Vec<_> = keys.iter().map(|k| k.1).collect();
    let mut rng = CounterRng {
        seed: h(&g.rng_seed),
        counter: 0,
        buf: Vec::new(),
    };
    let sealed = envelope::seal_with_rng(kind, &case, &pks, &h(&g.plaintext), &mut rng).unwrap();
    if g.blob.is_empty() || std::env::var("TIPLINE_PRINT_GOLDEN").is_ok() {
        println!("{}", hex::encode(&sealed));
    }
    let blob = h(&g.blob);
    assert_eq!(
        hex::encode(&sealed),
        g.blob,
        "sealing no longer reproduces the golden blob"
    );
    for (sk, _) in &keys {
        assert_eq!(
            &envelope::open(&blob, kind, &case, sk).unwrap()[..],
            &h(&g.plaintext)[..]
        );
    }
    // The layout's fixed fields, spelled out.
    assert_eq!(&blob[..4], b"TLSE");
    assert_eq!(blob[4], 1);
    assert_eq!(blob[5], kind.code());
    assert_eq!(&blob[6..22], case.as_bytes());
    assert_eq!(usize::from(blob[54]), keys.len());
    assert_eq!(
        envelope::parse(&blob).unwrap().header_len(),
        55 + 88 * keys.len() + 32
    );
}

#[derive(Deserialize)]
struct GoldenThreshold {
    recipient_ikms: Vec<String>,
    k: u8,
    kind: String,
    case_id: String,
    plaintext: String,
    rng_seed: String,
    blob: String,
}

#[test]
fn golden_blob_v2_opens_with_any_two_and_reproduces() {
    use tipline::crypto::threshold;
    let g: GoldenThreshold =
        serde_json::from_str(include_str!("data/envelope/golden-v2.json")).unwrap();
    let keys: Vec<_> = g
        .recipient_ikms
        .iter()
        .map(|i| suite::derive_keypair(&h(i)))
        .collect();
    let kind = ItemKind::parse(&g.kind).unwrap();
    let case = CaseId::parse(&g.case_id).unwrap();
    let pks: Vec<_> = keys.iter().map(|k| k.1).collect();
    let mut rng = CounterRng {
        seed: h(&g.rng_seed),
        counter: 0,
        buf: Vec::new(),
    };
    let sealed =
        threshold::seal_with_rng(kind, &case, &pks, g.k, &h(&g.plaintext), &mut rng).unwrap();
    if g.blob.is_empty() || std::env::var("TIPLINE_PRINT_GOLDEN").is_ok() {
        println!("{}", hex::encode(&sealed));
    }
    assert_eq!(
        hex::encode(&sealed),
        g.blob,
        "sealing no longer reproduces the golden threshold blob"
    );
    let blob = h(&g.blob);
    let shares: Vec<_> = keys
        .iter()
        .map(|(sk, _)| threshold::share_of(&blob, kind, &case, sk).unwrap())
        .collect();
    for pair in [[0, 1], [0, 2], [1, 2]] {
        let two: Vec<_> = pair
            .iter()
            .map(|&i| threshold::Share::new(shares[i].x, shares[i].k, *shares[i].expose_value()))
            .collect();
        assert_eq!(
            &threshold::open_with_shares(&blob, kind, &case, &two).unwrap()[..],
            &h(&g.plaintext)[..]
        );
    }
    for (sk, _) in &keys {
        assert!(envelope::open(&blob, kind, &case, sk).is_err());
    }
    // The layout's fixed fields, spelled out (docs/FORMATS.md §23).
    assert_eq!(&blob[..4], b"TLSE");
    assert_eq!(blob[4], 2);
    assert_eq!(blob[5], kind.code());
    assert_eq!(&blob[6..22], case.as_bytes());
    assert_eq!(
        (blob[54], usize::from(blob[55]), blob[56], blob[57]),
        (2, 3, 1, 0)
    );
    assert_eq!(
        envelope::parse(&blob).unwrap().header_len(),
        58 + (8 + 80) * keys.len()
    );
}
