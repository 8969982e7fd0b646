//! Whose identifier a finding is: the reporter's (removed by default), or the official's or the
//! office's that the report is about (kept by default, with the reason shown, so the report does
//! not lose its evidence unless the reporter says so).
//!
//! Decided from the words around the finding, in its sentence: the nearest cue wins ("số của
//! tôi", "gọi cho tôi" / "của ông ấy", "cán bộ đó dùng zalo", "chủ tài khoản … ông ta" /
//! "đường dây nóng", "điện thoại cơ quan", an address at a `.gov.vn` domain). No cue: the
//! reporter's, the safe default. Only identifiers an official or an office may have are
//! weighed (phones, e-mail, bank accounts, plates, Telegram handles); ID card, passport and
//! social-insurance numbers and self-descriptions are always the reporter's.
//!
//! Invariants: a cue never reaches across a sentence end or past another identifier of the same
//! sentence; a reporter cue at the same distance as another wins.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{FindingKind, fold_diacritics};

/// Whose an identifier is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// The reporter's own (or nobody's known): removed by default.
    Reporter,
    /// The official reported on.
    Official,
    /// An office or agency (a hotline, an office landline, a `.gov.vn` address).
    Agency,
}

impl Owner {
    /// Stable code (stored in drafts).
    pub fn code(self) -> &'static str {
        match self {
            Owner::Reporter => "reporter",
            Owner::Official => "official",
            Owner::Agency => "agency",
        }
    }

    /// The owner of a code; unknown codes are the reporter's (removed by default).
    pub fn from_code(code: &str) -> Owner {
        match code {
            "official" => Owner::Official,
            "agency" => Owner::Agency,
            _ => Owner::Reporter,
        }
    }

    /// Whether a finding of this owner is removed unless the reporter keeps it.
    pub fn removed_by_default(self) -> bool {
        self == Owner::Reporter
    }
}

/// What the field a finding is in says about it, beyond its words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldHint {
    /// Free text (the story, a note): the words decide.
    None,
    /// The officials named: the official's unless the words say the reporter's.
    Officials,
    /// The office named: the office's unless the words say the reporter's.
    Office,
}

/// Who, in folded words, can be the official: a role, "ông"/"bà", or a pronoun that points away
/// from the reporter ("anh ấy", "cô ta"; "cô" alone folds to "có", "has").
const OFFICIAL: &str = r"(?:(?:(?:anh|chi|chu|co|thay|em|ong|ba)\s+)?(?:can bo|cb|canh sat|csgt|cong an|bac si|y ta|giao vien|co giao|thay giao|hieu truong|hieu pho|ke toan|thu quy|truong phong|pho phong|chu tich|pho chu tich|giam doc|pho giam doc|truong thon|to truong|bi thu|doi truong|nhan vien|cong chuc|vien chuc)|nguoi nay|nguoi do|ong|ba|(?:anh|chi|chu|co|thay|em)\s+(?:ay|ta|do|kia|nay))";

