//! Ogg Opus cleaning. Hand-written: no maintained crate rewrites an Ogg stream's comment
//! header while keeping every other page byte for byte (the `ogg` crate reads and writes
//! packets but re-paginates audio and needs granule bookkeeping by hand anyway).
//!
//! Format references: RFC 3533 (Ogg pages), RFC 7845 §5 (OpusHead, OpusTags).
//!
//! For every logical stream (multiplexed or chained), the second packet — the OpusTags
//! comment header, which may span several pages — is replaced by a fresh one with a
//! neutral vendor string and zero user comments (ARTIST=, ENCODER=, locations, cover art
//! and any trailing binary data all go). Pages carrying the old header are replaced by the
//! page(s) of the new one; later pages of that stream get their sequence numbers shifted
//! so the sequence stays gapless, and their CRC recomputed. Granule positions, the
//! OpusHead page and all audio data are untouched. Bytes that are not Ogg pages after the
//! last page are dropped; anything else that is not a well-formed page is malformed.
//!
//! Files whose streams are not all Opus (Vorbis, FLAC, Theora, Skeleton…) are reported as
//! not cleanable rather than half cleaned.

use super::{CleanError, Format, Step};

/// Vendor string written into the new comment header: says only that it is Opus.
const NEUTRAL_VENDOR: &[u8] = b"opus";
const CAPTURE: &[u8] = b"OggS";
const FLAG_CONTINUED: u8 = 0x01;
const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;
const HEADER_LEN: usize = 27;
/// Largest payload one page can carry: 255 segments of 255 bytes.
const MAX_PAGE_PAYLOAD: usize = 255 * 255;

fn malformed() -> CleanError {
    CleanError::Malformed {
        format: Format::OggOpus,
    }
}

/// One page of the input, borrowed.
struct Page<'a> {
    raw: &'a [u8],
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    lacing: &'a [u8],
    body: &'a [u8],
}

/// Parse the page at the start of `data`, or `None` if it is not a complete page.
fn parse_page(data: &[u8]) -> Option<Page<'_>> {
    if data.get(..4)? != CAPTURE || *data.get(4)? != 0 {
        return None;
    }
    let header = data.get(..HEADER_LEN)?;
    let le32 = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let segments = usize::from(header[26]);
    let lacing = data.get(HEADER_LEN..HEADER_LEN + segments)?;
    let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
    let body_start = HEADER_LEN + segments;
    let body = data.get(body_start..body_start + body_len)?;
    Some(Page {
        raw: &data[..body_start + body_len],
        flags: header[5],
        granule: u64::from(le32(6)) | (u64::from(le32(10)) << 32),
        serial: le32(14),
        sequence: le32(18),
        lacing,
        body,
    })
}

/// Split `data` into pages; returns them and whether non-page bytes followed the last one.
fn parse_pages(data: &[u8]) -> Result<(Vec<Page<'_>>, bool), CleanError> {
    let mut pages = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        match parse_page(&data[pos..]) {
            Some(page) => {
                pos += page.raw.len();
                pages.push(page);
            }
            // Junk after at least one page: drop it (players ignore it too). A stray
            // capture pattern means a damaged page in the middle, which we do not guess at.
            None if !pages.is_empty() && !data[pos..].windows(4).any(|w| w == CAPTURE) => {
                return Ok((pages, true));
            }
            None => return Err(malformed()),
        }
    }
    Ok((pages, false))
}

/// Whether `bytes` starts with an Ogg page whose first packet is an Opus ID header.
pub(crate) fn is_opus(bytes: &[u8]) -> bool {
    parse_page(bytes).is_some_and(|p| p.body.starts_with(b"OpusHead"))
}

/// Where a stream's comment header sits: its pages (indices into the page list) and how
/// many segments of the last page belong to it.
struct CommentSpan {
    pages: Vec<usize>,
    segments_in_last: usize,
}

/// Per-stream state while locating comment headers.
enum Track {
    /// Saw the ID header; the next page of this stream starts the comment header.
    AfterHead,
    /// Inside the comment header.
    InComment(CommentSpan),
    /// Comment header located (or stream done).
    Done,
}

