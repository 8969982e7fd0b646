//! Evidence files end to end, through real teloxide over HTTP against the Bot API simulator:
//! a report with a photo, a PDF and a voice note whose planted metadata must never reach the
//! reviewers, one text finding kept and one removed; the reviewer's key opens the cleaned
//! copies and the placeholder, the custodian's key opens the untouched originals. Plus the
//! limits, removal of a file, a file sent at another step, and originals switched off.

use crate::common;

use common::bot::{Harness, Options, submitted, summary_of};
use common::evidence::{assert_no_canary, assert_same_pixels, assert_valid_opus, opus_audio};
use tipline::attach::EvidenceFile;
use tipline::crypto::{ItemKind, Sealed};
use tipline::sim::{Citizen, Mark, SimUser};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/attach")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bot's texts after `mark`, joined.
fn said_since(c: &Citizen, mark: Mark) -> String {
    c.bot_messages_since(mark)
        .into_iter()
        .filter_map(|m| m.text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A reporter's name planted in a document's file name: it must go nowhere.
const FILE_NAME: &str = "Don_Tran_Thi_Lan.pdf";

/// From /start to the evidence step (the story told, "I have papers…"), in Vietnamese.
async fn until_attachments(c: &Citizen) {
    c.command("/start").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    c.press("Đòi tiền").await;
    c.press("Đất đai").await;
    c.send("văn phòng đăng ký đất đai").await;
    c.press("Sở Nông nghiệp và Môi trường").await;
    c.send("Cam Lập").await;
    c.press("xã Nam Cam Ranh").await;
    c.press("Tháng này").await;
    c.send("ông Nguyễn Văn Tư, cán bộ địa chính, điện thoại cơ quan 0258 3822 111")
        .await;
    c.send("Cán bộ đòi 2 triệu đồng mới nhận hồ sơ. Số của tôi 0905 000 123.")
        .await;
    c.press("📄 Có giấy tờ").await;
}

/// From the evidence step to the review screen: the office phone is kept by default, the
/// reporter's own number removed.
async fn until_review(c: &Citizen) {
    c.press("Gửi xong").await;
    let review = c.last_text().unwrap();
    let first = review.lines().find(|l| l.starts_with("1. ")).unwrap();
    assert!(first.contains("0258 3822 111"), "{review}");
    assert!(
        c.last_buttons()
            .iter()
            .any(|b| b.starts_with("1. ✅ Giữ lại")),
        "{review}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photo_pdf_and_voice_are_cleaned_for_reviewers_and_kept_for_custodians() {
    let h = Harness::start().await;
    let c = h.citizen(
        SimUser::new(7_100_001, "Lan")
            .username("lan_tran")
            .language("vi"),
    );
    until_attachments(&c).await;

    // The attachments step warns before anything is sent.
    let prompt = c.last_text().unwrap();
    for warning in [
        "khuôn mặt, giọng nói, giấy tờ có tên bạn",
        "Cán bộ xử lý nhận bản đã làm sạch",
        "Bản gốc được khóa riêng",
        "Tối đa 5 tệp",
    ] {
        assert!(prompt.contains(warning), "{prompt}");
    }
    assert!(c.last_buttons().iter().any(|b| b == "Không gửi tệp ➡️"));

    let photo = fixture("photo.jpg");
    let pdf = fixture("report.pdf");
    // A real opusenc file: its audio must come out packet for packet.
    let voice = fixture("voice-opusenc.ogg");
    let m = c.mark();
    c.send_photo(photo.clone()).await;
    let ack = said_since(&c, m);
    assert!(
        ack.contains("Đã nhận tệp 1: attachment-1.jpg (JPEG)"),
        "{ack}"
    );
    assert!(
        ack.contains("đã xóa siêu dữ liệu:") && ack.contains("khuôn mặt"),
        "{ack}"
    );

    let m = c.mark();
    c.send_document(pdf.clone(), FILE_NAME, "application/pdf")
        .await;
    let ack = said_since(&c, m);
    assert!(ack.contains("attachment-2.pdf (PDF)"), "{ack}");
    assert!(ack.contains("tên, chữ ký hay số điện thoại"), "{ack}");
    assert!(
        !ack.contains("Tran_Thi_Lan"),
        "the file name is never echoed: {ack}"
    );

    let m = c.mark();
    c.send_voice(voice.clone()).await;
    let ack = said_since(&c, m);
    assert!(ack.contains("attachment-3.ogg (Ogg Opus audio)"), "{ack}");
    assert!(ack.contains("Giọng nói có thể nhận ra bạn"), "{ack}");

    // A format that cannot be cleaned is flagged at once, and can be removed.
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    mp4.extend_from_slice(&[0u8; 64]);
    let m = c.mark();
    c.send_video(mp4).await;
    let ack = said_since(&c, m);
    assert!(
        ack.contains("CHƯA xóa được siêu dữ liệu") && ack.contains("cùng mọi dữ liệu ẩn trong đó"),
        "{ack}"
    );
    c.press("🗑 Gỡ tệp 4").await;
    let list = c.last_text().unwrap();
    assert!(
        list.contains("3. attachment-3.ogg") && !list.contains("attachment-4"),
        "{list}"
    );

    until_review(&c).await;
    let review = c.last_text().unwrap();
    for expected in [
        "Tệp bằng chứng:",
        "attachment-1.jpg (JPEG) — đã xóa siêu dữ liệu:",
        "attachment-2.pdf (PDF) — đã xóa siêu dữ liệu:",
        "attachment-3.ogg (Ogg Opus audio) — đã xóa siêu dữ liệu:",
        "0258 3822 111",
        "[đã xóa: số điện thoại]",
    ] {
        assert!(
            review.contains(expected),
            "review lacks {expected:?}:\n{review}"
        );
    }
    let sent_part = review.split("\n\nBot thấy").next().unwrap();
    assert!(
        !sent_part.contains("0905 000 123") && !review.contains("attachment-4"),
        "{review}"
    );
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = submitted(&c);

    // Reviewer side.
    let summary = summary_of(&h, &code).await;
    assert!(summary.story.contains("[đã xóa: số điện thoại]") && !summary.story.contains("0905"));
    assert!(
        summary.officials.contains("0258 3822 111"),
        "the kept finding stays"
    );
    let names: Vec<_> = summary
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["attachment-1.jpg", "attachment-2.pdf", "attachment-3.ogg"]
    );
    assert!(summary.attachments.iter().all(|a| a.metadata_removed));

    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let items = h.store.items(&case.id).await.unwrap();
    let of = |kind: ItemKind| -> Vec<Vec<u8>> {
        items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.blob.clone())
            .collect()
    };
    let cleaned = of(ItemKind::Attachment);
    let originals = of(ItemKind::AttachmentOriginal);
    assert_eq!((cleaned.len(), originals.len()), (3, 3));
    let originals_in: [&[u8]; 3] = [&photo, &pdf, &voice];
    for (i, blob) in cleaned.iter().enumerate() {
        let sealed: Sealed<EvidenceFile> = Sealed::from_bytes(blob.clone());
        let f = sealed
            .open(ItemKind::Attachment, &case.id, &h.reviewer.0)
            .expect("the reviewer opens the cleaned copy");
        assert_eq!(f.name, names[i]);
        assert!(f.metadata_removed);
        // Searches raw bytes, every decoded PDF stream (the fixture's XMP is compressed)
        // and every zip member.
        assert_no_canary(&f.bytes, &f.name);
        assert_ne!(f.bytes, originals_in[i]);
        let custodian_try: Sealed<EvidenceFile> = Sealed::from_bytes(blob.clone());
        assert!(
            custodian_try
                .open(ItemKind::Attachment, &case.id, &h.custodian.0)
                .is_err()
        );
    }
    // The cleaned copies still open as what they are.
    let first: Sealed<EvidenceFile> = Sealed::from_bytes(cleaned[0].clone());
    let jpeg = first
        .open(ItemKind::Attachment, &case.id, &h.reviewer.0)
        .unwrap();
    let img = image::load_from_memory(&jpeg.bytes).expect("the cleaned photo decodes");
    assert_eq!((img.width(), img.height()), (64, 48));
    assert_same_pixels(&photo, &jpeg.bytes, "cleaned photo");
    let second: Sealed<EvidenceFile> = Sealed::from_bytes(cleaned[1].clone());
    let pdf_clean = second
        .open(ItemKind::Attachment, &case.id, &h.reviewer.0)
        .unwrap();
    let doc = lopdf::Document::load_mem(&pdf_clean.bytes).expect("the cleaned PDF loads");
    let before = lopdf::Document::load_mem(&pdf).unwrap();
    assert_eq!(doc.get_pages().len(), before.get_pages().len());
    let third: Sealed<EvidenceFile> = Sealed::from_bytes(cleaned[2].clone());
    let ogg = third
        .open(ItemKind::Attachment, &case.id, &h.reviewer.0)
        .unwrap();
    // Every page CRC, the header packets and granule order, read by the `ogg` crate.
    let after = assert_valid_opus(&ogg.bytes, "cleaned voice note");
    assert_eq!(
        opus_audio(&common::evidence::ogg_packets(&voice)),
        opus_audio(&after),
        "the voice note's audio is untouched"
    );

    // Custodian side: the originals, byte for byte; the reviewer's key opens none of them.
    for (i, blob) in originals.iter().enumerate() {
        let sealed: Sealed<EvidenceFile> = Sealed::from_bytes(blob.clone());
        let f = sealed
            .open(ItemKind::AttachmentOriginal, &case.id, &h.custodian.0)
            .expect("the custodian opens the original");
        assert_eq!(f.bytes, originals_in[i], "original {i} is untouched");
        assert_eq!(f.name, names[i]);
        let reviewer_try: Sealed<EvidenceFile> = Sealed::from_bytes(blob.clone());
        assert!(
            reviewer_try
                .open(ItemKind::AttachmentOriginal, &case.id, &h.reviewer.0)
                .is_err()
        );
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_other_steps_and_originals_off() {
    let h = Harness::start_with(Options {
        env: vec![
            ("TIPLINE_MAX_ATTACHMENTS", "2"),
            ("TIPLINE_KEEP_ORIGINAL_ATTACHMENTS", "false"),
        ],
        ..Options::default()
    })
    .await;
    let c = h.citizen(SimUser::new(7_100_002, "Minh").language("vi"));
    c.command("/start").await;
    c.press("✅ Đồng ý, bắt đầu").await;
    // A file sent before the evidence step is kept, and the current step asked again.
    let m = c.mark();
    c.send_document(
        fixture("statement.docx"),
        "Tờ trình của Minh.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    .await;
    let texts = said_since(&c, m);
    assert!(
        texts.contains("attachment-1.docx (Word document)"),
        "{texts}"
    );
    assert!(
        !texts.contains("Minh"),
        "the file name is never echoed: {texts}"
    );
    assert_eq!(
        c.last_text().unwrap(),
        "Cán bộ đã làm gì? Chọn điều gần nhất."
    );
    c.press("Đòi tiền").await;
    c.press("Đất đai").await;
    c.send("văn phòng đăng ký đất đai").await;
    c.press("Sở Nông nghiệp và Môi trường").await;
    c.press("Tôi không muốn nói").await;
    c.press("Tháng này").await;
    c.press("Không biết, bỏ qua").await;
    c.send("Cán bộ đòi tiền mới nhận hồ sơ.").await;
    c.press("📄 Có giấy tờ").await;
    let list = c.last_text().unwrap();
    assert!(list.contains("1. attachment-1.docx"), "{list}");
    assert!(
        list.contains("Tối đa 2 tệp") && list.contains("Bản gốc không được giữ."),
        "{list}"
    );

    // Oversized and over the count: clear answers, nothing added.
    let m = c.mark();
    c.send_document(vec![b'a'; 21 * 1024 * 1024], "big.txt", "text/plain")
        .await;
    assert!(said_since(&c, m).contains("lớn hơn 20 MB"));
    c.send_photo(fixture("photo.jpg")).await;
    let m = c.mark();
    c.send_photo(fixture("photo.jpg")).await;
    let texts = said_since(&c, m);
    assert!(texts.contains("tối đa 2 tệp"), "{texts}");
    assert!(!c.last_text().unwrap().contains("attachment-3"));
    c.press("Gửi xong").await;
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = submitted(&c);
    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let items = h.store.items(&case.id).await.unwrap();
    let count = |k: ItemKind| items.iter().filter(|i| i.kind == k).count();
    assert_eq!(count(ItemKind::Attachment), 2);
    assert_eq!(count(ItemKind::AttachmentOriginal), 0, "originals are off");
    let summary = summary_of(&h, &code).await;
    assert_eq!(summary.attachments.len(), 2);
    h.stop().await;
}

/// A DOCX whose properties name the author and which holds an embedded OLE object.
fn docx_with_ole_object() -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.extend_from_slice(b" SummaryInformation: planted OLE author");
    for (name, data) in [
        ("[Content_Types].xml", &br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#[..]),
        ("word/document.xml", br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>"#),
        ("docProps/core.xml", br#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Nguyen Van Canary</dc:creator></cp:coreProperties>"#),
        ("word/embeddings/oleObject1.bin", &ole),
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Files that cannot be cleaned say why, each in its own words: a format we cannot clean
/// (video), a file that does not parse as what it claims (a broken PDF) and a document cleaned
/// only in part (an embedded OLE object stays). The reporter hears it on arrival and in the
/// summary; reviewers see it in the summary and in each sealed file's note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncleanable_unchecked_and_partly_cleaned_files_say_so() {
    let h = Harness::start().await;
    let c = h.citizen(SimUser::new(7_100_003, "Hoa").language("vi"));
    until_attachments(&c).await;

    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    mp4.extend_from_slice(&[0u8; 64]);
    let broken_pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R".to_vec();
    let docx = docx_with_ole_object();

    let m = c.mark();
    c.send_video(mp4.clone()).await;
    let ack = said_since(&c, m);
    assert!(
        ack.contains("attachment-1.mp4 (MP4/QuickTime media) — ⚠️ CHƯA xóa được siêu dữ liệu — định dạng MP4/QuickTime media"),
        "{ack}"
    );
    assert!(ack.contains("cùng mọi dữ liệu ẩn trong đó"), "{ack}");

    let m = c.mark();
    c.send_document(broken_pdf.clone(), "bien_ban.pdf", "application/pdf")
        .await;
    let ack = said_since(&c, m);
    assert!(
        ack.contains("attachment-2.pdf (PDF) — ⚠️ KHÔNG kiểm tra được tệp này; dữ liệu ẩn trong tệp vẫn còn nguyên"),
        "{ack}"
    );
    assert!(
        !ack.contains("định dạng PDF"),
        "a broken file is not a format problem: {ack}"
    );
    assert!(ack.contains("cùng mọi dữ liệu ẩn trong đó"), "{ack}");

    let m = c.mark();
    c.send_document(
        docx.clone(),
        "to_trinh.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    .await;
    let ack = said_since(&c, m);
    assert!(
        ack.contains("attachment-3.docx (Word document) — ⚠️ CHỈ xóa được một phần siêu dữ liệu: document properties")
            && ack.contains("CÒN LẠI: embedded OLE objects (may carry author names and file paths)"),
        "{ack}"
    );
    assert!(ack.contains("Bot đã xóa những gì xóa được"), "{ack}");
    assert!(!ack.contains("cùng mọi dữ liệu ẩn trong đó"), "{ack}");

    until_review(&c).await;
    let review = c.last_text().unwrap();
    for expected in [
        "attachment-1.mp4 (MP4/QuickTime media) — ⚠️ CHƯA xóa được siêu dữ liệu — định dạng MP4/QuickTime media",
        "attachment-2.pdf (PDF) — ⚠️ KHÔNG kiểm tra được tệp này; dữ liệu ẩn trong tệp vẫn còn nguyên",
        "attachment-3.docx (Word document) — ⚠️ CHỈ xóa được một phần siêu dữ liệu:",
        "CÒN LẠI: embedded OLE objects",
    ] {
        assert!(
            review.contains(expected),
            "review lacks {expected:?}:\n{review}"
        );
    }
    c.press("✅ Gửi phản ánh").await;
    let (code, _) = submitted(&c);

    // The summary reviewers read: the same three states, in the reporter's language.
    let summary = summary_of(&h, &code).await;
    let notes = &summary.attachments;
    assert_eq!(notes.len(), 3);
    assert!(notes.iter().all(|a| !a.metadata_removed));
    assert!(!notes[0].unchecked && notes[0].remaining.is_empty());
    assert!(notes[1].unchecked);
    assert_eq!(
        notes[2].remaining,
        ["embedded OLE objects (may carry author names and file paths)"]
    );
    let rendered = summary.render(tipline::bot::texts::Lang::En);
    for expected in [
        "attachment-1.mp4 (MP4/QuickTime media) — ⚠️ metadata NOT removed — format MP4/QuickTime media",
        "attachment-2.pdf (PDF) — ⚠️ this file could NOT be checked; its hidden data stays",
        "attachment-3.docx (Word document) — ⚠️ metadata only PARTLY removed: document properties (author, last modified by, dates, revision); LEFT IN: embedded OLE objects",
    ] {
        assert!(
            rendered.contains(expected),
            "summary lacks {expected:?}:\n{rendered}"
        );
    }

    // The sealed files: as sent for the first two, cleaned for the third, each with its note.
    let case = h
        .store
        .case_by_code(&tipline::ids::CaseCode::parse(&code).unwrap())
        .await
        .unwrap();
    let items = h.store.items(&case.id).await.unwrap();
    let files: Vec<EvidenceFile> = items
        .iter()
        .filter(|i| i.kind == ItemKind::Attachment)
        .map(|i| {
            Sealed::<EvidenceFile>::from_bytes(i.blob.clone())
                .open(ItemKind::Attachment, &case.id, &h.reviewer.0)
                .expect("the reviewer opens it")
        })
        .collect();
    assert_eq!(files.len(), 3);
    assert_eq!(
        files[0].note,
        "metadata not removed: format MP4/QuickTime media"
    );
    assert_eq!(files[0].bytes, mp4);
    assert_eq!(
        files[1].note,
        "could not be checked (the file did not parse as PDF): hidden data not removed"
    );
    assert_eq!(files[1].bytes, broken_pdf);
    assert!(
        files[2].note.starts_with("removed: document properties")
            && files[2].note.ends_with(
                "; not removed: embedded OLE objects (may carry author names and file paths)"
            ),
        "{}",
        files[2].note
    );
    assert!(files.iter().all(|f| !f.metadata_removed));
    // The DOCX reached reviewers cleaned, but for the OLE object that stayed.
    for (name, data, _) in common::evidence::unzip(&files[2].bytes) {
        if !name.ends_with("oleObject1.bin") {
            assert_no_canary(&data, &name);
        }
    }
    h.stop().await;
}
