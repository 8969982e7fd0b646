//! Tests for `tipline::attach::clean`: fixtures with planted canaries are generated here
//! (no binary blobs), cleaned, and checked for (a) no canary left anywhere — raw bytes,
//! deflated zip members, PDF streams after decompression, nested files — and (b) the file
//! still opening as before (image dimensions, PDF page count, XML well-formedness, Ogg
//! page CRCs and an intact OpusHead). Plus: `clean` never panics on arbitrary or mutated
//! input (proptest), limits, sniffing, and rough throughput on 20 MB inputs.
//!
//! Every planted value contains "canary" in some capitalisation, so one case-insensitive
//! search finds any leftover.

use std::cell::Cell;
use std::io::{Cursor, Write};
use std::sync::OnceLock;
use std::time::Instant;

use image::{ExtendedColorType, GenericImageView, ImageEncoder};
use lopdf::{Document, Object, Stream, dictionary};
use proptest::prelude::*;
use tipline::attach::clean::{self, CleanError, Format, Outcome};

use crate::common;
use common::evidence::{
    assert_no_canary, assert_same_pixels, assert_valid_opus, contains_canary, opus_audio, unzip,
};

// ---------------------------------------------------------------------------------------
// Canary search and "still opens" checks: tests/common/evidence.rs
// ---------------------------------------------------------------------------------------

fn removed(outcome: &Outcome) -> Vec<&'static str> {
    match outcome {
        Outcome::Cleaned { removed } => removed.clone(),
        other => panic!("expected Cleaned, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Image fixtures
// ---------------------------------------------------------------------------------------

fn pixels_rgb(w: u32, h: u32) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| [(i % 251) as u8, (i * 7 % 253) as u8, (i * 13 % 255) as u8])
        .collect()
}

fn pixels_rgba(w: u32, h: u32) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| {
            [
                (i % 251) as u8,
                (i * 7 % 253) as u8,
                (i * 13 % 255) as u8,
                255,
            ]
        })
        .collect()
}

fn plain_jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode(&pixels_rgb(w, h), w, h, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// A little-endian TIFF block: IFD0 (Make, Orientation=6, Exif and GPS pointers) →
/// IFD1 (thumbnail), an Exif IFD with the body serial number, a GPS IFD.
fn tiff_with_canaries(thumbnail: &[u8]) -> Vec<u8> {
    // Entries: (tag, type, count, value-or-data)
    enum V {
        Short(u16),
        Long(u32),
        Ascii(&'static str),
    }
    fn ifd(entries: &[(u16, V)], base: u32, next: u32) -> (Vec<u8>, Vec<u8>) {
        let header_len = 2 + entries.len() as u32 * 12 + 4;
        let mut head = (entries.len() as u16).to_le_bytes().to_vec();
        let mut data = Vec::new();
        for (tag, value) in entries {
            head.extend_from_slice(&tag.to_le_bytes());
            match value {
                V::Short(v) => {
                    head.extend_from_slice(&3u16.to_le_bytes());
                    head.extend_from_slice(&1u32.to_le_bytes());
                    head.extend_from_slice(&v.to_le_bytes());
                    head.extend_from_slice(&[0, 0]);
                }
                V::Long(v) => {
                    head.extend_from_slice(&4u16.to_le_bytes());
                    head.extend_from_slice(&1u32.to_le_bytes());
                    head.extend_from_slice(&v.to_le_bytes());
                }
                V::Ascii(s) => {
                    let mut bytes = s.as_bytes().to_vec();
                    bytes.push(0);
                    head.extend_from_slice(&2u16.to_le_bytes());
                    head.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                    head.extend_from_slice(&(base + header_len + data.len() as u32).to_le_bytes());
                    data.extend_from_slice(&bytes);
                    if data.len() % 2 == 1 {
                        data.push(0);
                    }
                }
            }
        }
        head.extend_from_slice(&next.to_le_bytes());
        (head, data)
    }
    // Layout: header(8) | IFD0 | Exif IFD | GPS IFD | IFD1 | thumbnail
    let mut out = b"II*\0\x08\0\0\0".to_vec();
    let ifd0_entries = |exif: u32, gps: u32| {
        vec![
            (0x010F, V::Ascii("CANARY-MAKE")),
            (0x0112, V::Short(6)),
            (0x8769, V::Long(exif)),
            (0x8825, V::Long(gps)),
        ]
    };
    // Two passes: sizes first, offsets second.
    let (h0, d0) = ifd(&ifd0_entries(0, 0), 8, 0);
    let exif_at = 8 + (h0.len() + d0.len()) as u32;
    let exif_entries = vec![
        (0xA431, V::Ascii("CANARY-SERIAL-998877")),
        (0xA430, V::Ascii("Nguyen Van Canary")),
    ];
    let (he, de) = ifd(&exif_entries, exif_at, 0);
    let gps_at = exif_at + (he.len() + de.len()) as u32;
    let gps_entries = vec![
        (0x0001, V::Ascii("N")),
        (0x0012, V::Ascii("CANARY-GPS-10.1234")),
    ];
    let (hg, dg) = ifd(&gps_entries, gps_at, 0);
    let ifd1_at = gps_at + (hg.len() + dg.len()) as u32;
    let thumb_at_guess = |ifd1_len: u32| ifd1_at + ifd1_len;
    let ifd1_entries = |thumb_at: u32| {
        vec![
            (0x0201, V::Long(thumb_at)),
            (0x0202, V::Long(thumbnail.len() as u32)),
        ]
    };
    let (h1_probe, _) = ifd(&ifd1_entries(0), ifd1_at, 0);
    let thumb_at = thumb_at_guess(h1_probe.len() as u32);
    let (h0, d0) = ifd(&ifd0_entries(exif_at, gps_at), 8, ifd1_at);
    let (h1, d1) = ifd(&ifd1_entries(thumb_at), ifd1_at, 0);
    for part in [h0, d0, he, de, hg, dg, h1, d1] {
        out.extend_from_slice(&part);
    }
    out.extend_from_slice(thumbnail);
    out
}

fn jpeg_with_comment(w: u32, h: u32, comment: &[u8]) -> Vec<u8> {
    let base = plain_jpeg(w, h);
    let mut out = base[..2].to_vec();
    out.extend(segment(0xFE, comment));
    out.extend_from_slice(&base[2..]);
    out
}

/// JPEG with EXIF (GPS, serial, thumbnail, orientation 6), XMP, IPTC, comment, MPF,
/// an unknown APP segment, a comment between the scan and EOI, and trailing data.
fn jpeg_fixture() -> Vec<u8> {
    let base = plain_jpeg(64, 48);
    let thumb = jpeg_with_comment(8, 8, b"CANARY-THUMBNAIL");
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(tiff_with_canaries(&thumb));
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><dc:creator>Nguyen Van Canary</dc:creator><exif:GPSLatitude>CANARY-GPS-10.1234</exif:GPSLatitude></x:xmpmeta>";
    let iptc = b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x14\x1c\x02\x50\0\x11Nguyen Van Canary";
    let mut out = base[..2].to_vec();
    out.extend(segment(0xE1, &exif));
    out.extend(segment(0xE1, xmp));
    out.extend(segment(0xED, iptc));
    out.extend(segment(0xFE, b"CANARY-COMMENT by Nguyen Van Canary"));
    out.extend(segment(0xE2, b"MPF\0CANARY-MPF"));
    out.extend(segment(0xE9, b"CANARY-VENDOR-APP9"));
    // Rest of the encoder's output, with a COM segment slipped in before EOI.
    let body = &base[2..base.len() - 2];
    assert_eq!(&base[base.len() - 2..], &[0xFF, 0xD9]);
    out.extend_from_slice(body);
    out.extend(segment(0xFE, b"CANARY-BETWEEN-SCANS"));
    out.extend_from_slice(&[0xFF, 0xD9]);
    // A second "image" appended after EOI, as MPF and motion photos do.
    out.extend(jpeg_with_comment(8, 8, b"CANARY-SECOND-IMAGE"));
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    c.extend_from_slice(&crc.sum().to_be_bytes());
    c
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn png_fixture() -> Vec<u8> {
    let (w, h) = (32, 16);
    let mut base = Vec::new();
    image::codecs::png::PngEncoder::new(&mut base)
        .write_image(&pixels_rgba(w, h), w, h, ExtendedColorType::Rgba8)
        .unwrap();
    // Signature (8) + IHDR chunk (25).
    let mut out = base[..33].to_vec();
    out.extend(png_chunk(b"pHYs", &[0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1]));
    out.extend(png_chunk(b"tEXt", b"Author\0Nguyen Van Canary"));
    let mut ztxt = b"Comment\0\0".to_vec();
    ztxt.extend(zlib(b"CANARY-ZTXT location 10.1234"));
    out.extend(png_chunk(b"zTXt", &ztxt));
    out.extend(png_chunk(
        b"iTXt",
        b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>CANARY-ITXT</x:xmpmeta>",
    ));
    out.extend(png_chunk(b"eXIf", &tiff_with_canaries(b"")));
    out.extend(png_chunk(b"tIME", &[0x07, 0xE8, 5, 6, 7, 8, 9]));
    out.extend(png_chunk(b"prVW", b"CANARY-PRIVATE-PREVIEW"));
    out.extend_from_slice(&base[33..]);
    out.extend_from_slice(b"CANARY-PNG-TRAILER");
    out
}

fn riff_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn webp_fixture() -> Vec<u8> {
    let (w, h) = (24u32, 20u32);
    let mut simple = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut simple)
        .encode(&pixels_rgba(w, h), w, h, ExtendedColorType::Rgba8)
        .unwrap();
    // Simple file: RIFF size WEBP VP8L... ; take the VP8L chunk.
    assert_eq!(&simple[12..16], b"VP8L");
    let vp8l = &simple[12..];
    let mut vp8x = vec![0x0C, 0, 0, 0]; // EXIF | XMP flags
    vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(vp8l);
    body.extend(riff_chunk(b"EXIF", &tiff_with_canaries(b"")));
    body.extend(riff_chunk(
        b"XMP ",
        b"<x:xmpmeta>Nguyen Van Canary CANARY-WEBP-XMP</x:xmpmeta>",
    ));
    body.extend(riff_chunk(b"zzzz", b"CANARY-UNKNOWN-CHUNK"));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn gif_fixture() -> Vec<u8> {
    let (w, h) = (8u32, 6u32);
    let mut base = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut base);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite)
            .unwrap();
        enc.encode(&pixels_rgba(w, h), w, h, ExtendedColorType::Rgba8)
            .unwrap();
    }
    let packed = base[10];
    let gct = if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    };
    let at = 13 + gct;
    let mut out = base[..at].to_vec();
    // Comment extension.
    out.extend_from_slice(&[0x21, 0xFE, 21]);
    out.extend_from_slice(b"CANARY-GIF-COMMENT...");
    out.push(0);
    // XMP application extension.
    out.extend_from_slice(&[0x21, 0xFF, 11]);
    out.extend_from_slice(b"XMP DataXMP");
    out.push(17);
    out.extend_from_slice(b"Nguyen Van Canary");
    out.push(0);
    out.extend_from_slice(&base[at..]);
    out.extend_from_slice(b"CANARY-GIF-TRAILER");
    out
}

/// Same dimensions and identical decoded pixels.
fn assert_same_image(original: &[u8], cleaned: &[u8]) {
    assert_same_pixels(original, cleaned, "cleaned image");
}

// ---------------------------------------------------------------------------------------
// Image tests
// ---------------------------------------------------------------------------------------

#[test]
fn jpeg_metadata_removed_and_orientation_kept() {
    let input = jpeg_fixture();
    assert_eq!(clean::sniff(&input), Format::Jpeg);
    let out = clean::clean(&input).unwrap();
    assert_eq!(out.format, Format::Jpeg);
    let labels = removed(&out.outcome);
    for expected in [
        "EXIF (incl. GPS, camera serial, thumbnail)",
        "XMP",
        "comment",
        "IPTC/Photoshop data",
    ] {
        assert!(
            labels.contains(&expected),
            "missing label {expected}: {labels:?}"
        );
    }
    assert!(labels.iter().any(|l| l.starts_with("data after the end")));
    assert_no_canary(&out.bytes, "jpeg");
    assert_same_image(&input, &out.bytes);
    // The orientation survives as a minimal EXIF block: IFD0 with one entry, no IFD1.
    let minimal = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    assert!(out.bytes.windows(minimal.len()).any(|w| w == minimal));
    assert!(out.bytes.ends_with(&[0xFF, 0xD9]));
    // Cleaning is idempotent (only the orientation stays).
    let again = clean::clean(&out.bytes).unwrap();
    assert_eq!(again.bytes, out.bytes);
}

