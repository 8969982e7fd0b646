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
