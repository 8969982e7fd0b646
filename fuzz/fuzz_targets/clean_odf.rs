//! `clean` must never panic, whatever the bytes: the ODF cleaner: a local header whose first member is an uncompressed `mimetype`.
//! The input is prefixed with a valid magic so the fuzzer reaches that cleaner.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGIC: &[u8] = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\x27\0\0\0\x27\0\0\0\x08\0\0\0mimetypeapplication/vnd.oasis.opendocument.text";

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(MAGIC.len() + data.len());
    input.extend_from_slice(MAGIC);
    input.extend_from_slice(data);
    let _ = tipline::attach::clean::clean(&input);
});