/// Folded (diacritic-free, lower-case) cues before an identifier, each ending right before it
/// (up to a few filler words: "là", ":", "số", "sđt").
static BEFORE: LazyLock<Vec<(Regex, Owner)>> = LazyLock::new(|| {
    let filler =
        r"(?:\s*(?:la|là|:|=|-|so|sdt|dt|so dien thoai|dien thoai|phone|number|is|at|:)\s*)*\s*$";
    let me = r"(?:toi|minh|em|tui|tao|chau|con|mk|mik|t|e)";
    let official = OFFICIAL;
    let demonstrative = r"(?:\s+(?:ay|ta|do|nay|kia|ten|[a-z]+\s+[a-z]+)){0,3}";
    let agency = r"(?:co quan|uy ban|ubnd|hdnd|phuong|xa|thi tran|so|phong|bo phan(?: mot cua| tiep nhan)?|mot cua|trung tam|van phong|benh vien|tram y te|truong|cong an|chi cuc|cuc|ban quan ly|ban tiep (?:cong )?dan|tiep (?:cong )?dan|doi|dang uy|mat tran|thanh tra|kho bac|chi nhanh)";
    let rules = [
        // The reporter's own.
        (format!(r"\b(?:cua|so|sdt|zalo|email|mail|stk|tai khoan|bien so|xe)\s+(?:cua\s+)?{me}\b(?:\s+(?:la|ay))?{filler}"), Owner::Reporter),
        (format!(r"\b(?:lien he|lien lac|goi|nhan tin|gui|bao|tim|hoi)\s+(?:lai\s+)?(?:voi\s+|cho\s+|qua\s+)?{me}\b(?:\s+(?:qua|theo|o|tai|bang))?{filler}"), Owner::Reporter),
        (r"\b(?:my|our)\s+(?:own\s+)?(?:\w+\s+){0,2}(?:number|phone|mobile|email|e-mail|address|account|plate|handle|zalo|telegram)\b.*$".to_owned(), Owner::Reporter),
        (r"\b(?:contact|call|reach|text|message|email|write to)\s+(?:me|us)\b.*$".to_owned(), Owner::Reporter),
        // An office's.
        (format!(r"\b(?:duong day nong|hotline|tong dai|may ban|so may ban|fax|dien thoai\s+(?:co quan|van phong|truc ban|ban)|(?:so|sdt|dien thoai|email|mail|hop thu)\s+(?:cua\s+)?{agency}\b(?:\s+[a-z0-9]+){{0,6}}|(?:cua|tai)\s+{agency}\b(?:\s+[a-z0-9]+){{0,6}}).*$"), Owner::Agency),
        (r"\b(?:hotline|helpline|switchboard|office (?:number|phone|line|landline)|the (?:department|office|ward|commune|agency|committee)'s (?:number|phone|line|email|e-mail))\b.*$".to_owned(), Owner::Agency),
        // The official's.
        (format!(r"\b(?:cua|so|sdt|zalo|email|mail|stk|tai khoan|bien so|xe|bien kiem soat)\s+(?:cua\s+)?{official}{demonstrative}{filler}"), Owner::Official),
        (format!(r"\b{official}(?:\s+(?:ay|ta|do|nay|kia))?\s+(?:\w+\s+){{0,3}}(?:dung|xai|goi(?:\s+cho\s+\w+)?\s+(?:tu|bang)|nhan(?:\s+tin)?(?:\s+cho\s+\w+)?(?:\s+(?:tu|bang|qua))?|cho|dua|(?:bao|bat|buoc|ep|yeu cau|doi|keu|nhan|huong dan)(?:\s+\w+){{0,3}}\s+(?:chuyen|gui|nop|dong|dua)(?:\s+\w+){{0,3}}\s+(?:vao|qua|toi|den)|chay|di|lai|co)\s+(?:\w+\s+){{0,3}}?(?:so|sdt|zalo|so dien thoai|tai khoan|stk|xe|bien so|email|mail)?{filler}"), Owner::Official),
        (r"\bchu tai khoan\b.*$".to_owned(), Owner::Official),
        (r"\b(?:his|her|their|the official's|the officer's|the clerk's|the policeman's)\s+(?:own\s+)?(?:\w+\s+){0,2}(?:number|phone|mobile|email|e-mail|account|plate|car|motorbike|handle|zalo)\b.*$".to_owned(), Owner::Official),
        (r"\b(?:he|she|the official|the officer|the clerk)\s+(?:\w+\s+){0,3}(?:used|uses|called (?:me |us )?from|texted (?:me |us )?from|gave|drove|rides|asked (?:me |us )?to (?:transfer|send|pay)(?:\s+\w+){0,4}\s+(?:to|into))\b.*$".to_owned(), Owner::Official),
    ];
    rules
        .into_iter()
        .filter_map(|(re, owner)| Regex::new(&re).ok().map(|r| (r, owner)))
        .collect()
});

