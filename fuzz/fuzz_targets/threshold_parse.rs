//! The threshold envelope parser, its share opener and combiner, the re-share part parser and
//! the header assembler must never panic, whatever the bytes (docs/FORMATS.md §23).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipline::crypto::envelope::{self, ItemKind};
use tipline::crypto::{suite, threshold};
use tipline::ids::CaseId;

fuzz_target!(|data: &[u8]| {
    // Half the inputs are forced to look like a version 2 envelope, to get past the magic.
    let mut forced = data.to_vec();
    if forced.len() > 5 && data[0] & 1 == 1 {
        forced[..5].copy_from_slice(b"TLSE\x02");
    }
    if let Ok(p) = envelope::parse(&forced) {
        assert!(p.header_len() <= forced.len());
        assert!(!p.recipients.is_empty());
        if let Some(t) = &p.threshold {
            assert!(t.k >= 1 && usize::from(t.k) <= p.recipients.len());
        }
    }
    let case = CaseId::from_bytes([0; 16]);
    let (sk, _) = suite::derive_keypair(&[7u8; 32]);
    let _ = threshold::share_of(&forced, ItemKind::Identity, &case, &sk);
    let shares = [threshold::Share::new(1, 2, [1; 32]), threshold::Share::new(2, 2, [2; 32])];
    let _ = threshold::open_with_shares(&forced, ItemKind::Identity, &case, &shares);
    let _ = threshold::parse_part(data);
    let half = data.len() / 2;
    let _ = threshold::assemble(&forced, &[&data[..half], &data[half..]]);
    let _ = threshold::decode_shares(data);
});