/// Clean an Ogg Opus file held in memory.
pub(crate) fn clean(input: &[u8]) -> Result<Step, CleanError> {
    let (pages, trailing) = parse_pages(input)?;
    let spans = locate_comment_headers(&pages)?;
    let Some(spans) = spans else {
        return Ok(Step::NotCleanable);
    };

    let mut removed = Vec::new();
    if trailing {
        removed.push("data after the last page");
    }
    // Which page starts / belongs to a comment header, per index.
    let mut starts = std::collections::HashMap::new();
    let mut inside = std::collections::HashSet::new();
    for span in &spans {
        if let Some(&first) = span.pages.first() {
            starts.insert(first, span);
        }
        inside.extend(span.pages.iter().copied());
    }
    // Sequence-number shift per serial: pages removed minus pages written.
    let mut shift: std::collections::HashMap<u32, i64> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(input.len());

    for (index, page) in pages.iter().enumerate() {
        if let Some(span) = starts.get(&index) {
            let old_packet = comment_packet(&pages, span);
            if has_identifying_tags(&old_packet) {
                removed.push("comment tags (artist, encoder, location…)");
            }
            let last = &pages[*span.pages.last().ok_or_else(malformed)?];
            let mut sequence = page.sequence;
            let tail = span.segments_in_last < last.lacing.len();
            // An end-of-stream flag on the old header's last page moves to whatever now ends it.
            let eos_on_header = !tail && last.flags & FLAG_EOS != 0;
            let mut written = write_packet(
                &mut out,
                page.serial,
                sequence,
                &new_comment_packet(),
                eos_on_header,
            )?;
            sequence = sequence.wrapping_add(u32::try_from(written).map_err(|_| malformed())?);
            // Audio that (against RFC 7845) shares the last comment page keeps its place.
            if tail {
                let skip: usize = last.lacing[..span.segments_in_last]
                    .iter()
                    .map(|&l| usize::from(l))
                    .sum();
                let flags = last.flags & FLAG_EOS;
                write_page(
                    &mut out,
                    flags,
                    last.granule,
                    page.serial,
                    sequence,
                    &last.lacing[span.segments_in_last..],
                    &last.body[skip..],
                );
                written += 1;
            }
            let delta = i64::try_from(span.pages.len()).map_err(|_| malformed())?
                - i64::try_from(written).map_err(|_| malformed())?;
            shift.insert(page.serial, delta);
            continue;
        }
        if inside.contains(&index) {
            continue;
        }
        match shift.get(&page.serial).copied().unwrap_or(0) {
            0 => out.extend_from_slice(page.raw),
            delta => {
                // Sequence numbers are 32-bit and wrap; shifting keeps them consecutive.
                let sequence = (i64::from(page.sequence) - delta).rem_euclid(1 << 32);
                let sequence = u32::try_from(sequence).map_err(|_| malformed())?;
                write_page(
                    &mut out,
                    page.flags,
                    page.granule,
                    page.serial,
                    sequence,
                    page.lacing,
                    page.body,
                );
            }
        }
        if page.flags & FLAG_EOS != 0 {
            // A chained stream may reuse the serial with a fresh sequence.
            shift.remove(&page.serial);
        }
    }
    Ok(Step::cleaned(out, removed))
}

