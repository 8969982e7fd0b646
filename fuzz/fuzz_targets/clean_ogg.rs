//! `clean` must never panic, whatever the bytes: the hand-written Ogg Opus comment-header rewriter: a first page holding an OpusHead.
//! The input is prefixed with a valid magic so the fuzzer reaches that cleaner.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGIC: &[u8] = b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead\x01\x01";

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(MAGIC.len() + data.len());
    input.extend_from_slice(MAGIC);
    input.extend_from_slice(data);
    let _ = tipline::attach::clean::clean(&input);
});
