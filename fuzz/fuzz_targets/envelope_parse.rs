//! The envelope parser and opener must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipline::crypto::envelope::{self, ItemKind};
use tipline::crypto::suite;
use tipline::ids::CaseId;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = envelope::parse(data) {
        assert!(p.header_len() <= data.len());
        assert!(!p.recipients.is_empty());
    }
    // Opening with a fixed key walks the unwrap path too.
    let (sk, _) = suite::derive_keypair(&[7u8; 32]);
    let _ = envelope::open(data, ItemKind::Summary, &CaseId::from_bytes([0; 16]), &sk);
    let _ = envelope::splice_header(data, data.get(..data.len() / 2).unwrap_or(&[]));
});
