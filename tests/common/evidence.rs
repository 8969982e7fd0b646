//! Checks shared by the cleaner tests and the end-to-end evidence test: a canary search that
//! looks inside compressed containers (zip members, every PDF stream after decoding, files
//! embedded in either), an independent Ogg parser (the `ogg` crate, which verifies every
//! page CRC), and decoded-pixel comparison of images.
//!
//! Every planted value contains "canary" in some capitalisation, so one case-insensitive
//! search finds any leftover.

use std::io::{Cursor, Read};

use lopdf::{Document, Object, Stream};

/// Whether `bytes` contain "canary" in any capitalisation.
pub fn contains_canary(bytes: &[u8]) -> bool {
    bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"canary"))
}

/// Also in UTF-16, either byte order (PDF text strings, some XML parts).
fn contains_canary_utf16(bytes: &[u8]) -> bool {
    bytes.windows(12).any(|w| {
        let at = |i: usize, hi: usize| w[2 * i + hi];
        let le = (0..6).all(|i| at(i, 1) == 0 && at(i, 0).to_ascii_lowercase() == b"canary"[i]);
        let be = (0..6).all(|i| at(i, 0) == 0 && at(i, 1).to_ascii_lowercase() == b"canary"[i]);
        le || be
    })
}

/// Members of a zip archive: name, decompressed data, compression method.
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>, zip::CompressionMethod)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("valid zip");
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().into_owned(), data, f.compression())
        })
        .collect()
}

/// Filters that encode images, not bytes: decoding stops in front of them (their data is
/// then searched as it is, and cleaned-image checks parse it as an image).
const IMAGE_FILTERS: [&[u8]; 4] = [
    b"DCTDecode",
    b"JPXDecode",
    b"JBIG2Decode",
    b"CCITTFaxDecode",
];

/// A PDF stream's bytes with every byte-level filter decoded (Flate, LZW, ASCII85,
/// ASCIIHex, RunLength), up to the first image filter. Panics when a byte-level filter
/// cannot be decoded: a check that silently searched compressed bytes would prove nothing.
pub fn pdf_stream_bytes(stream: &Stream) -> Vec<u8> {
    let Ok(filters) = stream.filters() else {
        return stream.content.clone();
    };
    let at = filters
        .iter()
        .position(|f| IMAGE_FILTERS.contains(f))
        .unwrap_or(filters.len());
    if at == 0 {
        return stream.content.clone();
    }
    let mut dict = lopdf::Dictionary::new();
    dict.set(
        "Filter",
        Object::Array(
            filters[..at]
                .iter()
                .map(|f| Object::Name(f.to_vec()))
                .collect(),
        ),
    );
    match stream.dict.get(b"DecodeParms") {
        Ok(Object::Array(params)) => dict.set(
            "DecodeParms",
            Object::Array(params.iter().take(at).cloned().collect()),
        ),
        Ok(params @ Object::Dictionary(_)) if filters.len() == 1 => {
            dict.set("DecodeParms", params.clone())
        }
        _ => {}
    }
    Stream::new(dict, stream.content.clone())
        .decompressed_content()
        .expect("every byte-level filter of a cleaned PDF decodes")
}

/// Asserts that no canary is left: in the raw bytes, in every zip member, in every PDF
/// string and decoded stream, and recursively in files embedded in those. The file itself
/// must parse as what it starts like; an embedded file that does not (an attachment kept
/// as it was because it could not be checked) is searched as raw bytes only.
pub fn assert_no_canary(bytes: &[u8], what: &str) {
    no_canary(bytes, what, true);
}

fn no_canary(bytes: &[u8], what: &str, top: bool) {
    assert!(
        !contains_canary(bytes) && !contains_canary_utf16(bytes),
        "canary left in raw bytes of {what}"
    );
    if bytes.starts_with(b"PK\x03\x04") {
        match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(_) => {
                for (name, data, _) in unzip(bytes) {
                    no_canary(&data, &format!("{what}/{name}"), false);
                }
            }
            Err(e) => assert!(!top, "{what} is not a zip: {e}"),
        }
    }
    if bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
        match Document::load_mem(bytes) {
            Ok(doc) => {
                for (id, object) in &doc.objects {
                    assert_no_canary_in_object(object, &format!("{what} object {id:?}"));
                }
                for (key, value) in doc.trailer.iter() {
                    assert_no_canary_in_object(
                        value,
                        &format!("{what} trailer /{}", String::from_utf8_lossy(key)),
                    );
                }
            }
            Err(e) => assert!(!top, "{what} does not reload as a PDF: {e}"),
        }
    }
}

