//! JPEG 2000 cleaning, for `/JPXDecode` image streams in PDFs (scanners write them).
//! Hand-written: no maintained Rust crate rewrites JP2 boxes or codestream marker segments
//! without decoding the image, and both grammars are small.
//!
//! Format references: ISO/IEC 15444-1 Annex I (JP2 boxes) and Annex A (codestream syntax).
//!
//! - A JP2 file is a sequence of boxes. An allowlist is kept: signature (`jP  `), file type
//!   (`ftyp`), reader requirements (`rreq`), the image and codestream header superboxes
//!   (`jp2h`, `jpch`, `jplh`) and the codestream (`jp2c`). Everything else goes: `xml `
//!   (XMP), `uuid` (XMP, EXIF, GeoJP2 GPS positions), `uinf` (URLs), IPR, labels and
//!   association boxes, and any bytes after the last box.
//! - In the codestream (inside `jp2c`, or a raw codestream as PDF also allows), comment
//!   marker segments (`COM`, 0xFF64: encoder names and free text) are removed from the main
//!   header and from every tile-part header; tile-part lengths (`Psot`) are adjusted. The
//!   compressed image data is copied byte for byte. Anything after the end-of-codestream
//!   marker goes.
//!
//! Invariants: input that does not follow this grammar is an error (the caller then reports
//! the image as not checked); work is linear in the input; nothing panics (all indexing is
//! checked).

/// What was removed, in the words the summary uses.
const REMOVED_XML: &str = "XMP metadata";
const REMOVED_UUID: &str = "UUID boxes (XMP, EXIF, GeoJP2 position)";
const REMOVED_OTHER: &str = "other JPEG 2000 boxes (labels, URLs, rights)";
const REMOVED_COMMENT: &str = "comment";
const REMOVED_TRAILER: &str = "data after the end of the image";

/// Top-level boxes kept.
const KEEP_BOXES: [&[u8; 4]; 7] = [
    b"jP  ", b"ftyp", b"rreq", b"jp2h", b"jpch", b"jplh", b"jp2c",
];

const SOC: u16 = 0xFF4F;
const SOT: u16 = 0xFF90;
const SOD: u16 = 0xFF93;
const EOC: u16 = 0xFFD9;
const COM: u16 = 0xFF64;

/// Why a JPEG 2000 image could not be cleaned. The caller maps it to its own error.
#[derive(Debug)]
pub(crate) struct Malformed;

