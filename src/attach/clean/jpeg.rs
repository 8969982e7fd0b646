//! JPEG cleaning: segment surgery with `img-parts`, plus a hand-written walk of what
//! follows the first scan.
//!
//! `img-parts` parses the segments up to the first start-of-scan (SOS) and keeps the rest
//! of the file as opaque "entropy" bytes. Metadata can hide in that rest: progressive
//! JPEGs may carry APPn/COM segments between scans, and everything after the end-of-image
//! marker (EOI) — MPF secondary images with their own EXIF and GPS, "motion photo" videos,
//! arbitrary appended data — is kept by viewers' indifference but sent along with the file.
//! No maintained crate walks that part, so [`clean_after_first_scan`] does it by hand.
//!
//! Rules (an allowlist, so unknown segments go):
//! - APP0: kept only for JFIF, with any embedded JFIF thumbnail cut; JFXX and others go.
//! - APP1 (EXIF incl. GPS, serial numbers and the IFD1 thumbnail; XMP), APP3–APP13
//!   (IPTC/Photoshop in APP13), APP15 and COM: removed.
//! - APP2: only `ICC_PROFILE` is kept (colour correctness); MPF and FlashPix go.
//! - APP14: kept only for `Adobe` (its colour transform flag is needed to decode CMYK).
//! - Everything after EOI is dropped.
//!
//! Orientation: dropping EXIF would turn portrait phone photos sideways, which reviewers
//! then "fix" by hand. With [`Orientation::Keep`] a minimal EXIF segment holding only the
//! Orientation tag is re-inserted (nothing else of the original EXIF survives).

use img_parts::Bytes;
use img_parts::jpeg::{Jpeg, JpegSegment, markers};

use super::bytes_util::be_u16;
use super::{CleanError, Format, Step};

/// Whether to re-insert the EXIF Orientation tag after removing EXIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Orientation {
    /// Re-insert a minimal EXIF segment with only the Orientation tag (standalone photos,
    /// images inside office documents).
    Keep,
    /// Drop it (JPEG streams inside PDFs, where EXIF orientation is not applied anyway).
    Drop,
}

const REMOVED_EXIF: &str = "EXIF (incl. GPS, camera serial, thumbnail)";
const REMOVED_XMP: &str = "XMP";
const REMOVED_IPTC: &str = "IPTC/Photoshop data";
const REMOVED_COMMENT: &str = "comment";
const REMOVED_THUMB: &str = "JFIF thumbnail";
const REMOVED_APP: &str = "other application data segments";
const REMOVED_TRAILER: &str = "data after the end of the image (extra images, video)";

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
const XMP_PREFIXES: [&[u8]; 2] = [
    b"http://ns.adobe.com/xap/1.0/\0",
    b"http://ns.adobe.com/xmp/extension/\0",
];
const JFIF_PREFIX: &[u8] = b"JFIF\0";
/// JFIF APP0 payload without thumbnail: identifier (5), version (2), units (1),
/// densities (4), thumbnail width and height (2).
const JFIF_BASE_LEN: usize = 14;
const ORIENTATION_TAG: u16 = 0x0112;

fn malformed() -> CleanError {
    CleanError::Malformed {
        format: Format::Jpeg,
    }
}

