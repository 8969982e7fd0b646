//! `clean` must never panic, whatever the bytes: the hand-written Ogg Opus comment-header rewriter: a first page holding an OpusHead.
//! Input that does not start with the format's signature is prefixed with a valid magic so
//! the fuzzer reaches that cleaner; input that does (the seed files from `tests/data/attach`,
//! see `fuzz/seed.sh`) is used as it is.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGIC: &[u8] = b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead\x01\x01";

/// The signature a real file of this format starts with.
const SIGNATURE: &[u8] = b"OggS";

fuzz_target!(|data: &[u8]| {
    if data.starts_with(SIGNATURE) {
        let _ = tipline::attach::clean::clean(data);
        return;
    }
    let mut input = Vec::with_capacity(MAGIC.len() + data.len());
    input.extend_from_slice(MAGIC);
    input.extend_from_slice(data);
    let _ = tipline::attach::clean::clean(&input);
});