#[test]
fn jpeg_keeps_icc_and_adobe_segments() {
    let base = plain_jpeg(16, 16);
    let mut input = base[..2].to_vec();
    input.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01fake-profile-bytes"));
    input.extend(segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01"));
    input.extend_from_slice(&base[2..]);
    let out = clean::clean(&input).unwrap();
    assert!(out.bytes.windows(12).any(|w| w == b"ICC_PROFILE\0"));
    assert!(out.bytes.windows(5).any(|w| w == b"Adobe"));
}

#[test]
fn plain_jpeg_nothing_found_and_unchanged() {
    let input = plain_jpeg(16, 16);
    let out = clean::clean(&input).unwrap();
    // The encoder writes a bare JFIF APP0 and nothing else to remove.
    assert_eq!(out.outcome, Outcome::NothingFound);
    assert_eq!(out.bytes.as_slice(), &input[..]);
}

#[test]
fn png_metadata_removed() {
    let input = png_fixture();
    assert_eq!(clean::sniff(&input), Format::Png);
    let out = clean::clean(&input).unwrap();
    let labels = removed(&out.outcome);
    for expected in [
        "text chunks (incl. XMP)",
        "EXIF",
        "modification time",
        "other ancillary chunks",
    ] {
        assert!(
            labels.contains(&expected),
            "missing label {expected}: {labels:?}"
        );
    }
    assert_no_canary(&out.bytes, "png");
    for gone in [b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"] {
        assert!(
            !out.bytes.windows(4).any(|w| w == gone),
            "{} left",
            String::from_utf8_lossy(gone)
        );
    }
    assert!(out.bytes.windows(4).any(|w| w == b"pHYs"), "pHYs must stay");
    assert_same_image(&input, &out.bytes);
}

#[test]
fn webp_metadata_removed_and_flags_cleared() {
    let input = webp_fixture();
    assert_eq!(clean::sniff(&input), Format::WebP);
    let out = clean::clean(&input).unwrap();
    let labels = removed(&out.outcome);
    assert!(
        labels.contains(&"EXIF") && labels.contains(&"XMP"),
        "{labels:?}"
    );
    assert_no_canary(&out.bytes, "webp");
    assert_eq!(&out.bytes[12..16], b"VP8X");
    assert_eq!(out.bytes[20] & 0x0C, 0, "EXIF/XMP flags must be cleared");
    let riff_size = u32::from_le_bytes(out.bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff_size + 8, out.bytes.len());
    assert_same_image(&input, &out.bytes);
}

#[test]
fn gif_metadata_removed_and_loop_kept() {
    let input = gif_fixture();
    assert_eq!(clean::sniff(&input), Format::Gif);
    let out = clean::clean(&input).unwrap();
    let labels = removed(&out.outcome);
    assert!(labels.contains(&"comment"), "{labels:?}");
    assert_no_canary(&out.bytes, "gif");
    assert!(
        out.bytes.windows(11).any(|w| w == b"NETSCAPE2.0"),
        "loop extension must stay"
    );
    assert_eq!(out.bytes.last(), Some(&0x3B));
    assert_same_image(&input, &out.bytes);
}

// ---------------------------------------------------------------------------------------
// PDF
// ---------------------------------------------------------------------------------------

fn xmp_stream(text: &str) -> Stream {
    let mut s = Stream::new(
        dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
        text.as_bytes().to_vec(),
    );
    s.compress().unwrap();
    s
}

/// A two-page PDF with Info, catalog and page XMP (compressed), PieceInfo, a markup
/// annotation with an author, and a JPEG image carrying EXIF.
fn pdf_document() -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let jpeg = jpeg_fixture();
    let image_id = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 64, "Height" => 48,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        jpeg,
    ));
    let page_xmp = doc.add_object(xmp_stream("<x:xmpmeta>CANARY-PAGE-XMP</x:xmpmeta>"));
    let mut kids = Vec::new();
    for n in 0..2 {
        let content = format!(
            "BT /F1 24 Tf 72 720 Td (Evidence page {n}) Tj ET q 64 0 0 48 72 600 cm /Im1 Do Q"
        );
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Contents" => content_id,
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => font_id },
                "XObject" => dictionary! { "Im1" => image_id },
            },
            "Metadata" => page_xmp,
            "PieceInfo" => dictionary! { "Illustrator" => dictionary! {
                "Private" => Object::string_literal("CANARY-PIECEINFO"),
            }},
            "LastModified" => Object::string_literal("D:20240506070809+07'00'"),
            "Annots" => vec![Object::Dictionary(dictionary! {
                "Type" => "Annot", "Subtype" => "Text",
                "Rect" => vec![100.into(), 100.into(), 120.into(), 120.into()],
                "Contents" => Object::string_literal("A reviewer-visible note"),
                "T" => Object::string_literal("Nguyen Van Canary"),
                "M" => Object::string_literal("D:20240506070809+07'00'"),
            })],
        });
        kids.push(page_id.into());
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => 2,
        }),
    );
    let catalog_xmp = doc.add_object(xmp_stream(
        "<x:xmpmeta><dc:creator>Nguyen Van Canary</dc:creator><xmp:CreatorTool>CANARY-TOOL</xmp:CreatorTool></x:xmpmeta>",
    ));
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages_id, "Metadata" => catalog_xmp,
    });
    let info_id = doc.add_object(dictionary! {
        "Author" => Object::string_literal("Nguyen Van Canary"),
        "Creator" => Object::string_literal("CANARY-CREATOR Word"),
        "Producer" => Object::string_literal("CANARY-PRODUCER"),
        "Title" => Object::string_literal("CANARY-TITLE"),
        "Subject" => Object::string_literal("CANARY-SUBJECT"),
        "Keywords" => Object::string_literal("CANARY-KEYWORDS"),
        "CreationDate" => Object::string_literal("D:20240506070809+07'00'"),
        "ModDate" => Object::string_literal("D:20240506070809+07'00'"),
    });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    doc
}

fn pdf_fixture() -> Vec<u8> {
    let mut out = Vec::new();
    pdf_document().save_to(&mut out).unwrap();
    out
}

/// Append an incremental update that points /Info at a new dictionary, leaving the
/// first revision's Info (and its canary) in the file but unreferenced.
fn pdf_with_incremental_update(base: &[u8]) -> Vec<u8> {
    pdf_with_update(base, "<< /Author (Nguyen Van Canary, revision 2) >>", true)
}

/// Append an incremental update that adds one object, `object`, and a trailer with `/Prev`
/// pointing at the previous revision; with `as_info` the new trailer's /Info is that object,
/// without it the new trailer names no /Info at all.
fn pdf_with_update(base: &[u8], object: &str, as_info: bool) -> Vec<u8> {
    let doc = Document::load_mem(base).unwrap();
    let root = root_id(&doc);
    let text = String::from_utf8_lossy(base);
    let at = text.rfind("startxref").unwrap();
    let prev: usize = text[at + 9..]
        .trim()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let new_id = doc.max_id + 1;
    let mut out = base.to_vec();
    out.extend_from_slice(b"\n");
    let obj_at = out.len();
    out.extend_from_slice(format!("{new_id} 0 obj\n{object}\nendobj\n").as_bytes());
    let info = if as_info {
        format!(" /Info {new_id} 0 R")
    } else {
        String::new()
    };
    let xref_at = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \n{new_id} 1\n{obj_at:010} 00000 n \ntrailer\n<< /Size {} /Root {} {} R{info} /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n",
            new_id + 1,
            root.0,
            root.1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn pdf_metadata_removed_and_pages_kept() {
    let input = pdf_fixture();
    assert_eq!(clean::sniff(&input), Format::Pdf);
    let out = clean::clean(&input).unwrap();
    let labels = removed(&out.outcome);
    for expected in [
        "document info (author, creator, producer, title, dates)",
        "XMP metadata",
        "application private data (PieceInfo)",
        "comment authors",
        "metadata of embedded images",
    ] {
        assert!(
            labels.contains(&expected),
            "missing label {expected}: {labels:?}"
        );
    }
    assert_no_canary(&out.bytes, "pdf");
    let before = Document::load_mem(&input).unwrap();
    let after = Document::load_mem(&out.bytes).unwrap();
    assert_eq!(after.get_pages().len(), before.get_pages().len());
    assert!(after.trailer.get(b"Info").is_err());
    // Visible content and the annotation's text stay.
    let page = *after.get_pages().get(&1).unwrap();
    assert!(String::from_utf8_lossy(&after.get_page_content(page)).contains("Evidence page 0"));
    assert!(
        out.bytes
            .windows(23)
            .any(|w| w == b"A reviewer-visible note")
    );
    // The embedded JPEG still decodes to the same size.
    let image = after
        .objects
        .values()
        .find_map(|o| {
            o.as_stream()
                .ok()
                .filter(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
        })
        .unwrap();
    assert_eq!(
        image::load_from_memory(&image.content)
            .unwrap()
            .dimensions(),
        (64, 48)
    );
}

#[test]
fn pdf_earlier_revisions_are_dropped() {
    let input = pdf_with_incremental_update(&pdf_fixture());
    assert_eq!(Document::load_mem(&input).unwrap().get_pages().len(), 2);
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "incrementally updated pdf");
    assert_eq!(Document::load_mem(&out.bytes).unwrap().get_pages().len(), 2);
}

#[test]
fn pdf_with_object_streams_is_cleaned() {
    let mut input = Vec::new();
    let options = lopdf::SaveOptions::builder()
        .use_object_streams(true)
        .use_xref_streams(true)
        .build();
    pdf_document()
        .save_with_options(&mut input, options)
        .unwrap();
    // The Info dictionary now sits compressed inside an object stream.
    assert!(!contains_canary(&input) || input.windows(6).any(|w| w == b"ObjStm"));
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "pdf with object streams");
    assert_eq!(Document::load_mem(&out.bytes).unwrap().get_pages().len(), 2);
}