/// Find every stream's comment header. `Ok(None)` if some stream is not Opus.
fn locate_comment_headers(pages: &[Page<'_>]) -> Result<Option<Vec<CommentSpan>>, CleanError> {
    let mut tracks: std::collections::HashMap<u32, Track> = std::collections::HashMap::new();
    let mut spans = Vec::new();
    for (index, page) in pages.iter().enumerate() {
        if page.flags & FLAG_BOS != 0 {
            if !page.body.starts_with(b"OpusHead") {
                return Ok(None);
            }
            // RFC 7845 §3: the ID header is alone on the first page, one complete packet.
            let (last, rest) = page.lacing.split_last().ok_or_else(malformed)?;
            if *last == 255 || rest.iter().any(|&l| l != 255) || page.body.len() < 19 {
                return Err(malformed());
            }
            if matches!(
                tracks.get(&page.serial),
                Some(Track::AfterHead | Track::InComment(_))
            ) {
                return Err(malformed());
            }
            tracks.insert(page.serial, Track::AfterHead);
            continue;
        }
        let track = tracks.get_mut(&page.serial).ok_or_else(malformed)?;
        match track {
            Track::AfterHead => {
                if page.flags & FLAG_CONTINUED != 0 || !page.body.starts_with(b"OpusTags") {
                    return Err(malformed());
                }
                *track = Track::InComment(CommentSpan {
                    pages: Vec::new(),
                    segments_in_last: 0,
                });
            }
            Track::InComment(_) => {
                if page.flags & FLAG_CONTINUED == 0 {
                    return Err(malformed());
                }
            }
            Track::Done => continue,
        }
        if let Track::InComment(span) = track {
            span.pages.push(index);
            // The packet ends at the first lacing value below 255.
            if let Some(end) = page.lacing.iter().position(|&l| l < 255) {
                span.segments_in_last = end + 1;
                let done = std::mem::replace(track, Track::Done);
                if let Track::InComment(span) = done {
                    spans.push(span);
                }
            } else if page.flags & FLAG_EOS != 0 {
                return Err(malformed());
            }
        }
    }
    // A stream whose comment header never completed is damaged.
    if tracks.values().any(|t| !matches!(t, Track::Done)) {
        return Err(malformed());
    }
    Ok(Some(spans))
}

/// Reassemble the old comment packet (only to tell whether it held anything).
fn comment_packet(pages: &[Page<'_>], span: &CommentSpan) -> Vec<u8> {
    let mut packet = Vec::new();
    for (i, &index) in span.pages.iter().enumerate() {
        let page = &pages[index];
        let segments = if i + 1 == span.pages.len() {
            span.segments_in_last
        } else {
            page.lacing.len()
        };
        let len: usize = page.lacing[..segments]
            .iter()
            .map(|&l| usize::from(l))
            .sum();
        packet.extend_from_slice(&page.body[..len]);
    }
    packet
}

/// Whether an OpusTags packet has user comments, a vendor other than ours, or extra data.
fn has_identifying_tags(packet: &[u8]) -> bool {
    packet != new_comment_packet().as_slice()
}

/// `OpusTags`, vendor length and vendor, zero user comments (RFC 7845 §5.2).
fn new_comment_packet() -> Vec<u8> {
    let mut p = Vec::with_capacity(16 + NEUTRAL_VENDOR.len());
    p.extend_from_slice(b"OpusTags");
    // The vendor is a short constant, so the length always fits.
    p.extend_from_slice(&(NEUTRAL_VENDOR.len() as u32).to_le_bytes());
    p.extend_from_slice(NEUTRAL_VENDOR);
    p.extend_from_slice(&0u32.to_le_bytes());
    p
}

/// Write one complete packet as header pages (granule 0, as RFC 7845 requires for header
/// pages), splitting it across pages if needed. Returns how many pages were written.
fn write_packet(
    out: &mut Vec<u8>,
    serial: u32,
    first_sequence: u32,
    packet: &[u8],
    eos: bool,
) -> Result<usize, CleanError> {
    // Lacing: 255 for every full segment, then the remainder (0 if it divides evenly).
    let mut lacing = vec![255u8; packet.len() / 255];
    lacing.push(u8::try_from(packet.len() % 255).map_err(|_| malformed())?);
    let mut written = 0;
    let mut body_pos = 0;
    let page_count = lacing.len().div_ceil(255);
    for (i, chunk) in lacing.chunks(255).enumerate() {
        let len: usize = chunk.iter().map(|&l| usize::from(l)).sum();
        debug_assert!(len <= MAX_PAGE_PAYLOAD);
        let mut flags = if i == 0 { 0 } else { FLAG_CONTINUED };
        if eos && i + 1 == page_count {
            flags |= FLAG_EOS;
        }
        let sequence = first_sequence.wrapping_add(u32::try_from(i).map_err(|_| malformed())?);
        write_page(
            out,
            flags,
            0,
            serial,
            sequence,
            chunk,
            &packet[body_pos..body_pos + len],
        );
        body_pos += len;
        written += 1;
    }
    Ok(written)
}

/// Append one page with a freshly computed CRC.
fn write_page(
    out: &mut Vec<u8>,
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    lacing: &[u8],
    body: &[u8],
) {
    let start = out.len();
    out.extend_from_slice(CAPTURE);
    out.push(0); // stream structure version
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // CRC, filled below
    // Callers pass at most 255 lacing values (one page's worth).
    out.push(u8::try_from(lacing.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(lacing);
    out.extend_from_slice(body);
    let crc = crc32_ogg(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}

/// The Ogg page checksum (RFC 3533 §6): CRC-32 with polynomial 0x04C11DB7, initial value
/// 0, no bit reflection and no final XOR — not the zlib CRC, hence written here.
pub(crate) fn crc32_ogg(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            // `i` < 256, so the cast is exact.
            let mut r = (i as u32) << 24;
            for _ in 0..8 {
                r = if r & 0x8000_0000 != 0 {
                    (r << 1) ^ 0x04C1_1DB7
                } else {
                    r << 1
                };
            }
            *slot = r;
        }
        table
    });
    data.iter().fold(0u32, |crc, &b| {
        (crc << 8) ^ table[usize::from((crc >> 24) as u8 ^ b)]
    })
}
