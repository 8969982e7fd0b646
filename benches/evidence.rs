//! Evidence throughput: clean + seal a 20 MB JPEG and a 20 MB PDF, as the bot does for each
//! file at submission (cleaned copy sealed to two reviewers). Figures in BENCHMARKS.md.
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

/// A 12-megapixel noise image at high quality: 25.6 MB of JPEG (above the 20 MB a bot can
/// download, so an upper bound), with a comment in front.
fn jpeg_20mb() -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let pixels = noise((w * h * 3) as usize, 0x9E37_79B9_7F4A_7C15);
    let mut body = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut body, 93)
        .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .expect("encodes");
    // A comment segment in front, as cameras and editors write them.
    let comment = b"CANARY camera owner";
    let mut out = body[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&u16::try_from(comment.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(&body[2..]);
    out
}

/// A one-page PDF carrying a 20 MB image stream and an Info dictionary.
fn pdf_20mb() -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 2582, "Height" => 2582,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
        },
        noise(20 * 1000 * 1000, 42),
    );
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

fn clean_and_seal(c: &mut Criterion) {
    let reviewers = [suite::generate_keypair().1, suite::generate_keypair().1];
    let case = CaseId::random();
    let mut group = c.benchmark_group("evidence");
    group.sample_size(10);
    for (name, input) in [("jpeg_20mb", jpeg_20mb()), ("pdf_20mb", pdf_20mb())] {
        eprintln!("{name}: {} bytes", input.len());
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(format!("clean_and_seal/{name}"), |b| {
            b.iter(|| {
                let mut cleaned = clean::clean(&input).expect("cleans");
                assert!(!matches!(cleaned.outcome, clean::Outcome::NotCleanable));
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