#[test]
fn encrypted_pdf_is_not_cleanable() {
    // A trailer naming an /Encrypt dictionary we cannot satisfy.
    let mut doc = pdf_document();
    let enc = doc.add_object(dictionary! {
        "Filter" => "Standard", "V" => 2, "R" => 3, "Length" => 128, "P" => -4,
        "O" => Object::String(vec![1; 32], lopdf::StringFormat::Hexadecimal),
        "U" => Object::String(vec![2; 32], lopdf::StringFormat::Hexadecimal),
    });
    doc.trailer.set("Encrypt", enc);
    doc.trailer.set(
        "ID",
        vec![Object::String(vec![3; 16], lopdf::StringFormat::Hexadecimal); 2],
    );
    let mut input = Vec::new();
    doc.save_to(&mut input).unwrap();
    match clean::clean(&input) {
        Ok(out) => {
            assert_eq!(out.outcome, Outcome::NotCleanable);
            assert_eq!(out.bytes.as_slice(), &input[..]);
        }
        Err(e) => assert_eq!(
            e,
            CleanError::Malformed {
                format: Format::Pdf
            }
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Zip-based documents
// ---------------------------------------------------------------------------------------

fn build_zip(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let when = zip::DateTime::from_date_and_time(2024, 5, 6, 7, 8, 9).unwrap();
    for (name, data, stored) in members {
        let method = if *stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(when);
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.set_comment("CANARY-ZIP-COMMENT").unwrap();
    w.finish().unwrap().into_inner()
}

fn assert_well_formed(xml: &[u8], what: &str) {
    let text = std::str::from_utf8(xml).unwrap_or_else(|_| panic!("{what} is not UTF-8"));
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{what} is not well-formed: {e}"),
        }
    }
    assert_eq!(depth, 0, "{what} has unclosed elements");
}

const CT_HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

fn docx_fixture() -> Vec<u8> {
    let content_types = format!(
        r#"{CT_HEADER}
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/><Override PartName="/word/people.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/><Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/><Override PartName="/docProps/thumbnail.jpeg" ContentType="image/jpeg"/></Types>"#
    );
    let rels = format!(
        r#"{CT_HEADER}
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/></Relationships>"#
    );
    let core = format!(
        r#"{CT_HEADER}
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>CANARY-TITLE</dc:title><dc:creator>Nguyen Van Canary</dc:creator><cp:lastModifiedBy>CANARY-LASTMODIFIEDBY</cp:lastModifiedBy><cp:revision>7</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">2024-05-06T07:08:09Z</dcterms:created></cp:coreProperties>"#
    );
    let app = format!(
        r#"{CT_HEADER}
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Template>CANARY-TEMPLATE.dotm</Template><Company>CANARY-COMPANY So Tai Chinh</Company><Manager>CANARY-MANAGER</Manager><Pages>1</Pages></Properties>"#
    );
    let custom = format!(
        r#"{CT_HEADER}
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="Owner"><vt:lpwstr>CANARY-CUSTOM-OWNER</vt:lpwstr></property></Properties>"#
    );
    let document = format!(
        r#"{CT_HEADER}
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><!-- CANARY-XML-COMMENT --><w:body><w:p w:rsidR="00CA1234" w:rsidRDefault="00CA5678" w:rsidP="00AB0001"><w:commentRangeStart w:id="0"/><w:r w:rsidRPr="00AB0002"><w:t xml:space="preserve">Body text stays &amp; is intact</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r><w:ins w:id="1" w:author="CANARY-INS-AUTHOR" w:date="2024-05-06T07:08:09Z"><w:r><w:t>inserted</w:t></w:r></w:ins><w:del w:id="2" w:author="Nguyen Van Canary" w:date="2024-05-06T07:08:09Z"><w:r><w:delText>deleted</w:delText></w:r></w:del></w:p><w:sectPr w:rsidR="00CA9999"/></w:body></w:document>"#
    );
    let comments = format!(
        r#"{CT_HEADER}
<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:comment w:id="0" w:author="Nguyen Van Canary" w:date="2024-05-06T07:08:09Z" w:initials="NVCANARY"><w:p><w:r><w:t>Comment text stays</w:t></w:r></w:p></w:comment></w:comments>"#
    );
    let people = format!(
        r#"{CT_HEADER}
<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="Nguyen Van Canary"><w15:presenceInfo w15:providerId="AD" w15:userId="S::canary@so-tai-chinh.gov.vn::1234"/></w15:person></w15:people>"#
    );
    let settings = format!(
        r#"{CT_HEADER}
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w:zoom w:percent="100"/><w:attachedTemplate r:id="rId1"/><w:rsids><w:rsidRoot w:val="00CA1234"/><w:rsid w:val="00CA5678"/></w:rsids><w15:docId w15:val="{{CA4A4Y00-0000-0000-0000-000000000000}}"/></w:settings>"#
    );
    let settings_rels = format!(
        r#"{CT_HEADER}
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="file:///C:\Users\canary.nguyen\AppData\Roaming\Microsoft\Templates\Normal.dotm" TargetMode="External"/></Relationships>"#
    );
    let document_rels = format!(
        r#"{CT_HEADER}
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="comments.xml"/><Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2011/relationships/people" Target="people.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.jpeg"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/></Relationships>"#
    );
    let thumbnail = jpeg_with_comment(8, 8, b"CANARY-THUMBNAIL");
    let photo = jpeg_fixture();
    build_zip(&[
        ("[Content_Types].xml", content_types.as_bytes(), false),
        ("_rels/.rels", rels.as_bytes(), false),
        ("docProps/core.xml", core.as_bytes(), false),
        ("docProps/app.xml", app.as_bytes(), false),
        ("docProps/custom.xml", custom.as_bytes(), false),
        ("docProps/thumbnail.jpeg", &thumbnail, true),
        ("word/document.xml", document.as_bytes(), false),
        (
            "word/_rels/document.xml.rels",
            document_rels.as_bytes(),
            false,
        ),
        ("word/comments.xml", comments.as_bytes(), false),
        ("word/people.xml", people.as_bytes(), false),
        ("word/settings.xml", settings.as_bytes(), false),
        (
            "word/_rels/settings.xml.rels",
            settings_rels.as_bytes(),
            false,
        ),
        ("word/media/image1.jpeg", &photo, false),
        // Members that carry nothing to remove and must come out byte for byte.
        ("word/styles.xml", UNTOUCHED_XML.as_bytes(), false),
        ("word/media/image2.png", &plain_png(), false),
        ("word/fonts/font1.odttf", &font_bytes(), false),
    ])
}

/// An XML part with nothing to clean (no authors, dates, rsids, paths).
const UNTOUCHED_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal"/></w:style></w:styles>"#;

/// A PNG straight from the encoder: nothing to remove.
fn plain_png() -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&pixels_rgba(6, 5), 6, 5, ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// Opaque bytes of no format we know (an obfuscated font).
fn font_bytes() -> Vec<u8> {
    (0..512u32).map(|i| (i * 97 % 251) as u8).collect()
}

fn member<'a>(members: &'a [(String, Vec<u8>, zip::CompressionMethod)], name: &str) -> &'a [u8] {
    &members
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .1
}

