//! Fuzz target for `tipline::deid`: `detect` must never panic on any UTF-8 input, must return
//! sorted, non-overlapping, in-bounds ranges on `char` boundaries, and `redact` must return the
//! input unchanged when every finding is kept (and never panic when all are removed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipline::deid::{Lang, detect, redact};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let findings = detect(s);
        let mut prev_end = 0;
        for f in &findings {
            assert!(f.range.start < f.range.end, "empty finding");
            assert!(f.range.end <= s.len(), "finding out of bounds");
            assert!(s.is_char_boundary(f.range.start), "start inside a char");
            assert!(s.is_char_boundary(f.range.end), "end inside a char");
            assert!(
                f.range.start >= prev_end,
                "findings unsorted or overlapping"
            );
            prev_end = f.range.end;
        }
        let keep_all = vec![false; findings.len()];
        assert_eq!(redact(s, &findings, &keep_all, Lang::Vi), s);
        let remove_all = vec![true; findings.len()];
        let redacted = redact(s, &findings, &remove_all, Lang::En);
        assert!(findings.is_empty() || redacted != s);
    }
});