/// Folded cues right after an identifier ("0905 000 123 là số của tôi", "… của ông ấy").
static AFTER: LazyLock<Vec<(Regex, Owner)>> = LazyLock::new(|| {
    let rules = [
        (r"^\s*(?:\(|,|-|la|là)?\s*(?:la\s+)?(?:so\s+|sdt\s+|zalo\s+|tai khoan\s+)?(?:rieng\s+)?cua\s+(?:toi|minh|em|tui|chau)\b".to_owned(), Owner::Reporter),
        (r"^\s*(?:\(|,)?\s*(?:is\s+)?(?:mine|my own|my (?:number|phone|account))\b".to_owned(), Owner::Reporter),
        (format!(r"^\s*(?:\(|,|-|la|là)?\s*(?:[a-z]+\s+){{0,2}}?(?:la\s+)?(?:so\s+|sdt\s+|zalo\s+|tai khoan\s+|xe\s+)?(?:rieng\s+)?cua\s+{OFFICIAL}\b"), Owner::Official),
        (r"^\s*(?:\(|,|-)?\s*(?:la\s+)?(?:so\s+)?(?:cua\s+)?(?:duong day nong|hotline|tong dai|may ban|so may ban)\b".to_owned(), Owner::Agency),
        (r"^\s*(?:\(|,|-|la|là)?\s*(?:la\s+)?(?:so\s+|sdt\s+|dien thoai\s+|email\s+)?cua\s+(?:co quan|uy ban|ubnd|phuong|xa|so|phong|bo phan|trung tam|van phong|benh vien|truong|cong an)\b".to_owned(), Owner::Agency),
        (r"^\s*(?:\(|,)?\s*(?:is\s+)?(?:his|her|the official's|the officer's)\b".to_owned(), Owner::Official),
    ];
    rules
        .into_iter()
        .filter_map(|(re, owner)| Regex::new(&re).ok().map(|r| (r, owner)))
        .collect()
});

/// The kinds an official or an office may own.
fn may_belong_to_others(kind: FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::MobilePhone
            | FindingKind::Landline
            | FindingKind::Email
            | FindingKind::BankAccount
            | FindingKind::LicencePlate
            | FindingKind::TelegramHandle
    )
}

/// The part of `text` before `at` in the same sentence, and after `to`, each stopping at another
/// identifier of `others` (so a cue belongs to the nearest identifier only).
fn windows<'a>(text: &'a str, range: &Range<usize>, others: &[Range<usize>]) -> (&'a str, &'a str) {
    let ends_sentence = |c: char| matches!(c, '!' | '?' | '\n' | ';' | '…');
    let mut start = text[..range.start]
        .char_indices()
        .rev()
        .find(|(i, c)| {
            ends_sentence(*c)
                // A full stop followed by a space ends a sentence; inside "0905.000.123" it does not.
                || (*c == '.' && text[i + 1..range.start].starts_with(' '))
        })
        .map_or(0, |(i, c)| i + c.len_utf8());
    let mut end = text[range.end..]
        .char_indices()
        .find(|(i, c)| {
            ends_sentence(*c)
                || (*c == '.'
                    && text[range.end + i + 1..]
                        .chars()
                        .next()
                        .is_none_or(char::is_whitespace))
        })
        .map_or(text.len(), |(i, _)| range.end + i);
    for o in others {
        if o.end <= range.start && o.end > start {
            start = o.end;
        }
        if o.start >= range.end && o.start < end {
            end = o.start;
        }
    }
    // At most about ten words either side.
    let mut before = &text[start..range.start];
    if before.chars().count() > 90 {
        let cut = before.char_indices().rev().nth(89).map_or(0, |(i, _)| i);
        before = &before[cut..];
    }
    let after = &text[range.end..end];
    let after = match after.char_indices().nth(60) {
        Some((i, _)) => &after[..i],
        None => after,
    };
    (before, after)
}

/// Whose the finding at `range` (of `kind`) in `text` is. `others` are the other findings of
/// the same text (their cues are their own).
pub fn owner(
    text: &str,
    kind: FindingKind,
    range: &Range<usize>,
    others: &[Range<usize>],
    hint: FieldHint,
) -> Owner {
    if !may_belong_to_others(kind) {
        return Owner::Reporter;
    }
    let Some(found) = text.get(range.clone()) else {
        return Owner::Reporter;
    };
    let (before, after) = windows(text, range, others);
    let before = fold_diacritics(before).to_lowercase();
    let after = fold_diacritics(after).to_lowercase();
    // The nearest cue before, by how far its match ends from the identifier.
    let mut best: Option<(usize, Owner)> = None;
    for (re, who) in BEFORE.iter() {
        // The latest match of the rule: where the cue starts, counted back from the identifier.
        if let Some(m) = re.find_iter(&before).last() {
            let distance = before.len() - m.start();
            let better = match best {
                None => true,
                Some((d, w)) => {
                    distance < d
                        || (distance == d && *who == Owner::Reporter && w != Owner::Reporter)
                }
            };
            if better {
                best = Some((distance, *who));
            }
        }
    }
    let before_owner = best.map(|(_, w)| w);
    let after_owner = AFTER
        .iter()
        .find(|(re, _)| re.is_match(&after))
        .map(|(_, w)| *w);
    let email_owner = (kind == FindingKind::Email
        && fold_diacritics(found)
            .to_lowercase()
            .trim_end_matches('.')
            .ends_with(".gov.vn"))
    .then_some(Owner::Agency);
    // Words right after ("… là số của tôi") speak most directly; then the nearest words before;
    // then what the address itself says; then the field.
    after_owner
        .or(before_owner)
        .or(email_owner)
        .unwrap_or(match hint {
            FieldHint::None => Owner::Reporter,
            FieldHint::Officials => Owner::Official,
            FieldHint::Office => Owner::Agency,
        })
}

