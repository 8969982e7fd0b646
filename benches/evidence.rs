//! Evidence throughput: clean + seal a 20 MB JPEG, a 20 MB PDF with an uncompressed image
//! and a 20 MB PDF whose image is a JPEG (DCT) stream, as the bot does for each file at
//! submission (cleaned copy sealed to two reviewers). Throughput in MB/s (10^6 bytes).
//! Figures in BENCHMARKS.md.
//!
//! `cargo bench --bench evidence`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::ImageEncoder;
use lopdf::{Document, Object, Stream, dictionary};
use tipline::attach::EvidenceFile;
use tipline::attach::clean;
use tipline::crypto::{ItemKind, Sealed, suite};
use tipline::ids::CaseId;

/// A pseudo-random byte stream (xorshift), so the inputs do not compress away.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A noise image at high quality, about 20 MB of JPEG (the most a bot can download), with a
/// comment segment and an EXIF block in front, as cameras write them.
fn jpeg_20mb() -> Vec<u8> {
    let (w, h) = (3500u32, 2700u32);
    let pixels = noise((w * h * 3) as usize, 0x9E37_79B9_7F4A_7C15);
    let mut body = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut body, 93)
        .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .expect("encodes");
    let mut out = body[..2].to_vec();
    for (marker, payload) in [
        (0xFE, &b"CANARY camera owner"[..]),
        (0xE1, b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0CANARY-SERIAL"),
    ] {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&body[2..]);
    out
}

/// A one-page PDF carrying one 20 MB image stream and an Info dictionary.
fn pdf_with_image(image: Stream) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let image_id = doc.add_object(image);
    let content = Stream::new(dictionary! {}, b"q 500 0 0 500 50 50 cm /Im1 Do Q".to_vec());
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image_id } },
        "MediaBox" => vec![0.into(), 0.into(), 600.into(), 600.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let info_id = doc.add_object(dictionary! {
        "Author" => Object::string_literal("CANARY author"),
        "Creator" => Object::string_literal("CANARY creator"),
    });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("saves");
    out
}

/// 20 MB of raw RGB samples (no filter).
fn pdf_20mb() -> Vec<u8> {
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 2582, "Height" => 2582,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
        },
        noise(20 * 1000 * 1000, 42),
    );
    pdf_with_image(image)
}

/// A scan or phone photo put into a PDF: the image is the 20 MB JPEG itself, EXIF and all,
/// as a `/DCTDecode` stream, so the JPEG-in-PDF cleaning path is what is measured.
fn pdf_jpeg_20mb(jpeg: Vec<u8>) -> Vec<u8> {
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 3500, "Height" => 2700,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        jpeg,
    );
    pdf_with_image(image)
}

fn clean_and_seal(c: &mut Criterion) {
    let reviewers = [suite::generate_keypair().1, suite::generate_keypair().1];
    let case = CaseId::random();
    let mut group = c.benchmark_group("evidence");
    group.sample_size(10);
    let jpeg = jpeg_20mb();
    for (name, input) in [
        ("pdf_jpeg_20mb", pdf_jpeg_20mb(jpeg.clone())),
        ("jpeg_20mb", jpeg),
        ("pdf_20mb", pdf_20mb()),
    ] {
        eprintln!("{name}: {} bytes", input.len());
        group.throughput(Throughput::BytesDecimal(input.len() as u64));
        group.bench_function(format!("clean_and_seal/{name}"), |b| {
            b.iter(|| {
                let mut cleaned = clean::clean(&input).expect("cleans");
                assert!(matches!(cleaned.outcome, clean::Outcome::Cleaned { .. }));
                let file = EvidenceFile {
                    name: "attachment-1.bin".into(),
                    format: cleaned.format.label().into(),
                    metadata_removed: true,
                    note: String::new(),
                    bytes: std::mem::take(&mut *cleaned.bytes),
                };
                Sealed::seal(&file, ItemKind::Attachment, &case, &reviewers).expect("seals")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, clean_and_seal);
criterion_main!(benches);