#[test]
fn docx_metadata_removed_and_document_valid() {
    let input = docx_fixture();
    assert_eq!(clean::sniff(&input), Format::Docx);
    let out = clean::clean(&input).unwrap();
    assert_eq!(out.format, Format::Docx);
    let labels = removed(&out.outcome);
    for expected in [
        "document properties (author, last modified by, dates, revision)",
        "application properties (company, manager, template)",
        "custom properties",
        "comment and revision authors",
        "revision ids (rsid)",
        "thumbnail preview",
        "metadata of embedded images",
    ] {
        assert!(
            labels.contains(&expected),
            "missing label {expected}: {labels:?}"
        );
    }
    assert_no_canary(&out.bytes, "docx");
    let members = unzip(&out.bytes);
    assert!(members.iter().all(|(n, _, _)| !n.contains("thumbnail")));
    for (name, data, _) in &members {
        if name.ends_with(".xml") || name.ends_with(".rels") {
            assert_well_formed(data, name);
        }
    }
    let document = String::from_utf8(member(&members, "word/document.xml").to_vec()).unwrap();
    assert!(document.contains("Body text stays &amp; is intact"));
    assert!(document.contains(r#"w:author="Author""#));
    assert!(!document.contains("rsid") && !document.contains("w:date"));
    let core = String::from_utf8(member(&members, "docProps/core.xml").to_vec()).unwrap();
    assert!(core.contains("<cp:coreProperties") && !core.contains("<dc:"));
    let content_types =
        String::from_utf8(member(&members, "[Content_Types].xml").to_vec()).unwrap();
    assert!(content_types.contains("/docProps/core.xml") && !content_types.contains("thumbnail"));
    let rels = String::from_utf8(member(&members, "_rels/.rels").to_vec()).unwrap();
    assert!(rels.contains("docProps/core.xml") && !rels.contains("thumbnail"));
    assert_eq!(
        image::load_from_memory(member(&members, "word/media/image1.jpeg"))
            .unwrap()
            .dimensions(),
        (64, 48)
    );
    assert_same_pixels(
        member(&unzip(&input), "word/media/image1.jpeg"),
        member(&members, "word/media/image1.jpeg"),
        "docx photo",
    );
    assert_only_these_changed(
        &input,
        &out.bytes,
        &[
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/core.xml",
            "docProps/app.xml",
            "docProps/custom.xml",
            "docProps/thumbnail.jpeg",
            "word/document.xml",
            "word/comments.xml",
            "word/people.xml",
            "word/settings.xml",
            "word/_rels/settings.xml.rels",
            "word/media/image1.jpeg",
        ],
    );
}

/// Every member of the cleaned archive decompresses to the same bytes as in the original,
/// except `changed` (each of which did change, or was removed): cleaning touches only the
/// parts that carry metadata.
fn assert_only_these_changed(before: &[u8], after: &[u8], changed: &[&str]) {
    let before = unzip(before);
    let after = unzip(after);
    for (name, data, _) in &before {
        let now = after.iter().find(|(n, _, _)| n == name).map(|(_, d, _)| d);
        if changed.contains(&name.as_str()) {
            assert!(now != Some(data), "{name} was expected to change");
        } else {
            assert_eq!(
                now,
                Some(data),
                "{name} changed but carries nothing to remove"
            );
        }
    }
    for (name, _, _) in &after {
        assert!(
            before.iter().any(|(n, _, _)| n == name),
            "{name} appeared from nowhere"
        );
    }
}

#[test]
fn xlsx_and_pptx_authors_removed() {
    let xlsx = build_zip(&[
        ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#, false),
        ("xl/workbook.xml", br#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac" xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"><fileSharing userName="Nguyen Van Canary"/><mc:AlternateContent><mc:Choice Requires="x15"><x15ac:absPath url="C:\Users\canary\Documents\"/></mc:Choice></mc:AlternateContent><xr:revisionPtr documentId="8_{CANARY}"/><sheets/></workbook>"#, false),
        ("xl/comments1.xml", br#"<?xml version="1.0"?><comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors><author>Nguyen Van Canary</author><author>tc={CANARY-GUID}</author></authors><commentList/></comments>"#, false),
        ("xl/persons/person.xml", br#"<?xml version="1.0"?><personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><person displayName="Nguyen Van Canary" id="{0}" userId="canary@example.vn" providerId="AD"/></personList>"#, false),
        ("docProps/core.xml", br#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Nguyen Van Canary</dc:creator></cp:coreProperties>"#, false),
    ]);
    assert_eq!(clean::sniff(&xlsx), Format::Xlsx);
    let out = clean::clean(&xlsx).unwrap();
    assert_no_canary(&out.bytes, "xlsx");
    for (name, data, _) in unzip(&out.bytes) {
        assert_well_formed(&data, &name);
    }

    let pptx = build_zip(&[
        ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#, false),
        ("ppt/presentation.xml", br#"<?xml version="1.0"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>"#, false),
        ("ppt/commentAuthors.xml", br#"<?xml version="1.0"?><p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cmAuthor id="1" name="Nguyen Van Canary" initials="NVCANARY" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>"#, false),
        ("ppt/authors.xml", br#"<?xml version="1.0"?><p188:authorLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:author id="{1}" name="Nguyen Van Canary" initials="NVC" userId="canary@example.vn" providerId="AD"/></p188:authorLst>"#, false),
    ]);
    assert_eq!(clean::sniff(&pptx), Format::Pptx);
    let out = clean::clean(&pptx).unwrap();
    assert_no_canary(&out.bytes, "pptx");
}

/// An ODF part with nothing to clean.
const ODF_UNTOUCHED_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.3"><office:styles><style:style style:name="Standard" style:family="paragraph"/></office:styles></office:document-styles>"#;

fn odt_fixture() -> Vec<u8> {
    let manifest = br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/><manifest:file-entry manifest:full-path="Pictures/photo.jpg" manifest:media-type="image/jpeg"/></manifest:manifest>"#;
    let meta = br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta><meta:initial-creator>CANARY-INITIAL-CREATOR</meta:initial-creator><dc:creator>Nguyen Van Canary</dc:creator><meta:creation-date>2024-05-06T07:08:09</meta:creation-date><meta:editing-cycles>12</meta:editing-cycles><meta:generator>CANARY-GENERATOR/7.6</meta:generator><meta:user-defined meta:name="Office">CANARY-USER-DEFINED</meta:user-defined></office:meta></office:document-meta>"#;
    let content = br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"><office:body><office:text><text:tracked-changes><text:changed-region text:id="ct1"><text:insertion><office:change-info><dc:creator>CANARY-CHANGE-AUTHOR</dc:creator><dc:date>2024-05-06T07:08:09</dc:date></office:change-info></text:insertion></text:changed-region></text:tracked-changes><text:p>Body text stays<office:annotation><dc:creator>Nguyen Van Canary</dc:creator><dc:date>2024-05-06T07:08:09</dc:date><meta:creator-initials>NVCANARY</meta:creator-initials><text:p>Annotation text stays</text:p></office:annotation></text:p></office:text></office:body></office:document-content>"#;
    let settings = br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-settings xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" office:version="1.3"><office:settings><config:config-item-set config:name="ooo:configuration-settings"><config:config-item config:name="PrinterName" config:type="string">CANARY-PRINTER Phong Thanh Tra</config:config-item><config:config-item config:name="PrinterSetup" config:type="base64Binary">Q0FOQVJZ</config:config-item><config:config-item config:name="AddParaTableSpacing" config:type="boolean">true</config:config-item></config:config-item-set></office:settings></office:document-settings>"#;
    let mut thumb = Vec::new();
    image::codecs::png::PngEncoder::new(&mut thumb)
        .write_image(&pixels_rgba(4, 4), 4, 4, ExtendedColorType::Rgba8)
        .unwrap();
    thumb.extend_from_slice(b"CANARY-THUMB");
    let photo = jpeg_fixture();
    build_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text", true),
        ("META-INF/manifest.xml", manifest, false),
        ("meta.xml", meta, false),
        ("content.xml", content, false),
        ("settings.xml", settings, false),
        ("Thumbnails/thumbnail.png", &thumb, false),
        ("Pictures/photo.jpg", &photo, false),
        ("styles.xml", ODF_UNTOUCHED_XML.as_bytes(), false),
        ("Pictures/drawing.png", &plain_png(), false),
    ])
}

#[test]
fn odt_metadata_removed_and_package_valid() {
    let input = odt_fixture();
    assert_eq!(clean::sniff(&input), Format::Odt);
    let out = clean::clean(&input).unwrap();
    let labels = removed(&out.outcome);
    for expected in [
        "document properties (author, dates, editing time, statistics)",
        "comment and revision authors",
        "thumbnail preview",
        "printer settings",
        "metadata of embedded images",
    ] {
        assert!(
            labels.contains(&expected),
            "missing label {expected}: {labels:?}"
        );
    }
    assert_no_canary(&out.bytes, "odt");
    // mimetype first, stored, readable at the fixed offset.
    assert_eq!(&out.bytes[30..38], b"mimetype");
    assert_eq!(&out.bytes[8..10], &[0, 0], "mimetype must be STORED");
    assert_eq!(
        &out.bytes[38..38 + 39],
        b"application/vnd.oasis.opendocument.text"
    );
    let members = unzip(&out.bytes);
    assert_eq!(members[0].0, "mimetype");
    for (name, data, _) in &members {
        if name.ends_with(".xml") {
            assert_well_formed(data, name);
        }
    }
    let meta = String::from_utf8(member(&members, "meta.xml").to_vec()).unwrap();
    assert!(
        meta.contains("office:document-meta")
            && meta.contains("<office:meta/>")
            && meta.contains(r#"office:version="1.3""#)
    );
    let manifest = String::from_utf8(member(&members, "META-INF/manifest.xml").to_vec()).unwrap();
    assert!(!manifest.contains("Thumbnails") && manifest.contains("Pictures/photo.jpg"));
    let content = String::from_utf8(member(&members, "content.xml").to_vec()).unwrap();
    assert!(content.contains("Body text stays") && content.contains("Annotation text stays"));
    assert_eq!(clean::sniff(&out.bytes), Format::Odt);
    assert_only_these_changed(
        &input,
        &out.bytes,
        &[
            "META-INF/manifest.xml",
            "meta.xml",
            "content.xml",
            "settings.xml",
            "Thumbnails/thumbnail.png",
            "Pictures/photo.jpg",
        ],
    );
}

#[test]
fn nested_workbook_in_docx_is_cleaned() {
    let inner = build_zip(&[
        ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#, false),
        ("xl/workbook.xml", br#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>"#, false),
        ("docProps/core.xml", br#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Nguyen Van Canary</dc:creator></cp:coreProperties>"#, false),
    ]);
    let outer = build_zip(&[
        ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#, false),
        ("word/document.xml", br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>"#, false),
        ("word/embeddings/Microsoft_Excel_Worksheet.xlsx", &inner, false),
    ]);
    let out = clean::clean(&outer).unwrap();
    assert!(removed(&out.outcome).contains(&"metadata of embedded documents"));
    assert_no_canary(&out.bytes, "docx with embedded xlsx");
}

#[test]
fn utf16_xml_parts_are_cleaned() {
    let utf16 = |s: &str| -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    };
    let core = utf16(
        r#"<?xml version="1.0" encoding="UTF-16" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Nguyen Van Canary</dc:creator></cp:coreProperties>"#,
    );
    let item = utf16(
        r#"<?xml version="1.0" encoding="utf-16"?><w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:comment w:id="0" w:author="Nguyen Van Canary"/></w:comments>"#,
    );
    let input = build_zip(&[
        ("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#, false),
        ("word/document.xml", br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>"#, false),
        ("docProps/core.xml", &core, false),
        ("word/comments.xml", &item, false),
    ]);
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "docx with UTF-16 parts");
    for (name, data, _) in unzip(&out.bytes) {
        assert_well_formed(&data, &name);
        if name.ends_with("comments.xml") {
            assert!(
                String::from_utf8(data)
                    .unwrap()
                    .contains(r#"encoding="UTF-8""#)
            );
        }
    }
}

#[test]
fn encrypted_zip_member_is_not_cleanable() {
    // General-purpose flag bit 0 set on the (only) member: the zip layer says "encrypted".
    let mut input = build_zip(&[
        ("[Content_Types].xml", b"<Types/>", true),
        ("word/document.xml", b"<w:document/>", true),
    ]);
    let mut patch = |sig: &[u8], flag_at: usize| {
        let mut at = 0;
        while let Some(i) = input[at..].windows(4).position(|w| w == sig) {
            input[at + i + flag_at] |= 1;
            at += i + 4;
        }
    };
    patch(b"PK\x03\x04", 6);
    patch(b"PK\x01\x02", 8);
    let out = clean::clean(&input);
    match out {
        Ok(out) => {
            assert_eq!(out.outcome, Outcome::NotCleanable);
            assert_eq!(out.bytes.as_slice(), &input[..]);
        }
        Err(e) => assert!(matches!(e, CleanError::Malformed { .. })),
    }
}

#[test]
fn zip_bomb_is_rejected() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("[Content_Types].xml", opts).unwrap();
    w.write_all(b"<Types/>").unwrap();
    w.start_file("word/media/big.bin", opts).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(clean::MAX_UNZIPPED_BYTES >> 20) + 1 {
        w.write_all(&zeros).unwrap();
    }
    let input = w.finish().unwrap().into_inner();
    assert!(input.len() < clean::MAX_INPUT_BYTES);
    assert_eq!(
        clean::clean(&input).unwrap_err(),
        CleanError::TooLarge {
            format: Format::Docx
        }
    );
}

// ---------------------------------------------------------------------------------------
// Ogg Opus
// ---------------------------------------------------------------------------------------

/// Bitwise reference CRC (independent of the table-driven one under test).
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

struct OggPage {
    flags: u8,
    granule: u64,
    serial: u32,
    sequence: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
}

fn ogg_page_bytes(p: &OggPage) -> Vec<u8> {
    let mut out = b"OggS\0".to_vec();
    out.push(p.flags);
    out.extend_from_slice(&p.granule.to_le_bytes());
    out.extend_from_slice(&p.serial.to_le_bytes());
    out.extend_from_slice(&p.sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(p.lacing.len() as u8);
    out.extend_from_slice(&p.lacing);
    out.extend_from_slice(&p.body);
    let crc = ogg_crc(&out);
    out[22..26].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Parse pages, asserting each CRC.
fn ogg_pages(bytes: &[u8]) -> Vec<OggPage> {
    let mut pages = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        assert_eq!(&bytes[pos..pos + 4], b"OggS");
        let n = bytes[pos + 26] as usize;
        let lacing = bytes[pos + 27..pos + 27 + n].to_vec();
        let len: usize = lacing.iter().map(|&l| l as usize).sum();
        let end = pos + 27 + n + len;
        let mut raw = bytes[pos..end].to_vec();
        let stored = u32::from_le_bytes(raw[22..26].try_into().unwrap());
        raw[22..26].copy_from_slice(&[0; 4]);
        assert_eq!(ogg_crc(&raw), stored, "bad CRC on page at {pos}");
        pages.push(OggPage {
            flags: bytes[pos + 5],
            granule: u64::from_le_bytes(bytes[pos + 6..pos + 14].try_into().unwrap()),
            serial: u32::from_le_bytes(bytes[pos + 14..pos + 18].try_into().unwrap()),
            sequence: u32::from_le_bytes(bytes[pos + 18..pos + 22].try_into().unwrap()),
            lacing,
            body: bytes[pos + 27 + n..end].to_vec(),
        });
        pos = end;
    }
    pages
}

/// Split one packet into pages (continuation flags set), starting at `sequence`.
fn packet_pages(packet: &[u8], serial: u32, sequence: u32, first_flags: u8) -> Vec<OggPage> {
    let mut lacing = vec![255u8; packet.len() / 255];
    lacing.push((packet.len() % 255) as u8);
    let mut pages = Vec::new();
    let mut at = 0;
    for (i, chunk) in lacing.chunks(255).enumerate() {
        let len: usize = chunk.iter().map(|&l| l as usize).sum();
        pages.push(OggPage {
            flags: if i == 0 { first_flags } else { 1 },
            granule: 0,
            serial,
            sequence: sequence + i as u32,
            lacing: chunk.to_vec(),
            body: packet[at..at + len].to_vec(),
        });
        at += len;
    }
    pages
}

fn opus_head() -> Vec<u8> {
    let mut h = b"OpusHead".to_vec();
    h.extend_from_slice(&[1, 1]);
    h.extend_from_slice(&312u16.to_le_bytes());
    h.extend_from_slice(&48000u32.to_le_bytes());
    h.extend_from_slice(&0i16.to_le_bytes());
    h.push(0);
    h
}

fn opus_tags(vendor: &str, comments: &[Vec<u8>]) -> Vec<u8> {
    let mut t = b"OpusTags".to_vec();
    t.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    t.extend_from_slice(vendor.as_bytes());
    t.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        t.extend_from_slice(&(c.len() as u32).to_le_bytes());
        t.extend_from_slice(c);
    }
    t
}

/// Ogg Opus with a comment header spanning two pages, then 5 audio pages.
fn ogg_fixture(serial: u32) -> Vec<u8> {
    ogg_fixture_with(serial, 70_000)
}

fn ogg_fixture_with(serial: u32, picture_len: usize) -> Vec<u8> {
    let mut picture = b"METADATA_BLOCK_PICTURE=".to_vec();
    picture.extend(std::iter::repeat_n(b'A', picture_len));
    picture.extend_from_slice(b"CANARY-BIG-PICTURE");
    let tags = opus_tags(
        "CANARY-VENDOR libopus 1.4",
        &[
            b"ARTIST=Nguyen Van Canary".to_vec(),
            b"ENCODER=CANARY-ENCODER".to_vec(),
            b"LOCATION=CANARY-GPS-10.1234".to_vec(),
            picture,
        ],
    );
    let mut pages = vec![OggPage {
        flags: 2,
        granule: 0,
        serial,
        sequence: 0,
        lacing: vec![19],
        body: opus_head(),
    }];
    let comment_pages = packet_pages(&tags, serial, 1, 0);
    assert!(
        picture_len < 65_000 || comment_pages.len() >= 2,
        "comment header must span pages"
    );
    let sequence = 1 + comment_pages.len() as u32;
    pages.extend(comment_pages);
    for (n, sequence) in (0..5u64).zip(sequence..) {
        let mut body = Vec::new();
        for k in 0..10u8 {
            body.extend_from_slice(&[0xF8, 0xFF, 0xFE, n as u8, k]);
        }
        pages.push(OggPage {
            flags: if n == 4 { 4 } else { 0 },
            granule: 312 + 9600 * (n + 1),
            serial,
            sequence,
            lacing: vec![5; 10],
            body,
        });
    }
    pages.iter().flat_map(ogg_page_bytes).collect()
}

#[test]
fn ogg_opus_tags_replaced_and_pages_valid() {
    let input = ogg_fixture(0xCAFE);
    assert_eq!(clean::sniff(&input), Format::OggOpus);
    let out = clean::clean(&input).unwrap();
    assert_eq!(out.format, Format::OggOpus);
    assert!(removed(&out.outcome).contains(&"comment tags (artist, encoder, location…)"));
    assert_no_canary(&out.bytes, "ogg");
    let before = ogg_pages(&input);
    let after = ogg_pages(&out.bytes); // asserts every CRC
    // OpusHead page byte-identical.
    assert_eq!(ogg_page_bytes(&after[0]), ogg_page_bytes(&before[0]));
    assert_eq!(after[0].body, opus_head());
    // New comment header: one page, zero comments, granule 0.
    assert!(after[1].body.starts_with(b"OpusTags"));
    let vendor_len = u32::from_le_bytes(after[1].body[8..12].try_into().unwrap()) as usize;
    let count = u32::from_le_bytes(
        after[1].body[12 + vendor_len..16 + vendor_len]
            .try_into()
            .unwrap(),
    );
    assert_eq!(count, 0);
    assert_eq!(after[1].body.len(), 16 + vendor_len);
    assert_eq!(after[1].granule, 0);
    // Audio pages: same data and granules, gapless sequence numbers, EOS kept.
    let audio_before = &before[before.len() - 5..];
    let audio_after = &after[2..];
    assert_eq!(audio_after.len(), 5);
    for (a, b) in audio_before.iter().zip(audio_after) {
        assert_eq!(
            (a.granule, &a.body, &a.lacing, a.flags),
            (b.granule, &b.body, &b.lacing, b.flags)
        );
    }
    for (i, page) in after.iter().enumerate() {
        assert_eq!(page.sequence, i as u32);
        assert_eq!(page.serial, 0xCAFE);
    }
}

#[test]
fn ogg_chained_streams_both_cleaned() {
    let mut input = ogg_fixture(1);
    input.extend(ogg_fixture(2));
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "chained ogg");
    let pages = ogg_pages(&out.bytes);
    assert_eq!(pages.len(), 14);
    assert_eq!(
        pages
            .iter()
            .filter(|p| p.body.starts_with(b"OpusTags"))
            .count(),
        2
    );
}

#[test]
fn ogg_multiplexed_streams_both_cleaned() {
    // Interleave the pages of two small streams, as a muxer would.
    let a = ogg_pages(&ogg_fixture_with(10, 10));
    let b = ogg_pages(&ogg_fixture_with(20, 10));
    let mut input = Vec::new();
    for (pa, pb) in a.iter().zip(&b) {
        input.extend(ogg_page_bytes(pa));
        input.extend(ogg_page_bytes(pb));
    }
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "multiplexed ogg");
    let pages = ogg_pages(&out.bytes);
    for serial in [10, 20] {
        let stream: Vec<_> = pages.iter().filter(|p| p.serial == serial).collect();
        assert_eq!(stream.len(), 7);
        for (i, page) in stream.iter().enumerate() {
            assert_eq!(page.sequence, i as u32);
        }
    }
}

#[test]
fn ogg_audio_sharing_the_comment_page_is_kept() {
    // Against RFC 7845, but seen in the wild: audio packets on the comment's last page.
    let tags = opus_tags("CANARY-VENDOR", &[b"ARTIST=Nguyen Van Canary".to_vec()]);
    let audio = [0xF8u8, 0xFF, 0xFE];
    let mut body = tags.clone();
    body.extend_from_slice(&audio);
    let head = OggPage {
        flags: 2,
        granule: 0,
        serial: 5,
        sequence: 0,
        lacing: vec![19],
        body: opus_head(),
    };
    let mixed = OggPage {
        flags: 0,
        granule: 960,
        serial: 5,
        sequence: 1,
        lacing: vec![tags.len() as u8, 3],
        body,
    };
    let last = OggPage {
        flags: 4,
        granule: 1920,
        serial: 5,
        sequence: 2,
        lacing: vec![3],
        body: audio.to_vec(),
    };
    let input: Vec<u8> = [head, mixed, last]
        .iter()
        .flat_map(ogg_page_bytes)
        .collect();
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "ogg with shared comment page");
    let pages = ogg_pages(&out.bytes);
    assert_eq!(pages.len(), 4);
    assert!(pages[1].body.starts_with(b"OpusTags") && pages[1].granule == 0);
    assert_eq!(
        (pages[2].granule, pages[2].body.as_slice()),
        (960, &audio[..])
    );
    assert_eq!((pages[3].sequence, pages[3].flags), (3, 4));
}

#[test]
fn ogg_vorbis_is_not_cleanable() {
    let page = OggPage {
        flags: 2,
        granule: 0,
        serial: 9,
        sequence: 0,
        lacing: vec![30],
        body: b"\x01vorbis".iter().copied().chain([0; 23]).collect(),
    };
    let input = ogg_page_bytes(&page);
    assert_eq!(clean::sniff(&input), Format::Other);
    let out = clean::clean(&input).unwrap();
    assert_eq!(out.outcome, Outcome::NotCleanable);
    assert_eq!(out.bytes.as_slice(), &input[..]);
}

// ---------------------------------------------------------------------------------------
// Sniffing, pass-through formats, limits
// ---------------------------------------------------------------------------------------

#[test]
fn sniffing_by_content() {
    let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2";
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
    assert_eq!(clean::sniff(mp4), Format::Mp4);
    assert_eq!(clean::sniff(heic), Format::Heif);
    assert_eq!(clean::sniff(b"ID3\x04\0\0\0\0\0\0"), Format::Mp3);
    assert_eq!(clean::sniff(&[0xFF, 0xFB, 0x90, 0x64]), Format::Mp3);
    assert_eq!(
        clean::sniff("Xin chào, tôi muốn báo cáo.\n".as_bytes()),
        Format::PlainText
    );
    assert_eq!(
        clean::sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><metadata/></svg>"),
        Format::Other
    );
    assert_eq!(
        clean::sniff(br"{\rtf1\ansi{\info{\author X}}}"),
        Format::Other
    );
    assert_eq!(clean::sniff(b"%!PS-Adobe-3.0\n%%Creator: X"), Format::Other);
    assert_eq!(clean::sniff(b""), Format::Other);
    assert_eq!(clean::sniff(&[0, 1, 2, 3]), Format::Other);
    assert_eq!(clean::sniff(b"PK\x03\x04garbage"), Format::Other);
    for (format, ext) in [
        (Format::Jpeg, "jpg"),
        (Format::OggOpus, "ogg"),
        (Format::PlainText, "txt"),
        (Format::Other, "bin"),
    ] {
        assert_eq!(format.extension(), ext);
    }
    assert_eq!(Format::Pdf.label(), "PDF");
}

#[test]
fn not_cleanable_formats_return_original() {
    for input in [
        &b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"[..],
        b"ID3\x04\0\0\0\0\0\0",
        &[0u8, 1, 2, 3],
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
    ] {
        let out = clean::clean(input).unwrap();
        assert_eq!(out.outcome, Outcome::NotCleanable);
        assert_eq!(out.bytes.as_slice(), input);
    }
}

#[test]
fn plain_text_nothing_found() {
    let input = "Tôi là nhân chứng.\r\nNgày 5/6.\n".as_bytes();
    let out = clean::clean(input).unwrap();
    assert_eq!(
        (out.format, out.outcome),
        (Format::PlainText, Outcome::NothingFound)
    );
    assert_eq!(out.bytes.as_slice(), input);
}

#[test]
fn oversized_input_rejected() {
    let input = vec![0u8; clean::MAX_INPUT_BYTES + 1];
    assert_eq!(
        clean::clean(&input).unwrap_err(),
        CleanError::TooLarge {
            format: Format::Other
        }
    );
}

#[test]
fn errors_carry_no_content() {
    let err = clean::clean(b"\xFF\xD8\xFF\xE1\xFF\xFFNguyen Van Canary").unwrap_err();
    assert_eq!(
        err,
        CleanError::Malformed {
            format: Format::Jpeg
        }
    );
    assert!(!contains_canary(format!("{err} {err:?}").as_bytes()));
}

// ---------------------------------------------------------------------------------------
// Never panics
// ---------------------------------------------------------------------------------------

thread_local! {
    static PANICKED: Cell<bool> = const { Cell::new(false) };
}

/// `clean` catches panics (so the bot survives them), which would hide them from a
/// property test; a panic hook records them per thread instead.
fn install_panic_recorder() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.with(|p| p.set(true));
            previous(info);
        }));
    });
}

fn clean_without_panicking(data: &[u8]) {
    install_panic_recorder();
    PANICKED.with(|p| p.set(false));
    let _ = clean::clean(data);
    assert!(
        !PANICKED.with(Cell::get),
        "clean panicked (caught) on a {}-byte input",
        data.len()
    );
}

fn fixtures() -> &'static Vec<Vec<u8>> {
    static FIXTURES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        vec![
            jpeg_fixture(),
            png_fixture(),
            webp_fixture(),
            gif_fixture(),
            pdf_fixture(),
            docx_fixture(),
            odt_fixture(),
            ogg_fixture_with(7, 10),
        ]
    })
}