/// [`owner`] for every finding of one text, in order.
pub fn owners(text: &str, findings: &[super::Finding], hint: FieldHint) -> Vec<Owner> {
    let ranges: Vec<Range<usize>> = findings.iter().map(|f| f.range.clone()).collect();
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let others: Vec<Range<usize>> = ranges
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, r)| r.clone())
                .collect();
            owner(text, f.kind, &f.range, &others, hint)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner_of(text: &str) -> Vec<Owner> {
        owners(text, &super::super::detect(text), FieldHint::None)
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(BEFORE.len(), 11);
        assert_eq!(AFTER.len(), 6);
    }

    #[test]
    fn the_reporters_own_numbers() {
        for text in [
            "Số của tôi là 0905 000 123, mong Thanh tra gọi lại.",
            "Cán bộ đòi tiền. Liên hệ tôi qua 0912.000.456.",
            "so cua minh la 0935000789 nha",
            "0905 000 123 là số của tôi.",
            "Call me at 0905 000 123.",
            "Gọi 0905 000 123.",
        ] {
            assert_eq!(owner_of(text), vec![Owner::Reporter], "{text}");
        }
    }

    #[test]
    fn the_officials_numbers() {
        for text in [
            "Số điện thoại của cán bộ địa chính là 0914 000 777, ông ấy gọi cho từng hộ.",
            "Cán bộ đó dùng zalo 0935 000 888 để nhắn bắt chuyển tiền.",
            "Ông ta bảo chuyển khoản vào STK 0071000123456 Vietcombank.",
            "Xe của ông ấy biển số 79A-123.45 đậu trước nhà.",
            "He called me from 0914 000 777 to ask for money.",
            "The official's zalo is 0935 000 888.",
        ] {
            assert_eq!(owner_of(text), vec![Owner::Official], "{text}");
        }
    }

    #[test]
    fn an_offices_numbers() {
        for text in [
            "Tôi đã gọi đường dây nóng 0258 3822 111 nhưng không ai nghe.",
            "Điện thoại cơ quan 0258 3822 111.",
            "Tôi gửi thư tới tiepdan@khanhhoa.gov.vn mà không ai trả lời.",
            "Số điện thoại của UBND phường Vĩnh Hải là 0258 3831 234.",
        ] {
            assert_eq!(owner_of(text), vec![Owner::Agency], "{text}");
        }
    }

    #[test]
    fn each_number_has_its_own_cue() {
        let text = "Ông ấy dùng số 0914 000 777 để gọi, còn số của tôi là 0905 000 123.";
        assert_eq!(owner_of(text), vec![Owner::Official, Owner::Reporter]);
    }

    #[test]
    fn the_field_is_a_cue_and_identity_numbers_are_always_the_reporters() {
        let text = "ông Nguyễn Văn Tư, 0914 000 777";
        let f = super::super::detect(text);
        assert_eq!(
            owners(text, &f, FieldHint::Officials),
            vec![Owner::Official]
        );
        let text = "số điện thoại của tôi 0914 000 777";
        let f = super::super::detect(text);
        assert_eq!(
            owners(text, &f, FieldHint::Officials),
            vec![Owner::Reporter]
        );
        let text = "CCCD của ông ấy là 079200001234.";
        assert_eq!(owner_of(text), vec![Owner::Reporter]);
    }
}