/// Clean a JP2 file or raw codestream. Returns the new bytes and what was removed.
pub(crate) fn clean(input: &[u8]) -> Result<(Vec<u8>, Vec<&'static str>), Malformed> {
    if be16(input, 0) == Some(SOC) {
        return clean_codestream(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut removed = Vec::new();
    let mut pos = 0;
    let mut first = true;
    while pos < input.len() {
        let Some((kind, header_len, box_len)) = box_at(input, pos) else {
            if first {
                return Err(Malformed);
            }
            removed.push(REMOVED_TRAILER);
            break;
        };
        if first && kind != *b"jP  " {
            return Err(Malformed);
        }
        first = false;
        let end = pos.checked_add(box_len).ok_or(Malformed)?;
        let body = input.get(pos + header_len..end).ok_or(Malformed)?;
        if kind == *b"jp2c" {
            let (codestream, labels) = clean_codestream(body)?;
            write_box(&mut out, &kind, &codestream)?;
            removed.extend(labels);
        } else if KEEP_BOXES.contains(&&kind) {
            out.extend_from_slice(input.get(pos..end).ok_or(Malformed)?);
        } else {
            removed.push(match &kind {
                b"xml " => REMOVED_XML,
                b"uuid" => REMOVED_UUID,
                _ => REMOVED_OTHER,
            });
        }
        pos = end;
    }
    if first {
        return Err(Malformed);
    }
    Ok((out, removed))
}

/// The box at `pos`: its type, header length and total length (ISO/IEC 15444-1 §I.4).
/// A length of 0 means "to the end of the file"; 1 means a 64-bit length follows.
fn box_at(data: &[u8], pos: usize) -> Option<([u8; 4], usize, usize)> {
    let len = be32(data, pos)?;
    let kind: [u8; 4] = data.get(pos + 4..pos + 8)?.try_into().ok()?;
    if !kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return None;
    }
    let (header, total) = match len {
        0 => (8, data.len() - pos),
        1 => {
            let hi = u64::from(be32(data, pos + 8)?);
            let lo = u64::from(be32(data, pos + 12)?);
            (16, usize::try_from((hi << 32) | lo).ok()?)
        }
        n => (8, usize::try_from(n).ok()?),
    };
    (total >= header && pos.checked_add(total)? <= data.len()).then_some((kind, header, total))
}

/// Append a box with a fresh 32-bit (or, if needed, 64-bit) length.
fn write_box(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) -> Result<(), Malformed> {
    match u32::try_from(body.len() + 8) {
        Ok(len) if len > 1 => {
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(kind);
        }
        _ => {
            let len = u64::try_from(body.len() + 16).map_err(|_| Malformed)?;
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(body);
    Ok(())
}

/// Remove COM segments from a codestream's main and tile-part headers.
fn clean_codestream(cs: &[u8]) -> Result<(Vec<u8>, Vec<&'static str>), Malformed> {
    if be16(cs, 0) != Some(SOC) {
        return Err(Malformed);
    }
    let mut out = Vec::with_capacity(cs.len());
    let mut removed = Vec::new();
    out.extend_from_slice(&cs[..2]);
    // Main header: marker segments up to the first SOT.
    let mut pos = 2;
    loop {
        let marker = be16(cs, pos).ok_or(Malformed)?;
        if marker == SOT {
            break;
        }
        let end = segment_end(cs, pos)?;
        if marker == COM {
            removed.push(REMOVED_COMMENT);
        } else {
            out.extend_from_slice(&cs[pos..end]);
        }
        pos = end;
    }
    // Tile-parts, each SOT … SOD data, until EOC.
    loop {
        match be16(cs, pos) {
            Some(SOT) => {}
            Some(EOC) => {
                out.extend_from_slice(&cs[pos..pos + 2]);
                if pos + 2 < cs.len() {
                    removed.push(REMOVED_TRAILER);
                }
                return Ok((out, removed));
            }
            // A truncated codestream (no EOC) decodes as far as it goes; keep what there is.
            None if pos == cs.len() => return Ok((out, removed)),
            _ => return Err(Malformed),
        }
        let psot = usize::try_from(be32(cs, pos + 6).ok_or(Malformed)?).map_err(|_| Malformed)?;
        // Psot 0: this tile-part runs to the EOC marker at the end of the codestream.
        let part_end = if psot == 0 {
            if be16(cs, cs.len().checked_sub(2).ok_or(Malformed)?) == Some(EOC) {
                cs.len() - 2
            } else {
                cs.len()
            }
        } else {
            pos.checked_add(psot)
                .filter(|&e| e <= cs.len())
                .ok_or(Malformed)?
        };
        let sot_end = segment_end(cs, pos)?;
        let mut header = Vec::new();
        let mut at = sot_end;
        loop {
            let marker = be16(cs, at).ok_or(Malformed)?;
            if marker == SOD {
                break;
            }
            let end = segment_end(cs, at)?;
            if end > part_end {
                return Err(Malformed);
            }
            if marker == COM {
                removed.push(REMOVED_COMMENT);
            } else {
                header.extend_from_slice(&cs[at..end]);
            }
            at = end;
        }
        if at >= part_end {
            return Err(Malformed);
        }
        let data = &cs[at..part_end];
        let mut sot = cs[pos..sot_end].to_vec();
        if psot != 0 {
            let new_len =
                u32::try_from(sot.len() + header.len() + data.len()).map_err(|_| Malformed)?;
            sot.get_mut(6..10)
                .ok_or(Malformed)?
                .copy_from_slice(&new_len.to_be_bytes());
        }
        out.extend_from_slice(&sot);
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        pos = part_end;
    }
}

/// End of the marker segment at `pos`: marker (2) plus its length field's value.
fn segment_end(data: &[u8], pos: usize) -> Result<usize, Malformed> {
    let len = usize::from(be16(data, pos + 2).ok_or(Malformed)?);
    if len < 2 {
        return Err(Malformed);
    }
    let end = pos + 2 + len;
    (end <= data.len()).then_some(end).ok_or(Malformed)
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    super::bytes_util::be_u16(data, at)
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOC, SIZ (fake body), COM, one tile-part with a COM in its header, EOC.
    fn codestream(psot_zero: bool) -> Vec<u8> {
        let mut cs = vec![0xFF, 0x4F];
        cs.extend_from_slice(&[0xFF, 0x51, 0x00, 0x06, 1, 2, 3, 4]);
        cs.extend_from_slice(&[0xFF, 0x64, 0x00, 0x08, 0, 1, b'c', b'a', b'n', b'y']);
        let mut part = vec![0xFF, 0x90, 0x00, 0x0A, 0, 0, 0, 0, 0, 0, 0, 1];
        part.extend_from_slice(&[0xFF, 0x64, 0x00, 0x05, 0, 1, b'x']);
        part.extend_from_slice(&[0xFF, 0x93, 9, 8, 7]);
        let psot = if psot_zero { 0 } else { part.len() as u32 };
        part[6..10].copy_from_slice(&psot.to_be_bytes());
        cs.extend(part);
        cs.extend_from_slice(&[0xFF, 0xD9]);
        cs
    }

    #[test]
    fn comments_go_and_tile_lengths_follow() {
        for psot_zero in [false, true] {
            let (out, removed) = clean_codestream(&codestream(psot_zero)).expect("cleans");
            assert_eq!(removed, [REMOVED_COMMENT, REMOVED_COMMENT]);
            assert!(!out.windows(2).any(|w| w == [0xFF, 0x64]));
            assert!(out.ends_with(&[0xFF, 0x93, 9, 8, 7, 0xFF, 0xD9]));
            let sot = out.windows(2).position(|w| w == [0xFF, 0x90]).expect("SOT");
            let psot = be32(&out, sot + 6).expect("Psot");
            if psot_zero {
                assert_eq!(psot, 0);
            } else {
                assert_eq!(psot as usize, out.len() - 2 - sot);
            }
        }
    }

    #[test]
    fn broken_codestreams_are_errors() {
        let cs = codestream(false);
        for cut in [3, 9, 20, 25] {
            assert!(clean(&cs[..cut]).is_err(), "cut at {cut}");
        }
        assert!(clean(b"not a jp2").is_err());
    }
}