const MAGICS: [&[u8]; 10] = [
    b"\xFF\xD8\xFF",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\0\0\0\0WEBP",
    b"GIF89a",
    b"%PDF-1.7\n",
    b"PK\x03\x04",
    b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead",
    b"\0\0\0\x18ftyp",
    b"ID3",
    b"",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
}

fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = data.len().max(1);
        match m {
            Mutation::Flip(at, x) => {
                if !data.is_empty() {
                    let at = at % len;
                    data[at] ^= x | 1;
                }
            }
            Mutation::Truncate(at) => data.truncate(at % len),
            Mutation::Insert(at, bytes) => {
                let at = at % len;
                data.splice(
                    at.min(data.len())..at.min(data.len()),
                    bytes.iter().copied(),
                );
            }
            Mutation::Remove(at, n) => {
                let at = (at % len).min(data.len());
                let end = (at + n % 64).min(data.len());
                data.drain(at..end);
            }
        }
    }
    data
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, x)| Mutation::Flip(a, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Mutation::Remove(a, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_random_bytes(magic in 0..MAGICS.len(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = MAGICS[magic].to_vec();
        data.extend(tail);
        clean_without_panicking(&data);
    }

    #[test]
    fn never_panics_on_mutated_fixtures(which in 0..8usize, mutations in proptest::collection::vec(mutation(), 1..6)) {
        let data = apply(fixtures()[which].clone(), &mutations);
        clean_without_panicking(&data);
    }
}

// ---------------------------------------------------------------------------------------
// Throughput on 20 MB inputs
// ---------------------------------------------------------------------------------------

const BIG: usize = 20 * 1024 * 1024;

fn report(what: &str, bytes: usize, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{what}: {:.1} MB in {secs:.2} s = {:.0} MB/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
    // Generous: a debug build of this crate on a shared 2-core machine.
    assert!(secs < 20.0, "{what} too slow: {secs:.1} s");
}

#[test]
fn big_jpeg_is_fast() {
    // A real JPEG header and scan, with the entropy-coded segment padded to 20 MB with
    // stuffed 0xFF bytes (the worst case for the marker walk), plus EXIF up front.
    let base = plain_jpeg(64, 48);
    let sos = base.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let sos_len = u16::from_be_bytes([base[sos + 2], base[sos + 3]]) as usize;
    let scan_start = sos + 2 + sos_len;
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(tiff_with_canaries(b""));
    let mut input = base[..2].to_vec();
    input.extend(segment(0xE1, &exif));
    input.extend_from_slice(&base[2..scan_start]);
    while input.len() < BIG {
        input.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0x56, 0xFF, 0xD3]);
    }
    input.extend_from_slice(&[0xFF, 0xD9]);
    let start = Instant::now();
    let out = clean::clean(&input).unwrap();
    report("JPEG", input.len(), start);
    assert_no_canary(&out.bytes, "big jpeg");
    assert!(out.bytes.len() > BIG - 1024);
}

#[test]
fn big_pdf_is_fast() {
    let mut doc = pdf_document();
    let pages_id = doc
        .catalog()
        .unwrap()
        .get(b"Pages")
        .unwrap()
        .as_reference()
        .unwrap();
    let page_id = *doc.get_pages().get(&1).unwrap();
    // 200 uncompressed 100 KB image streams referenced from the first page.
    let chunk: Vec<u8> = (0..100 * 1024).map(|i| (i * 31 % 251) as u8).collect();
    let mut xobjects = lopdf::Dictionary::new();
    for n in 0..(BIG / chunk.len()) {
        let id = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 1, "Height" => 1, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            chunk.clone(),
        ));
        xobjects.set(format!("X{n}"), id);
    }
    let page = doc.get_dictionary_mut(page_id).unwrap();
    page.set("Resources", dictionary! { "XObject" => xobjects });
    let _ = pages_id;
    let mut input = Vec::new();
    doc.save_to(&mut input).unwrap();
    assert!(input.len() >= BIG - 1024 * 1024);
    let start = Instant::now();
    let out = clean::clean(&input).unwrap();
    report("PDF", input.len(), start);
    assert_eq!(Document::load_mem(&out.bytes).unwrap().get_pages().len(), 2);
}

