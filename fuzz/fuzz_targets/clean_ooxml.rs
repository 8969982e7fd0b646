//! `clean` must never panic, whatever the bytes: the OOXML cleaner (zip rewrite and XML rules); the fuzzer mostly reaches the zip reader.
//! The input is prefixed with a valid magic so the fuzzer reaches that cleaner.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGIC: &[u8] = b"PK\x03\x04";

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(MAGIC.len() + data.len());
    input.extend_from_slice(MAGIC);
    input.extend_from_slice(data);
    let _ = tipline::attach::clean::clean(&input);
});