/// Clean a JPEG held in memory.
pub(crate) fn clean(input: &[u8], orientation: Orientation) -> Result<Step, CleanError> {
    let original = super::bytes_util::wiped_copy(input);
    let mut jpeg = Jpeg::from_bytes(original.clone()).map_err(|_| malformed())?;
    let mut removed = Vec::new();
    let mut kept_orientation = None;

    let segments = std::mem::take(jpeg.segments_mut());
    let mut kept = Vec::with_capacity(segments.len());
    for segment in segments {
        let contents = segment.contents();
        match segment.marker() {
            markers::APP0 if contents.starts_with(JFIF_PREFIX) => {
                if contents.len() > JFIF_BASE_LEN {
                    // Cut the thumbnail and declare it 0×0 so the segment stays valid.
                    let mut base = contents[..JFIF_BASE_LEN].to_vec();
                    base[12] = 0;
                    base[13] = 0;
                    kept.push(JpegSegment::new_with_contents(
                        markers::APP0,
                        Bytes::from(base),
                    ));
                    removed.push(REMOVED_THUMB);
                } else {
                    kept.push(segment);
                }
            }
            markers::APP0 if contents.starts_with(b"JFXX") => removed.push(REMOVED_THUMB),
            markers::APP0 => removed.push(REMOVED_APP),
            markers::APP1 if contents.starts_with(EXIF_PREFIX) => {
                if kept_orientation.is_none() {
                    kept_orientation = exif_orientation(&contents[EXIF_PREFIX.len()..]);
                }
                removed.push(REMOVED_EXIF);
            }
            markers::APP1 if XMP_PREFIXES.iter().any(|p| contents.starts_with(p)) => {
                removed.push(REMOVED_XMP);
            }
            markers::APP2 if contents.starts_with(b"ICC_PROFILE\0") => kept.push(segment),
            markers::APP13 => removed.push(REMOVED_IPTC),
            markers::APP14 if contents.starts_with(b"Adobe") => kept.push(segment),
            markers::COM => removed.push(REMOVED_COMMENT),
            marker if is_app(marker) => removed.push(REMOVED_APP),
            markers::SOS if segment.has_entropy() => {
                // The entropy of the first scan runs to the end of the input.
                let rest_len = segment.len_with_entropy() - segment.len();
                let rest_start = input.len().checked_sub(rest_len).ok_or_else(malformed)?;
                let (rest, rest_removed) = clean_after_first_scan(&original.slice(rest_start..))?;
                removed.extend(rest_removed);
                let contents = segment.contents().clone();
                kept.push(if rest.is_empty() {
                    JpegSegment::new_with_contents(markers::SOS, contents)
                } else {
                    JpegSegment::new_with_entropy(markers::SOS, contents, rest)
                });
            }
            _ => kept.push(segment),
        }
    }

    if orientation == Orientation::Keep
        && let Some(value) = kept_orientation.filter(|v| (2..=8).contains(v))
    {
        // After a JFIF APP0 if there is one (JFIF wants to be first), else right after SOI.
        let at = usize::from(kept.first().is_some_and(|s| s.marker() == markers::APP0));
        kept.insert(
            at,
            JpegSegment::new_with_contents(markers::APP1, minimal_exif(value)),
        );
    }
    *jpeg.segments_mut() = kept;

    let mut out = Vec::with_capacity(jpeg.len());
    for piece in jpeg.encoder() {
        out.extend_from_slice(&piece);
    }
    Ok(Step::cleaned(out, removed))
}

/// APP1 to APP15 (0xE1–0xEF); APP0 is handled separately.
fn is_app(marker: u8) -> bool {
    (markers::APP1..=markers::APP15).contains(&marker)
}