// ---------------------------------------------------------------------------------------
// Fixture files for the end-to-end tests
// ---------------------------------------------------------------------------------------

/// The files the end-to-end evidence test sends through the simulator live in
/// `tests/data/attach/`; they are this file's generators' output. Regenerate with
/// `TIPLINE_WRITE_FIXTURES=1 cargo test --test all attach_clean::fixture_files`.
#[test]
fn fixture_files_carry_canaries_and_clean() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/attach");
    let files = [
        ("photo.jpg", jpeg_fixture(), Format::Jpeg),
        ("report.pdf", pdf_fixture(), Format::Pdf),
        ("voice.ogg", ogg_fixture(0x5EED), Format::OggOpus),
        ("statement.docx", docx_fixture(), Format::Docx),
        ("drawing.png", png_fixture(), Format::Png),
        ("sticker.webp", webp_fixture(), Format::WebP),
        ("document.odt", odt_fixture(), Format::Odt),
    ];
    for (name, generated, format) in files {
        let path = dir.join(name);
        if std::env::var_os("TIPLINE_WRITE_FIXTURES").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{name}: {e} (regenerate, see this test's comment)"));
        assert!(contains_canary(&committed), "{name} has planted metadata");
        let c = clean::clean(&committed).unwrap();
        assert_eq!(c.format, format, "{name}");
        assert!(
            matches!(c.outcome, Outcome::Cleaned { .. }),
            "{name}: {:?}",
            c.outcome
        );
        assert_no_canary(&c.bytes, name);
        if matches!(format, Format::Jpeg | Format::Png | Format::WebP) {
            assert_same_pixels(&committed, &c.bytes, name);
        }
    }
}

// ---------------------------------------------------------------------------------------
// A real Ogg Opus file (opusenc; see tests/data/attach/SOURCE.md)
// ---------------------------------------------------------------------------------------

fn data_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/attach")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn real_opus_file_keeps_every_audio_packet() {
    let input = data_file("voice-opusenc.ogg");
    assert!(contains_canary(&input), "the fixture carries planted tags");
    let before = common::evidence::ogg_packets(&input);
    let out = clean::clean(&input).unwrap();
    assert_eq!(out.format, Format::OggOpus);
    assert!(removed(&out.outcome).contains(&"comment tags (artist, encoder, location…)"));
    assert_no_canary(&out.bytes, "opusenc file");
    assert!(
        !out.bytes.windows(7).any(|w| w == b"libopus"),
        "the encoder's vendor string is gone too"
    );
    let after = assert_valid_opus(&out.bytes, "cleaned opusenc file");
    assert_eq!(before[0].data, after[0].data, "OpusHead unchanged");
    let audio_before = opus_audio(&before);
    assert!(audio_before.len() > 50, "1.5 s of 20 ms packets");
    assert_eq!(
        audio_before,
        opus_audio(&after),
        "audio packets and their granule positions are byte-identical"
    );
}

#[test]
fn synthetic_ogg_outputs_parse_with_an_independent_reader() {
    for (what, input) in [
        ("single", ogg_fixture(0xCAFE)),
        ("chained", {
            let mut v = ogg_fixture(1);
            v.extend(ogg_fixture(2));
            v
        }),
    ] {
        let out = clean::clean(&input).unwrap();
        let before = common::evidence::ogg_packets(&input);
        let after = assert_valid_opus(&out.bytes, what);
        assert_eq!(opus_audio(&before), opus_audio(&after), "{what}");
    }
}

// ---------------------------------------------------------------------------------------
// JPEG: JFIF thumbnails and JFXX
// ---------------------------------------------------------------------------------------

#[test]
fn jfif_thumbnail_and_jfxx_are_removed() {
    let base = plain_jpeg(16, 16);
    assert_eq!(&base[2..4], &[0xFF, 0xE0], "the encoder starts with APP0");
    let app0_len = u16::from_be_bytes([base[4], base[5]]) as usize;
    let rest = &base[4 + app0_len..];
    // JFIF with a 2×1 RGB thumbnail whose six bytes spell the canary.
    let mut jfif = b"JFIF\0\x01\x02\0\0\x01\0\x01\x02\x01".to_vec();
    jfif.extend_from_slice(b"CANARY");
    let mut jfxx = b"JFXX\0\x10".to_vec();
    jfxx.extend(jpeg_with_comment(8, 8, b"CANARY-JFXX-THUMBNAIL"));
    let mut input = base[..2].to_vec();
    input.extend(segment(0xE0, &jfif));
    input.extend(segment(0xE0, &jfxx));
    input.extend_from_slice(rest);
    let out = clean::clean(&input).unwrap();
    assert!(removed(&out.outcome).contains(&"JFIF thumbnail"));
    assert_no_canary(&out.bytes, "jpeg with JFIF thumbnails");
    // The JFIF segment stays, declaring a 0×0 thumbnail; the JFXX one is gone.
    let kept = segment(0xE0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0");
    assert_eq!(&out.bytes[2..2 + kept.len()], kept.as_slice());
    assert!(!out.bytes.windows(4).any(|w| w == b"JFXX"));
    assert_same_pixels(&input, &out.bytes, "jpeg with JFIF thumbnails");
}

// ---------------------------------------------------------------------------------------
// PDF: embedded files, filtered and JPEG 2000 images, incremental updates
// ---------------------------------------------------------------------------------------

fn deflated(mut dict: lopdf::Dictionary, data: &[u8]) -> Stream {
    dict.set("Filter", "FlateDecode");
    Stream::new(dict, zlib(data))
}

fn root_id(doc: &Document) -> lopdf::ObjectId {
    doc.trailer.get(b"Root").unwrap().as_reference().unwrap()
}

fn save(doc: &mut Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// The base fixture plus attached files, each in the /EmbeddedFiles name tree (keyed by a
/// planted file name, with a local path and dates), and a JPEG attached to page 1 through a
/// FileAttachment annotation.
fn pdf_with_attachments(attached: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut doc = pdf_document();
    let mut entries = Vec::new();
    let mut keys: Vec<&str> = attached.iter().map(|(n, _)| *n).collect();
    keys.sort_unstable();
    for key in &keys {
        let data = &attached.iter().find(|(n, _)| n == key).unwrap().1;
        let ef = doc.add_object(deflated(
            dictionary! {
                "Type" => "EmbeddedFile",
                "Params" => dictionary! {
                    "Size" => data.len() as i64,
                    "CreationDate" => Object::string_literal("D:20240506070809+07'00'"),
                    "Mac" => dictionary! { "Creator" => Object::string_literal("CANARY-MAC-CREATOR") },
                },
            },
            data,
        ));
        let fs = doc.add_object(dictionary! {
            "Type" => "Filespec",
            "F" => Object::string_literal(format!("C:\\Users\\canary.nguyen\\Documents\\{key}")),
            "UF" => Object::string_literal(*key),
            "EF" => dictionary! { "F" => ef, "UF" => ef },
            "Desc" => Object::string_literal("bằng chứng"),
        });
        entries.push(Object::string_literal(*key));
        entries.push(fs.into());
    }
    let leaf = doc.add_object(dictionary! {
        "Names" => entries,
        "Limits" => vec![
            Object::string_literal(*keys.first().unwrap()),
            Object::string_literal(*keys.last().unwrap()),
        ],
    });
    let tree = doc.add_object(dictionary! { "Kids" => vec![leaf.into()] });
    let root = root_id(&doc);
    doc.get_dictionary_mut(root)
        .unwrap()
        .set("Names", dictionary! { "EmbeddedFiles" => tree });
    // A photo attached to the first page as an annotation.
    let photo = doc.add_object(deflated(
        dictionary! { "Type" => "EmbeddedFile" },
        &jpeg_fixture(),
    ));
    let photo_fs = doc.add_object(dictionary! {
        "Type" => "Filespec",
        "F" => Object::string_literal("IMG_canary_0001.jpg"),
        "EF" => dictionary! { "F" => photo },
    });
    let page = *doc.get_pages().get(&1).unwrap();
    doc.get_dictionary_mut(page)
        .unwrap()
        .get_mut(b"Annots")
        .unwrap()
        .as_array_mut()
        .unwrap()
        .push(Object::Dictionary(dictionary! {
            "Type" => "Annot", "Subtype" => "FileAttachment",
            "Rect" => vec![10.into(), 10.into(), 30.into(), 30.into()],
            "T" => Object::string_literal("Nguyen Van Canary"),
            "Contents" => Object::string_literal("ảnh chụp"),
            "FS" => photo_fs,
        }));
    save(&mut doc)
}

/// The decoded content of every embedded file stream.
fn embedded_files(bytes: &[u8]) -> Vec<Vec<u8>> {
    let doc = Document::load_mem(bytes).unwrap();
    doc.objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"EmbeddedFile"))
        .map(common::evidence::pdf_stream_bytes)
        .collect()
}

#[test]
fn pdf_embedded_files_are_cleaned_and_renamed() {
    let docx = docx_fixture();
    let input = pdf_with_attachments(&[("Don_to_cao_Canary.docx", docx.clone())]);
    assert_eq!(embedded_files(&input).len(), 2);
    let out = clean::clean(&input).unwrap();
    let labels = removed(&out.outcome);
    for expected in [
        "metadata of embedded documents",
        "metadata of embedded images",
        "names and paths of attached files",
        "modification dates",
        "comment authors",
    ] {
        assert!(labels.contains(&expected), "missing {expected}: {labels:?}");
    }
    // Decodes every stream, unzips the attached DOCX, searches all of it.
    assert_no_canary(&out.bytes, "pdf with attachments");
    let after = Document::load_mem(&out.bytes).unwrap();
    assert_eq!(after.get_pages().len(), 2);
    let files = embedded_files(&out.bytes);
    assert_eq!(files.len(), 2, "both attachments stay");
    let docx_after = files
        .iter()
        .find(|f| clean::sniff(f) == Format::Docx)
        .expect("the DOCX is still a DOCX");
    assert_eq!(
        unzip(docx_after).len(),
        unzip(&clean::clean(&docx).unwrap().bytes).len()
    );
    let photo_after = files
        .iter()
        .find(|f| clean::sniff(f) == Format::Jpeg)
        .unwrap();
    assert_same_pixels(&jpeg_fixture(), photo_after, "attached photo");
    // Neutral names: the file specifications and the name tree's keys.
    let text = String::from_utf8_lossy(&out.bytes);
    assert!(
        text.contains("attachment-1.docx") || text.contains("attachment-2.docx"),
        "{text}"
    );
    assert!(text.contains("(attachment-000001)"));
    assert!(!text.contains("/Params"));
}

#[test]
fn pdf_attachments_that_cannot_be_cleaned_make_it_partial() {
    let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2 PLANTED-IN-VIDEO".to_vec();
    let zip_like = b"PK\x03\x04 not really a zip".to_vec();
    let broken_opus = ogg_page_bytes(&OggPage {
        flags: 2,
        granule: 0,
        serial: 3,
        sequence: 0,
        lacing: vec![19],
        body: opus_head(),
    });
    let input = pdf_with_attachments(&[
        ("clip.mp4", mp4.clone()),
        ("data.zip", zip_like),
        ("voice.opus", broken_opus),
    ]);
    let out = clean::clean(&input).unwrap();
    let Outcome::Partial { removed, remaining } = &out.outcome else {
        panic!("expected Partial, got {:?}", out.outcome);
    };
    assert!(removed.contains(&"document info (author, creator, producer, title, dates)"));
    assert!(
        remaining.contains(
            &"embedded files in formats whose metadata cannot be removed (audio, video …)"
        ) && remaining.contains(&"embedded files that could not be checked"),
        "{remaining:?}"
    );
    // Everything else is still cleaned, and the video is there untouched.
    assert_no_canary(&out.bytes, "partly cleaned pdf");
    assert!(embedded_files(&out.bytes).contains(&mp4));
}

