//! WebP cleaning with `img-parts` RIFF chunk surgery.
//!
//! An allowlist of top-level chunks: the image data (`VP8 `, `VP8L`, `ALPH`), the extended
//! header (`VP8X`), animation (`ANIM`, `ANMF`) and the colour profile (`ICCP`). `EXIF`,
//! `XMP ` and unknown chunks go, and the EXIF and XMP flags in `VP8X` are cleared so the
//! header does not announce chunks that are gone. The RIFF size is recomputed on encoding;
//! bytes after the RIFF chunk are dropped.

use img_parts::Bytes;
use img_parts::riff::RiffContent;
use img_parts::webp::{
    CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_EXIF, CHUNK_ICCP, CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X,
    CHUNK_XMP, WebP,
};

use super::{CleanError, Format, Step};

const KEEP: [[u8; 4]; 7] = [
    CHUNK_VP8X, CHUNK_VP8, CHUNK_VP8L, CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP,
];
/// VP8X flag bits (first byte) announcing EXIF and XMP chunks.
const FLAG_EXIF: u8 = 0b0000_1000;
const FLAG_XMP: u8 = 0b0000_0100;

/// Clean a WebP held in memory.
pub(crate) fn clean(input: &[u8]) -> Result<Step, CleanError> {
    let mut webp = WebP::from_bytes(super::bytes_util::wiped_copy(input)).map_err(|_| {
        CleanError::Malformed {
            format: Format::WebP,
        }
    })?;
    let mut removed = Vec::new();
    // RIFF length field (8 bytes of header) versus the input: anything beyond is appended data.
    if usize::try_from(webp.len()).is_ok_and(|len| len < input.len()) {
        removed.push("data after the end of the image");
    }
    webp.chunks_mut().retain(|chunk| {
        let id = chunk.id();
        if KEEP.contains(&id) {
            return true;
        }
        removed.push(match id {
            CHUNK_EXIF => "EXIF",
            CHUNK_XMP => "XMP",
            _ => "other chunks",
        });
        false
    });
    for chunk in webp
        .chunks_mut()
        .iter_mut()
        .filter(|c| c.id() == CHUNK_VP8X)
    {
        if let RiffContent::Data(data) = chunk.content_mut()
            && let Some(&flags) = data.first()
        {
            let cleared = flags & !(FLAG_EXIF | FLAG_XMP);
            if cleared != flags {
                let mut patched = data.to_vec();
                patched[0] = cleared; // non-empty: `first()` returned a byte
                *data = Bytes::from(patched);
            }
        }
    }
    let mut out = Vec::with_capacity(input.len());
    for piece in webp.encoder() {
        out.extend_from_slice(&piece);
    }
    Ok(Step::cleaned(out, removed))
}
