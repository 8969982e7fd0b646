//! PNG cleaning with `img-parts` chunk surgery.
//!
//! An allowlist: critical chunks (upper-case first letter: IHDR, PLTE, IDAT, IEND and any
//! other a decoder would need) stay, and so do the ancillary chunks that affect how the
//! pixels look (colour space, transparency, physical size) or animate (APNG). Every other
//! ancillary chunk goes — by definition a decoder can display the image without it. That
//! removes tEXt/zTXt/iTXt (including XMP, which lives in iTXt), eXIf, tIME and private
//! chunks such as previews. Data after IEND is dropped by the parser.
//!
//! `img-parts` verifies each chunk's CRC and recomputes nothing for kept chunks, which
//! are copied byte for byte.

use img_parts::png::Png;

use super::{CleanError, Format, Step};

/// Ancillary chunks kept because they change the rendered image or its animation.
const KEEP_ANCILLARY: [&[u8; 4]; 14] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"hIST", b"pHYs", b"cICP",
    b"mDCV", b"cLLI", b"acTL", b"fcTL",
];
/// APNG frame data (`fdAT`) is ancillary by its name but carries the frames themselves.
const APNG_FRAME_DATA: &[u8; 4] = b"fdAT";

/// Clean a PNG held in memory.
pub(crate) fn clean(input: &[u8]) -> Result<Step, CleanError> {
    let mut png = Png::from_bytes(super::bytes_util::wiped_copy(input)).map_err(|_| {
        CleanError::Malformed {
            format: Format::Png,
        }
    })?;
    let mut removed = Vec::new();
    if png.len() < input.len() {
        removed.push("data after the end of the image");
    }
    png.chunks_mut().retain(|chunk| {
        let kind = chunk.kind();
        let critical = kind[0].is_ascii_uppercase();
        if critical || kind == *APNG_FRAME_DATA || KEEP_ANCILLARY.contains(&&kind) {
            return true;
        }
        removed.push(match &kind {
            b"tEXt" | b"zTXt" | b"iTXt" => "text chunks (incl. XMP)",
            b"eXIf" | b"zxIf" => "EXIF",
            b"tIME" => "modification time",
            _ => "other ancillary chunks",
        });
        false
    });
    let mut out = Vec::with_capacity(png.len());
    for piece in png.encoder() {
        out.extend_from_slice(&piece);
    }
    Ok(Step::cleaned(out, removed))
}