/// A JPEG stream behind other filters, with its own XMP (`/Metadata` on the image).
fn pdf_with_filtered_images() -> (Vec<u8>, Vec<u8>) {
    let mut doc = pdf_document();
    let jpeg = jpeg_fixture();
    let hex: Vec<u8> = hex::encode(&jpeg).into_bytes();
    let xmp = doc.add_object(xmp_stream("<x:xmpmeta>CANARY-IMAGE-XMP</x:xmpmeta>"));
    let flate = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 64, "Height" => 48,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
            "Filter" => vec![Object::Name(b"FlateDecode".to_vec()), Object::Name(b"DCTDecode".to_vec())],
            "Metadata" => xmp,
        },
        zlib(&jpeg),
    ));
    let ascii = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 64, "Height" => 48,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
            "Filter" => vec![Object::Name(b"ASCIIHexDecode".to_vec()), Object::Name(b"DCTDecode".to_vec())],
            "DecodeParms" => vec![Object::Null, Object::Null],
        },
        [hex, b">".to_vec()].concat(),
    ));
    let page = *doc.get_pages().get(&2).unwrap();
    let page = doc.get_dictionary_mut(page).unwrap();
    page.set(
        "Resources",
        dictionary! { "XObject" => dictionary! { "Im2" => flate, "Im3" => ascii } },
    );
    (save(&mut doc), jpeg)
}

/// Every image stream's bytes in front of its image filter (a JPEG or JPEG 2000 file).
fn image_streams(bytes: &[u8]) -> Vec<(Vec<Vec<u8>>, Vec<u8>)> {
    let doc = Document::load_mem(bytes).unwrap();
    doc.objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
        .map(|s| {
            let filters = s.filters().unwrap().iter().map(|f| f.to_vec()).collect();
            (filters, common::evidence::pdf_stream_bytes(s))
        })
        .collect()
}

#[test]
fn pdf_jpeg_behind_other_filters_is_cleaned() {
    let (input, jpeg) = pdf_with_filtered_images();
    let out = clean::clean(&input).unwrap();
    assert!(removed(&out.outcome).contains(&"metadata of embedded images"));
    assert!(removed(&out.outcome).contains(&"XMP metadata"));
    assert_no_canary(&out.bytes, "pdf with filtered jpeg streams");
    let images = image_streams(&out.bytes);
    assert_eq!(
        images.len(),
        3,
        "the DCT image of the base fixture and the two new ones"
    );
    for (filters, image) in &images {
        assert!(filters.last().unwrap() == b"DCTDecode", "{filters:?}");
        assert_same_pixels(&jpeg, image, "jpeg in pdf");
    }
    // Flate in front was applied again.
    assert!(
        images
            .iter()
            .any(|(f, _)| f == &[b"FlateDecode".to_vec(), b"DCTDecode".to_vec()])
    );
    assert_eq!(Document::load_mem(&out.bytes).unwrap().get_pages().len(), 2);
}

#[test]
fn pdf_broken_jpeg_stream_makes_it_partial_not_unchecked() {
    let mut doc = pdf_document();
    let broken = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 8, "Height" => 8,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        b"\xFF\xD8\xFF\xE1\xFF\xFFtruncated".to_vec(),
    ));
    let page = *doc.get_pages().get(&2).unwrap();
    doc.get_dictionary_mut(page).unwrap().set(
        "Resources",
        dictionary! { "XObject" => dictionary! { "Bad" => broken } },
    );
    let out = clean::clean(&save(&mut doc)).unwrap();
    match &out.outcome {
        Outcome::Partial { remaining, .. } => {
            assert_eq!(remaining, &["embedded images that could not be checked"])
        }
        other => panic!("expected Partial, got {other:?}"),
    }
    assert_no_canary(&out.bytes, "pdf with a broken jpeg");
}

fn jp2_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

fn marker(code: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xFF, code];
    m.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// A JPEG 2000 codestream: SOC, SIZ (40×30, one component), COM, one tile-part whose
/// header has a COM too, some coded bytes, EOC.
fn j2k_codestream() -> (Vec<u8>, Vec<u8>) {
    let mut siz = vec![0, 0];
    for v in [40u32, 30, 0, 0, 40, 30, 0, 0] {
        siz.extend_from_slice(&v.to_be_bytes());
    }
    siz.extend_from_slice(&[0, 1, 7, 1, 1]);
    let data: Vec<u8> = (0..200u32).map(|i| (i * 13 % 251) as u8 & 0x7F).collect();
    let mut tile_header = marker(0x64, b"\0\x01CANARY-TILE-COMMENT");
    tile_header.extend_from_slice(&[0xFF, 0x93]);
    let sot_len = 12 + tile_header.len() + data.len();
    let mut sot = vec![0xFF, 0x90, 0, 10, 0, 0];
    sot.extend_from_slice(&(sot_len as u32).to_be_bytes());
    sot.extend_from_slice(&[0, 1]);
    let mut cs = vec![0xFF, 0x4F];
    cs.extend(marker(0x51, &siz));
    cs.extend(marker(0x64, b"\0\x01Kakadu-CANARY-ENCODER"));
    cs.extend(sot);
    cs.extend(tile_header);
    cs.extend_from_slice(&data);
    cs.extend_from_slice(&[0xFF, 0xD9]);
    (cs, data)
}

fn jp2_file() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30u32.to_be_bytes());
    ihdr.extend_from_slice(&40u32.to_be_bytes());
    ihdr.extend_from_slice(&[0, 1, 7, 7, 0, 0]);
    let mut header = jp2_box(b"ihdr", &ihdr);
    header.extend(jp2_box(b"colr", &[1, 0, 0, 0, 0, 0, 17]));
    let jp2h = jp2_box(b"jp2h", &header);
    let (cs, data) = j2k_codestream();
    let mut file = jp2_box(b"jP  ", &[0x0D, 0x0A, 0x87, 0x0A]);
    file.extend(jp2_box(b"ftyp", b"jp2 \0\0\0\0jp2 "));
    file.extend(jp2_box(
        b"xml ",
        b"<x:xmpmeta><dc:creator>Nguyen Van Canary</dc:creator></x:xmpmeta>",
    ));
    file.extend_from_slice(&jp2h);
    let mut uuid = vec![0xB1; 16];
    uuid.extend_from_slice(b"GeoJP2 CANARY-GPS-10.1234");
    file.extend(jp2_box(b"uuid", &uuid));
    file.extend(jp2_box(b"jp2c", &cs));
    (file, jp2h, data)
}

#[test]
fn pdf_jpeg2000_boxes_and_comments_are_removed() {
    let (jp2, jp2h, coded) = jp2_file();
    let (raw, _) = j2k_codestream();
    let mut doc = pdf_document();
    let a = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 40, "Height" => 30,
            "Filter" => "JPXDecode",
        },
        jp2.clone(),
    ));
    let b = doc.add_object(deflated(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 40, "Height" => 30 },
        &raw,
    ));
    // `deflated` set /Filter /FlateDecode: make it [/FlateDecode /JPXDecode].
    doc.get_object_mut(b)
        .unwrap()
        .as_stream_mut()
        .unwrap()
        .dict
        .set(
            "Filter",
            vec![
                Object::Name(b"FlateDecode".to_vec()),
                Object::Name(b"JPXDecode".to_vec()),
            ],
        );
    let page = *doc.get_pages().get(&2).unwrap();
    doc.get_dictionary_mut(page).unwrap().set(
        "Resources",
        dictionary! { "XObject" => dictionary! { "J1" => a, "J2" => b } },
    );
    let out = clean::clean(&save(&mut doc)).unwrap();
    assert!(removed(&out.outcome).contains(&"metadata of embedded images"));
    assert_no_canary(&out.bytes, "pdf with JPEG 2000 images");
    let jpx: Vec<Vec<u8>> = image_streams(&out.bytes)
        .into_iter()
        .filter(|(f, _)| f.last().unwrap() == b"JPXDecode")
        .map(|(_, bytes)| bytes)
        .collect();
    assert_eq!(jpx.len(), 2);
    for image in &jpx {
        // The header box (dimensions 40×30) and the coded data come out byte for byte.
        if image.starts_with(&[0xFF, 0x4F]) {
            assert!(image.windows(coded.len()).any(|w| w == coded.as_slice()));
        } else {
            assert!(image.windows(jp2h.len()).any(|w| w == jp2h.as_slice()));
            assert!(image.windows(coded.len()).any(|w| w == coded.as_slice()));
            assert!(!image.windows(4).any(|w| w == b"xml " || w == b"uuid"));
        }
        assert!(!image.windows(2).any(|w| w == [0xFF, 0x64]), "COM left");
    }
}

/// An incremental update whose trailer no longer names /Info: the first revision's Info
/// (with its author) is still in the file, now referenced by no current trailer.
fn pdf_with_update_dropping_info(base: &[u8]) -> Vec<u8> {
    pdf_with_update(base, "<< /Note (Nguyen Van Canary was here) >>", false)
}

#[test]
fn pdf_info_of_earlier_trailers_is_gone() {
    let input = pdf_with_update_dropping_info(&pdf_fixture());
    assert!(contains_canary(&input));
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "pdf whose update dropped /Info");
    let after = Document::load_mem(&out.bytes).unwrap();
    assert!(after.trailer.get(b"Info").is_err());
    assert_eq!(after.get_pages().len(), 2);
}

// ---------------------------------------------------------------------------------------
// OOXML and ODF: the parts an audit found left in
// ---------------------------------------------------------------------------------------

const DOCX_TYPES: &[u8] = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;
const EMPTY_DOCUMENT: &[u8] = br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>"#;

/// A minimal DOCX with extra members.
fn docx_with(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut members: Vec<(&str, &[u8], bool)> = vec![
        ("[Content_Types].xml", DOCX_TYPES, false),
        ("word/document.xml", EMPTY_DOCUMENT, false),
    ];
    members.extend(extra.iter().map(|(n, d)| (*n, *d, false)));
    build_zip(&members)
}

#[test]
fn docx_custom_xml_items_are_emptied() {
    let item = br#"<?xml version="1.0" encoding="utf-8"?><p:properties xmlns:p="http://schemas.microsoft.com/office/2006/metadata/properties" xmlns:pc="http://schemas.microsoft.com/office/infopath/2007/PartnerControls"><documentManagement><PublishingContact><DisplayName>Nguyen Van Canary</DisplayName><AccountId>12</AccountId><AccountType/></PublishingContact><Email>canary@so-tai-chinh.gov.vn</Email></documentManagement></p:properties>"#;
    let props = br#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><ds:datastoreItem ds:itemID="{6B5A8C3E-0000-0000-0000-000000000001}" xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs><ds:schemaRef ds:uri="http://schemas.microsoft.com/office/2006/metadata/properties"/></ds:schemaRefs></ds:datastoreItem>"#;
    let input = docx_with(&[
        ("customXml/item1.xml", item),
        ("customXml/itemProps1.xml", props),
    ]);
    let out = clean::clean(&input).unwrap();
    assert!(
        removed(&out.outcome).contains(&"custom XML data (e.g. SharePoint author and e-mail)"),
        "{:?}",
        out.outcome
    );
    assert_no_canary(&out.bytes, "docx with customXml");
    let members = unzip(&out.bytes);
    let item = String::from_utf8(member(&members, "customXml/item1.xml").to_vec()).unwrap();
    assert!(
        item.contains("<p:properties") && !item.contains("DisplayName"),
        "{item}"
    );
    assert_well_formed(item.as_bytes(), "customXml/item1.xml");
    assert_eq!(
        member(&members, "customXml/itemProps1.xml"),
        props.as_slice()
    );
}