/// Walk the bytes after the first SOS header: entropy-coded data interleaved with
/// marker segments (tables and further scans in progressive files), up to EOI.
/// Metadata segments found on the way are dropped, and so is everything after EOI.
/// Returns the bytes to keep (ending with EOI if the input had one).
///
/// In entropy-coded data a 0xFF byte is always followed by 0x00 (stuffing) or an RSTn
/// marker; anything else after 0xFF is a real marker, which is how segment boundaries are
/// found without decoding.
fn clean_after_first_scan(rest: &Bytes) -> Result<(Bytes, Vec<&'static str>), CleanError> {
    let data: &[u8] = rest;
    let mut removed = Vec::new();
    let mut out: Option<Vec<u8>> = None; // allocated only once something must go
    let mut copy_from = 0; // start of the not yet copied range
    let mut pos = 0;

    loop {
        let Some(ff) = data[pos..].iter().position(|&b| b == 0xFF).map(|i| pos + i) else {
            // Truncated file without EOI: keep what there is, as viewers do.
            return Ok(finish(rest, out, copy_from, data.len(), removed));
        };
        let Some(&marker) = data.get(ff + 1) else {
            return Ok(finish(rest, out, copy_from, data.len(), removed));
        };
        match marker {
            // Stuffed byte, restart marker, or fill byte before a marker.
            0x00 | 0xD0..=0xD7 => pos = ff + 2,
            0xFF => pos = ff + 1,
            markers::EOI => {
                let end = ff + 2;
                if end < data.len() {
                    removed.push(REMOVED_TRAILER);
                }
                return Ok(finish(rest, out, copy_from, end, removed));
            }
            // TEM and a stray SOI carry no length and nothing else.
            0x01 | markers::SOI => pos = ff + 2,
            _ => {
                let len = usize::from(be_u16(data, ff + 2).ok_or_else(malformed)?);
                let end = (ff + 2)
                    .checked_add(len)
                    .filter(|&e| len >= 2 && e <= data.len());
                let end = end.ok_or_else(malformed)?;
                let drop_label = match marker {
                    markers::COM => Some(REMOVED_COMMENT),
                    markers::APP13 => Some(REMOVED_IPTC),
                    markers::APP1 => Some(REMOVED_EXIF),
                    // Stray APP0/APP2/APP14 between scans serve no decoder; drop them all.
                    m if m == markers::APP0 || is_app(m) => Some(REMOVED_APP),
                    _ => None,
                };
                if let Some(label) = drop_label {
                    let buf = out.get_or_insert_with(|| Vec::with_capacity(data.len()));
                    buf.extend_from_slice(&data[copy_from..ff]);
                    copy_from = end;
                    removed.push(label);
                }
                pos = end;
            }
        }
    }
}

/// Assemble the kept bytes: zero-copy when nothing inside had to go.
fn finish(
    rest: &Bytes,
    out: Option<Vec<u8>>,
    copy_from: usize,
    end: usize,
    removed: Vec<&'static str>,
) -> (Bytes, Vec<&'static str>) {
    match out {
        None => (rest.slice(copy_from..end), removed),
        Some(mut buf) => {
            buf.extend_from_slice(&rest[copy_from..end]);
            (Bytes::from(buf), removed)
        }
    }
}

/// Read the Orientation tag (0x0112, SHORT) from IFD0 of a TIFF-structured EXIF block.
/// Hand-written: ten lines do not justify an EXIF crate. Any inconsistency yields `None`.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if big_endian {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd0 = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd0)?);
    (0..count).find_map(|i| {
        let entry = ifd0.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        // Type 3 (SHORT), count 1: the value sits in the first two bytes of the field.
        (u16_at(entry)? == ORIENTATION_TAG && u16_at(entry + 2)? == 3 && u32_at(entry + 4)? == 1)
            .then(|| u16_at(entry + 8))
            .flatten()
    })
}

/// An APP1 EXIF payload holding only IFD0 with the Orientation tag.
fn minimal_exif(orientation: u16) -> Bytes {
    let mut v = Vec::with_capacity(32);
    v.extend_from_slice(EXIF_PREFIX);
    v.extend_from_slice(b"MM\0*\0\0\0\x08"); // big-endian TIFF header, IFD0 at offset 8
    v.extend_from_slice(&1u16.to_be_bytes()); // one entry
    v.extend_from_slice(&ORIENTATION_TAG.to_be_bytes());
    v.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    v.extend_from_slice(&1u32.to_be_bytes()); // count
    v.extend_from_slice(&orientation.to_be_bytes());
    v.extend_from_slice(&[0, 0]); // value padding
    v.extend_from_slice(&0u32.to_be_bytes()); // no IFD1: no thumbnail
    Bytes::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_exif_round_trips_orientation() {
        let exif = minimal_exif(6);
        assert_eq!(exif_orientation(&exif[EXIF_PREFIX.len()..]), Some(6));
    }

    #[test]
    fn orientation_in_little_endian_exif() {
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&[0x0F, 0x01, 2, 0, 5, 0, 0, 0, 26, 0, 0, 0]); // Make, ASCII
        t.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0]);
        assert_eq!(exif_orientation(&t), Some(8));
        assert_eq!(exif_orientation(&t[..20]), None);
    }
}