fn assert_no_canary_in_object(object: &Object, what: &str) {
    match object {
        Object::String(s, _) | Object::Name(s) => assert!(
            !contains_canary(s) && !contains_canary_utf16(s),
            "canary left in a string of {what}"
        ),
        Object::Array(items) => items
            .iter()
            .for_each(|o| assert_no_canary_in_object(o, what)),
        Object::Dictionary(d) => d
            .iter()
            .for_each(|(_, o)| assert_no_canary_in_object(o, what)),
        Object::Stream(s) => {
            s.dict
                .iter()
                .for_each(|(_, o)| assert_no_canary_in_object(o, what));
            no_canary(
                &pdf_stream_bytes(s),
                &format!("{what} (decoded stream)"),
                false,
            );
        }
        _ => {}
    }
}

/// Decoded pixels (RGBA, 8 bits) and dimensions.
pub fn pixels(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let img = image::load_from_memory(bytes).expect("image decodes");
    let rgba = img.to_rgba8();
    (rgba.width(), rgba.height(), rgba.into_raw())
}

/// Asserts that two images decode to exactly the same pixels: cleaning rewrites metadata
/// segments and chunks only, never the coded image data.
pub fn assert_same_pixels(original: &[u8], cleaned: &[u8], what: &str) {
    let (w0, h0, p0) = pixels(original);
    let (w1, h1, p1) = pixels(cleaned);
    assert_eq!((w0, h0), (w1, h1), "{what}: dimensions changed");
    assert!(p0 == p1, "{what}: decoded pixels differ after cleaning");
}

/// One Ogg packet as the `ogg` crate reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OggPacket {
    /// Stream serial number.
    pub serial: u32,
    /// Packet data.
    pub data: Vec<u8>,
    /// Granule position of the page the packet ends on, if it is the last on that page.
    pub granule: Option<u64>,
    /// First packet of its logical stream.
    pub first: bool,
    /// Last packet of its logical stream.
    pub last: bool,
}

/// All packets of an Ogg file, read with the independent `ogg` crate: it rejects any page
/// whose CRC does not match, and any broken page or packet structure.
pub fn ogg_packets(bytes: &[u8]) -> Vec<OggPacket> {
    let mut reader = ogg::reading::PacketReader::new(Cursor::new(bytes));
    let mut out = Vec::new();
    while let Some(p) = reader
        .read_packet()
        .unwrap_or_else(|e| panic!("Ogg stream does not parse: {e}"))
    {
        out.push(OggPacket {
            serial: p.stream_serial(),
            granule: p.last_in_page().then(|| p.absgp_page()),
            first: p.first_in_stream(),
            last: p.last_in_stream(),
            data: p.data,
        });
    }
    out
}

/// Asserts the Opus structure of every logical stream (RFC 7845 §3): an `OpusHead` first,
/// an `OpusTags` second with no user comments left, audio after that, granule positions never
/// decreasing, and an end-of-stream flag on the last packet. Returns the packets.
pub fn assert_valid_opus(bytes: &[u8], what: &str) -> Vec<OggPacket> {
    let packets = ogg_packets(bytes);
    let mut serials: Vec<u32> = packets.iter().map(|p| p.serial).collect();
    serials.dedup();
    serials.sort_unstable();
    serials.dedup();
    assert!(!serials.is_empty(), "{what}: no Ogg packets");
    for serial in serials {
        let stream: Vec<&OggPacket> = packets.iter().filter(|p| p.serial == serial).collect();
        assert!(stream.len() >= 3, "{what}: stream {serial} lacks audio");
        assert!(
            stream[0].first && stream[0].data.starts_with(b"OpusHead"),
            "{what}: stream {serial} does not start with OpusHead"
        );
        let tags = &stream[1].data;
        assert!(tags.starts_with(b"OpusTags"), "{what}: no OpusTags second");
        let vendor_len = u32::from_le_bytes(tags[8..12].try_into().unwrap()) as usize;
        let count = u32::from_le_bytes(tags[12 + vendor_len..16 + vendor_len].try_into().unwrap());
        assert_eq!(count, 0, "{what}: user comments left in OpusTags");
        assert!(
            stream[2..].iter().all(|p| !p.data.starts_with(b"Opus")),
            "{what}: a header packet among the audio"
        );
        let granules: Vec<u64> = stream[2..].iter().filter_map(|p| p.granule).collect();
        assert!(
            granules.windows(2).all(|w| w[0] <= w[1]),
            "{what}: granule positions decrease"
        );
        assert!(stream.last().unwrap().last, "{what}: no end of stream");
    }
    packets
}

/// The audio packets (everything after the two headers) of each stream, with the granule
/// of the page each ends on.
pub fn opus_audio(packets: &[OggPacket]) -> Vec<(u32, Vec<u8>, Option<u64>)> {
    let mut seen: Vec<(u32, usize)> = Vec::new();
    packets
        .iter()
        .filter(|p| {
            let n = match seen.iter_mut().find(|(s, _)| *s == p.serial) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((p.serial, 0));
                    0
                }
            };
            n >= 2
        })
        .map(|p| (p.serial, p.data.clone(), p.granule))
        .collect()
}
