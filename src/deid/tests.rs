//! Unit and property tests for the public API: `detect` invariants, `redact` placeholders and
//! keep decisions, folding. The labelled corpus lives in `tests/deid_corpus.rs`.

use proptest::prelude::*;

use super::*;

fn found(text: &str) -> Vec<(FindingKind, &str)> {
    detect(text)
        .into_iter()
        .map(|f| (f.kind, f.text(text)))
        .collect()
}

fn assert_invariants(text: &str, findings: &[Finding]) {
    let mut prev_end = 0;
    for f in findings {
        assert!(f.range.start < f.range.end, "empty finding");
        assert!(f.range.end <= text.len(), "out of bounds");
        assert!(
            text.is_char_boundary(f.range.start),
            "start not on char boundary"
        );
        assert!(
            text.is_char_boundary(f.range.end),
            "end not on char boundary"
        );
        assert!(f.range.start >= prev_end, "unsorted or overlapping");
        prev_end = f.range.end;
    }
}

#[test]
fn detects_a_mixed_report() {
    let t = "Tôi là Nguyễn Văn Đức, sđt 0905 000 123, email duc.nguyen@example.com. \
             Ông Trần Văn B, phó chủ tịch UBND phường, nhận 5.000.000đ ngày 12/03/2025.";
    assert_eq!(
        found(t),
        vec![
            (FindingKind::SelfIdentification, "Tôi là Nguyễn Văn Đức"),
            (FindingKind::MobilePhone, "0905 000 123"),
            (FindingKind::Email, "duc.nguyen@example.com"),
        ]
    );
}

#[test]
fn detects_without_diacritics() {
    let t = "ten toi la Nguyen Van Duc, so dien thoai cua toi la 0905000123";
    assert_eq!(
        found(t),
        vec![
            (FindingKind::SelfIdentification, "ten toi la Nguyen Van Duc"),
            (FindingKind::MobilePhone, "0905000123"),
        ]
    );
}

#[test]
fn role_and_place_say_who_the_reporter_is() {
    let self_id = |t: &'static str| -> Vec<&'static str> {
        found(t)
            .into_iter()
            .filter(|(k, _)| *k == FindingKind::SelfIdentification)
            .map(|(_, s)| s)
            .collect()
    };
    assert_eq!(
        self_id("Tôi là thủ kho của Công ty Cấp nước Diên Khánh, giám đốc ký khống phiếu xuất."),
        vec!["Tôi là thủ kho của Công ty Cấp nước Diên Khánh"]
    );
    assert_eq!(
        self_id("Em dạy văn ở trường THPT Nguyễn Trãi, phường Tân Lập, hiệu phó thu tiền."),
        vec!["Em dạy văn ở trường THPT Nguyễn Trãi, phường Tân Lập"]
    );
    assert_eq!(
        self_id("toi ban rau o cho Phuoc Thai moi ngay va bi thu phi"),
        vec!["toi ban rau o cho Phuoc Thai moi ngay"]
    );
    assert_eq!(
        self_id("I run the only bakery on Hung Vuong street, and the inspectors want cash."),
        vec!["I run the only bakery on Hung Vuong street"]
    );
    // Informal pronouns.
    assert_eq!(
        self_id("mk là Trần Thị Mai nè, cán bộ xã đòi tiền"),
        vec!["mk là Trần Thị Mai"]
    );
    // A role alone, one of many, or an errand names no one.
    assert!(self_id("Tôi là giáo viên, tôi thấy việc này không đúng.").is_empty());
    assert!(self_id("Tôi là người dân phường Vĩnh Hòa, rất bức xúc.").is_empty());
    assert!(self_id("Tôi làm đơn gửi UBND xã Cam Thành Bắc nhưng không ai trả lời.").is_empty());
    assert!(self_id("I am a resident of Nha Trang and I want to report this.").is_empty());
}

#[test]
fn redact_vi_and_en_placeholders() {
    let t = "Gọi 0905 000 123 hoặc mail an@example.com";
    let f = detect(t);
    assert_eq!(f.len(), 2);
    assert_eq!(
        redact(t, &f, &[true, true], Lang::Vi),
        "Gọi [đã xóa: số điện thoại] hoặc mail [đã xóa: email]"
    );
    assert_eq!(
        redact(t, &f, &[true, true], Lang::En),
        "Gọi [removed: phone number] hoặc mail [removed: email address]"
    );
}

#[test]
fn redact_respects_keep_decisions() {
    let t = "Văn phòng 0258 3822 000, tôi: 0905 000 123";
    let f = detect(t);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].kind, FindingKind::Landline);
    assert_eq!(
        redact(t, &f, &[false, true], Lang::Vi),
        "Văn phòng 0258 3822 000, tôi: [đã xóa: số điện thoại]"
    );
    assert_eq!(redact(t, &f, &[false, false], Lang::Vi), t);
    // A missing decision means remove.
    assert_eq!(
        redact(t, &f, &[false], Lang::En),
        "Văn phòng 0258 3822 000, tôi: [removed: phone number]"
    );
}