#[test]
fn docx_local_paths_in_relationships_are_replaced_and_web_links_kept() {
    let rels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="file:///C:\Users\canary.nguyen\Desktop\bien-ban.docx" TargetMode="External"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="C:\Users\Canary\Pictures\IMG_0001.jpg" TargetMode="External"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="\\fileserver\canary\so-lieu.xlsx" TargetMode="External"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="../../canary/ghi-chu.txt" TargetMode="External"/><Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://thanhtra.khanhhoa.gov.vn/tiep-dan" TargetMode="External"/><Relationship Id="rId6" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
    let document = br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"><w:body><w:p><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Picture 1" descr="C:\Users\canary.nguyen\Pictures\IMG_0001.jpg"/></wp:inline></w:drawing></w:r></w:p></w:body></w:document>"#;
    let xlsx_rels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="file:///C:\Users\canary\Documents\Book2.xlsx" TargetMode="External"/></Relationships>"#;
    let input = build_zip(&[
        ("[Content_Types].xml", DOCX_TYPES, false),
        ("word/document.xml", document, false),
        ("word/_rels/document.xml.rels", rels, false),
        (
            "word/embeddings/_rels/externalLink1.xml.rels",
            xlsx_rels,
            false,
        ),
    ]);
    let out = clean::clean(&input).unwrap();
    assert!(removed(&out.outcome).contains(&"file and template paths"));
    assert_no_canary(&out.bytes, "docx with local paths");
    let members = unzip(&out.bytes);
    let rels =
        String::from_utf8(member(&members, "word/_rels/document.xml.rels").to_vec()).unwrap();
    assert_eq!(
        rels.matches(r#"Target="file:///removed""#).count(),
        4,
        "{rels}"
    );
    assert!(
        rels.contains("https://thanhtra.khanhhoa.gov.vn/tiep-dan"),
        "web links stay"
    );
    assert!(
        rels.contains(r#"Target="styles.xml""#),
        "internal targets stay"
    );
    assert_well_formed(rels.as_bytes(), "rels");
}

#[test]
fn docx_ole_objects_make_it_partial() {
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.extend_from_slice(&[0; 56]);
    ole.extend_from_slice(b"\x05SummaryInformation Author: Nguyen Van Canary");
    let core = br#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Nguyen Van Canary</dc:creator></cp:coreProperties>"#;
    let input = docx_with(&[
        ("word/embeddings/oleObject1.bin", &ole),
        ("docProps/core.xml", core),
    ]);
    let out = clean::clean(&input).unwrap();
    let Outcome::Partial { removed, remaining } = &out.outcome else {
        panic!("expected Partial, got {:?}", out.outcome);
    };
    assert!(removed.contains(&"document properties (author, last modified by, dates, revision)"));
    assert_eq!(
        remaining,
        &["embedded OLE objects (may carry author names and file paths)"]
    );
    // Everything but the OLE object is clean; the object is kept as it was.
    for (name, data, _) in unzip(&out.bytes) {
        if name.ends_with("oleObject1.bin") {
            assert_eq!(data, ole);
        } else {
            assert_no_canary(&data, &name);
        }
    }
}

#[test]
fn docx_embedded_video_and_broken_workbook_make_it_partial() {
    let video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    let broken_xlsx = build_zip(&[
        ("[Content_Types].xml", DOCX_TYPES, false),
        ("xl/workbook.xml", b"<workbook><unclosed>", false),
    ]);
    let input = docx_with(&[
        ("word/media/clip.mp4", &video),
        ("word/embeddings/Workbook1.xlsx", &broken_xlsx),
    ]);
    match clean::clean(&input).unwrap().outcome {
        Outcome::Partial { remaining, .. } => assert_eq!(
            remaining,
            [
                "embedded files in formats whose metadata cannot be removed (audio, video …)",
                "embedded files that could not be checked"
            ]
        ),
        other => panic!("expected Partial, got {other:?}"),
    }
}

#[test]
fn docx_comment_extensions_and_people_are_neutralised() {
    let extensible = br#"<?xml version="1.0"?><w16cex:commentsExtensible xmlns:w16cex="http://schemas.microsoft.com/office/word/2018/wordml/cex" xmlns:w16="http://schemas.microsoft.com/office/word/2018/wordml" xmlns:cr="http://schemas.microsoft.com/office/comments/2020/reactions"><w16cex:commentExtensible w16cex:durableId="2A3B4C5D" w16cex:dateUtc="2024-05-06T00:08:09Z"><w16cex:extLst><w16:ext w16:uri="{CB3C28F8-0000-0000-0000-000000000000}"><cr:reactions><cr:reaction reactionType="1"><cr:reactionInfo dateUtc="2024-05-06T00:09:09Z"><cr:user userId="S::canary@so-tai-chinh.gov.vn::4f1d" userProvider="AD" userName="Nguyen Van Canary"/></cr:reactionInfo></cr:reaction></cr:reactions></w16:ext></w16cex:extLst></w16cex:commentExtensible></w16cex:commentsExtensible>"#;
    let extended = br#"<?xml version="1.0"?><w15:commentsEx xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:commentEx w15:paraId="1A2B3C4D" w15:done="0"/></w15:commentsEx>"#;
    let ids = br#"<?xml version="1.0"?><w16cid:commentsIds xmlns:w16cid="http://schemas.microsoft.com/office/word/2016/wordml/cid"><w16cid:commentId w16cid:paraId="1A2B3C4D" w16cid:durableId="2A3B4C5D"/></w16cid:commentsIds>"#;
    let people = br#"<?xml version="1.0"?><w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="Nguyen Van Canary"><w15:presenceInfo w15:providerId="Windows Live" w15:userId="canary0001"/></w15:person></w15:people>"#;
    let input = docx_with(&[
        ("word/commentsExtensible.xml", extensible),
        ("word/commentsExtended.xml", extended),
        ("word/commentsIds.xml", ids),
        ("word/people.xml", people),
    ]);
    let out = clean::clean(&input).unwrap();
    assert_no_canary(&out.bytes, "docx comment extensions");
    let members = unzip(&out.bytes);
    let ext = String::from_utf8(member(&members, "word/commentsExtensible.xml").to_vec()).unwrap();
    assert!(
        !ext.contains("dateUtc") && ext.contains(r#"userName="Author""#),
        "{ext}"
    );
    // Paragraph and durable ids carry no one's name: unchanged.
    assert_eq!(
        member(&members, "word/commentsExtended.xml"),
        extended.as_slice()
    );
    assert_eq!(member(&members, "word/commentsIds.xml"), ids.as_slice());
    for (name, data, _) in &members {
        assert_well_formed(data, name);
    }
}

#[test]
fn xlsx_threaded_comments_and_pptx_modern_comments_lose_dates_and_people() {
    let threaded = r#"<?xml version="1.0"?><ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><threadedComment ref="A1" dT="2024-05-06T07:08:09.12" personId="{4F1D0000-0000-0000-0000-000000000001}" id="{1}"><text>Số liệu sai</text></threadedComment></ThreadedComments>"#.as_bytes();
    let persons = br#"<?xml version="1.0"?><personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"><person displayName="Nguyen Van Canary" id="{4F1D0000-0000-0000-0000-000000000001}" userId="canary@example.vn" providerId="AD"/></personList>"#;
    let xlsx = build_zip(&[
        ("[Content_Types].xml", DOCX_TYPES, false),
        ("xl/workbook.xml", br#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>"#, false),
        ("xl/threadedComments/threadedComment1.xml", threaded, false),
        ("xl/persons/person.xml", persons, false),
    ]);
    let out = clean::clean(&xlsx).unwrap();
    assert_no_canary(&out.bytes, "xlsx threaded comments");
    let members = unzip(&out.bytes);
    let t =
        String::from_utf8(member(&members, "xl/threadedComments/threadedComment1.xml").to_vec())
            .unwrap();
    assert!(!t.contains("dT=") && t.contains("Số liệu sai"), "{t}");

    let modern = br#"<?xml version="1.0"?><p188:cmLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:cm id="{1}" authorId="{2}" created="2024-05-06T07:08:09.123"><p188:txBody/><p188:replyLst><p188:reply id="{3}" authorId="{2}" created="2024-05-07T01:02:03.456"/></p188:replyLst></p188:cm></p188:cmLst>"#;
    let pptx = build_zip(&[
        ("[Content_Types].xml", DOCX_TYPES, false),
        ("ppt/presentation.xml", br#"<?xml version="1.0"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>"#, false),
        ("ppt/comments/modernComment_100_0.xml", modern, false),
    ]);
    let out = clean::clean(&pptx).unwrap();
    let members = unzip(&out.bytes);
    let c = String::from_utf8(member(&members, "ppt/comments/modernComment_100_0.xml").to_vec())
        .unwrap();
    assert!(
        !c.contains("2024-05") && c.matches("1970-01-01T00:00:00Z").count() == 2,
        "{c}"
    );
}

#[test]
fn odt_author_sender_and_file_name_fields_are_emptied() {
    // A producer that binds Dublin Core to another prefix: matched by namespace URI.
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:purl="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:body><office:text><text:p>Người viết: <text:author-name text:fixed="false">Nguyen Van Canary</text:author-name> (<text:author-initials>NVCANARY</text:author-initials>), lập bởi <text:initial-creator>CANARY-INITIAL</text:initial-creator>, gửi từ <text:sender-firstname>Canary</text:sender-firstname> <text:sender-lastname>CANARY-LAST</text:sender-lastname>, <text:sender-email>canary@example.vn</text:sender-email>, <text:sender-phone-private>CANARY-0905</text:sender-phone-private>. Tệp: <text:file-name text:display="full">C:\Users\canary\Don.odt</text:file-name>.<office:annotation><purl:creator>Nguyen Van Canary</purl:creator><purl:date>2024-05-06T07:08:09</purl:date><text:p>Ghi chú</text:p></office:annotation></text:p></office:text></office:body></office:document-content>"#.as_bytes();
    let input = build_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text", true),
        ("content.xml", content, false),
    ]);
    let out = clean::clean(&input).unwrap();
    let labels = removed(&out.outcome);
    assert!(
        labels.contains(&"author, sender and file-name fields"),
        "{labels:?}"
    );
    assert!(labels.contains(&"comment and revision dates"), "{labels:?}");
    assert_no_canary(&out.bytes, "odt fields");
    let members = unzip(&out.bytes);
    let c = String::from_utf8(member(&members, "content.xml").to_vec()).unwrap();
    assert!(
        c.contains("<purl:date>1970-01-01T00:00:00</purl:date>"),
        "{c}"
    );
    assert!(!c.contains("2024-05-06"), "{c}");
    assert!(
        c.contains("Người viết: <text:author-name text:fixed=\"false\">Author</text:author-name>"),
        "{c}"
    );
    assert!(c.contains("Ghi chú"), "the annotation's text stays");
    assert_well_formed(c.as_bytes(), "content.xml");
}

#[test]
fn odt_nested_object_meta_is_minimal_and_ole_object_partial() {
    let object_meta = br#"<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"><office:meta><meta:initial-creator>Nguyen Van Canary</meta:initial-creator><meta:generator>CANARY-CALC</meta:generator></office:meta></office:document-meta>"#;
    let object_content = br#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.3"><office:body/></office:document-content>"#;
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.extend_from_slice(b" Ole10Native C:\\Users\\lan\\bang-tinh.xls");
    let input = build_zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text", true),
        ("content.xml", ODF_UNTOUCHED_XML.as_bytes(), false),
        ("Object 1/meta.xml", object_meta, false),
        ("Object 1/content.xml", object_content, false),
        ("Object 2", &ole, false),
    ]);
    let out = clean::clean(&input).unwrap();
    match &out.outcome {
        Outcome::Partial { removed, remaining } => {
            assert!(
                removed.contains(&"document properties (author, dates, editing time, statistics)")
            );
            assert_eq!(
                remaining,
                &["embedded OLE objects (may carry author names and file paths)"]
            );
        }
        other => panic!("expected Partial, got {other:?}"),
    }
    let members = unzip(&out.bytes);
    let meta = String::from_utf8(member(&members, "Object 1/meta.xml").to_vec()).unwrap();
    assert!(
        meta.contains("<office:meta/>") && !contains_canary(meta.as_bytes()),
        "{meta}"
    );
    assert_eq!(member(&members, "Object 2"), ole.as_slice());
}

#[test]
fn zip_member_times_and_comments_are_reset() {
    let input = docx_fixture();
    let original = zip::ZipArchive::new(Cursor::new(&input)).unwrap();
    assert!(!original.comment().is_empty());
    let out = clean::clean(&input).unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(out.bytes.as_slice())).unwrap();
    assert!(archive.comment().is_empty(), "archive comment gone");
    let epoch = zip::DateTime::default();
    for i in 0..archive.len() {
        let f = archive.by_index(i).unwrap();
        let when = f.last_modified().expect("a time is recorded");
        assert_eq!(
            (
                when.year(),
                when.month(),
                when.day(),
                when.hour(),
                when.minute()
            ),
            (epoch.year(), epoch.month(), epoch.day(), 0, 0),
            "{}",
            f.name().unwrap()
        );
        assert!(f.comment().is_empty());
    }
    let mut before = zip::ZipArchive::new(Cursor::new(&input)).unwrap();
    assert_eq!(
        before.by_index(0).unwrap().last_modified().unwrap().year(),
        2024
    );
}
