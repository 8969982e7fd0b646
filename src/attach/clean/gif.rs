//! GIF cleaning. Hand-written: no maintained crate rewrites GIF blocks without decoding
//! and re-encoding the frames (the `gif` crate decodes LZW data and writes its own
//! structure), and the block grammar (GIF89a §17–§26) is small.
//!
//! The block stream is copied verbatim except for:
//! - comment extensions (0xFE): removed;
//! - application extensions (0xFF): removed unless they are the looping extension
//!   (`NETSCAPE2.0` / `ANIMEXTS1.0`), so XMP (`XMP DataXMP`) and vendor data go;
//! - extensions with unknown labels: removed (decoders skip them anyway);
//! - anything after the trailer (0x3B): dropped.
//!
//! Graphic control (0xF9) and plain text (0x01) extensions are image content and stay.
//! A file that ends cleanly between blocks without a trailer gets one appended.

use super::{CleanError, Format, Step};

const EXT_INTRODUCER: u8 = 0x21;
const IMAGE_SEPARATOR: u8 = 0x2C;
const TRAILER: u8 = 0x3B;
const LABEL_GRAPHIC_CONTROL: u8 = 0xF9;
const LABEL_PLAIN_TEXT: u8 = 0x01;
const LABEL_COMMENT: u8 = 0xFE;
const LABEL_APPLICATION: u8 = 0xFF;
/// Header (6) and logical screen descriptor (7).
const HEADER_LEN: usize = 13;
/// Image descriptor including its separator byte.
const IMAGE_DESCRIPTOR_LEN: usize = 10;

fn malformed() -> CleanError {
    CleanError::Malformed {
        format: Format::Gif,
    }
}

/// Clean a GIF held in memory.
pub(crate) fn clean(input: &[u8]) -> Result<Step, CleanError> {
    let header = input.get(..HEADER_LEN).ok_or_else(malformed)?;
    let mut pos = HEADER_LEN + colour_table_len(header[10]);
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(input.get(..pos).ok_or_else(malformed)?);
    let mut removed = Vec::new();

    loop {
        let Some(&block) = input.get(pos) else {
            // Ended between blocks without a trailer: close the stream properly.
            out.push(TRAILER);
            break;
        };
        match block {
            IMAGE_SEPARATOR => {
                let descriptor = input
                    .get(pos..pos + IMAGE_DESCRIPTOR_LEN)
                    .ok_or_else(malformed)?;
                // Descriptor, optional local colour table, LZW minimum code size byte.
                let data_start = pos + IMAGE_DESCRIPTOR_LEN + colour_table_len(descriptor[9]) + 1;
                let end = skip_sub_blocks(input, data_start)?;
                out.extend_from_slice(&input[pos..end]);
                pos = end;
            }
            EXT_INTRODUCER => {
                let label = *input.get(pos + 1).ok_or_else(malformed)?;
                let end = skip_sub_blocks(input, pos + 2)?;
                let keep = match label {
                    LABEL_GRAPHIC_CONTROL | LABEL_PLAIN_TEXT => true,
                    LABEL_APPLICATION => {
                        // First sub-block: 8-byte identifier and 3-byte authentication code.
                        let id = input.get(pos + 2..pos + 14);
                        matches!(id, Some(b"\x0bNETSCAPE2.0") | Some(b"\x0bANIMEXTS1.0"))
                    }
                    _ => false,
                };
                if keep {
                    out.extend_from_slice(&input[pos..end]);
                } else {
                    removed.push(match label {
                        LABEL_COMMENT => "comment",
                        LABEL_APPLICATION => "application data (incl. XMP)",
                        _ => "unknown extensions",
                    });
                }
                pos = end;
            }
            TRAILER => {
                out.push(TRAILER);
                if pos + 1 < input.len() {
                    removed.push("data after the end of the image");
                }
                break;
            }
            _ => return Err(malformed()),
        }
    }
    Ok(Step::cleaned(out, removed))
}

/// Size in bytes of the colour table announced by a packed field (logical screen
/// descriptor byte 10 or image descriptor byte 9): present if the top bit is set,
/// 3 × 2^(n+1) bytes for size bits n.
fn colour_table_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// Skip a sequence of data sub-blocks (length byte, data) ending with a zero-length block;
/// returns the position after the terminator.
fn skip_sub_blocks(input: &[u8], mut pos: usize) -> Result<usize, CleanError> {
    loop {
        let len = usize::from(*input.get(pos).ok_or_else(malformed)?);
        pos += 1;
        if len == 0 {
            return Ok(pos);
        }
        pos += len;
        if pos > input.len() {
            return Err(malformed());
        }
    }
}