#[test]
fn redact_adjacent_and_overlapping_findings() {
    let t = "ab0905000123cd";
    let adjacent = [
        Finding {
            kind: FindingKind::MobilePhone,
            range: 2..7,
        },
        Finding {
            kind: FindingKind::Email,
            range: 7..12,
        },
    ];
    assert_eq!(
        redact(t, &adjacent, &[true, true], Lang::En),
        "ab[removed: phone number][removed: email address]cd"
    );
    assert_eq!(
        redact(t, &adjacent, &[true, false], Lang::En),
        "ab[removed: phone number]00123cd"
    );
    let overlapping = [
        Finding {
            kind: FindingKind::MobilePhone,
            range: 2..9,
        },
        Finding {
            kind: FindingKind::Email,
            range: 5..12,
        },
    ];
    assert_eq!(
        redact(t, &overlapping, &[true, true], Lang::En),
        "ab[removed: phone number]cd"
    );
}

#[test]
fn redact_multibyte_text() {
    let t = "Đức ở nhà số 5 — liên hệ Đức: ０９０５ ０００ １２３ nhé";
    let f = detect(t);
    assert_eq!(
        found(t),
        vec![(FindingKind::MobilePhone, "０９０５ ０００ １２３")]
    );
    assert_eq!(
        redact(t, &f, &[true], Lang::Vi),
        "Đức ở nhà số 5 — liên hệ Đức: [đã xóa: số điện thoại] nhé"
    );
    // Ranges that split a character are widened, never sliced through.
    let bad = [Finding {
        kind: FindingKind::Email,
        range: 1..2,
    }];
    assert_eq!(
        redact("Đa", &bad, &[true], Lang::En),
        "[removed: email address]a"
    );
    let past_end = [Finding {
        kind: FindingKind::Email,
        range: 1..99,
    }];
    assert_eq!(
        redact("ab", &past_end, &[true], Lang::En),
        "a[removed: email address]"
    );
}

#[test]
fn offsets_on_char_boundaries_for_decomposed_input() {
    // "Tôi là" with combining marks, then a name with precomposed letters.
    let t = "To\u{0302}i la\u{0300} Nguye\u{0302}\u{0303}n Va\u{0306}n \u{0110}u\u{031B}\u{0301}c.";
    let f = detect(t);
    assert_invariants(t, &f);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::SelfIdentification);
    assert!(f[0].text(t).ends_with("c"), "name taken whole");
    assert_eq!(f[0].range.start, 0);
}

#[test]
fn labels_and_codes_are_consistent() {
    for k in FindingKind::ALL {
        assert_eq!(FindingKind::from_code(k.code()), Some(k));
        assert!(!k.label_vi().is_empty() && !k.label_en().is_empty());
        assert!(
            k.code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_')
        );
    }
    assert_eq!(
        placeholder(FindingKind::MobilePhone, Lang::Vi),
        "[đã xóa: số điện thoại]"
    );
    assert_eq!(
        placeholder(FindingKind::MobilePhone, Lang::En),
        "[removed: phone number]"
    );
    assert_eq!(FindingKind::from_code("nope"), None);
}

#[test]
fn finding_text_of_foreign_string_is_empty() {
    let f = Finding {
        kind: FindingKind::Email,
        range: 3..40,
    };
    assert_eq!(f.text("short"), "");
}

#[test]
fn fold_diacritics_examples() {
    assert_eq!(
        fold_diacritics("Tôi là Nguyễn Văn Đức"),
        "Toi la Nguyen Van Duc"
    );
    assert_eq!(
        fold_diacritics("Khánh Hòa, Ninh Thuận"),
        "Khanh Hoa, Ninh Thuan"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn detect_never_panics_and_keeps_invariants(s in "\\PC*") {
        let f = detect(&s);
        assert_invariants(&s, &f);
        let keep = vec![false; f.len()];
        prop_assert_eq!(redact(&s, &f, &keep, Lang::Vi), s.clone());
        let removed = redact(&s, &f, &vec![true; f.len()], Lang::En);
        prop_assert!(f.is_empty() || removed != s);
    }

    #[test]
    fn detect_on_identifier_soup(parts in proptest::collection::vec(prop_oneof![
        Just("0905 000 123".to_string()),
        Just("+84".to_string()),
        Just("tôi là".to_string()),
        Just("Nguyễn".to_string()),
        Just("@an_nguyen".to_string()),
        Just("a@example.com".to_string()),
        Just("79A-123.45".to_string()),
        Just("STK".to_string()),
        Just("\u{0301}".to_string()),
        Just("\u{200B}".to_string()),
        Just("．".to_string()),
        Just(", ".to_string()),
        Just(" ".to_string()),
        "[0-9]{1,4}",
        "\\PC{0,3}",
    ], 0..40)) {
        let s: String = parts.concat();
        let f = detect(&s);
        assert_invariants(&s, &f);
        prop_assert_eq!(redact(&s, &f, &vec![false; f.len()], Lang::En), s.clone());
    }
}

/// Inputs on which the `deid_detect` fuzz target once panicked (tests/data/deid/fuzz-regressions).
#[test]
fn fuzz_regressions_do_not_panic() {
    // A self-identification clause longer than the limit, cut while the byte walk stood
    // inside a multi-byte character.
    let clause_cut = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/deid/fuzz-regressions/selfid-clause-cut-inside-char.txt"
    ));
    assert_invariants(clause_cut, &detect(clause_cut));
    // The same shape built by hand: the cut lands inside 'ᛋ' at every offset.
    for pad in 0..4 {
        let text = format!("Tôi là {}{}", "a".repeat(110 + pad), "ᛋ".repeat(8));
        assert_invariants(&text, &detect(&text));
    }
}
