//! De-identification of report text: find what identifies the reporter, then redact it.
//!
//! A reporter's free text (Vietnamese with or without diacritics, or English) is scanned by
//! [`detect`] for phone numbers, e-mail addresses, ID/passport/bank/tax/BHXH numbers, licence
//! plates, Telegram handles and self-identifying phrases ("tôi là Nguyễn Văn Đức"). The bot shows
//! each [`Finding`] and the reporter decides to remove (default) or keep it; [`redact`] then
//! builds the text that leaves the device, with placeholders like "[đã xóa: số điện thoại]".
//!
//! How: the text is folded (`fold`: diacritics dropped, dashes/spaces/full-width digits
//! unified, case kept) with a byte map back to the original; the detectors (`patterns`,
//! `numbers`, `selfid`, helped by the context words of `context`) run on the folded text,
//! and their spans are mapped back and de-overlapped here.
//!
//! Invariants:
//! - Every [`Finding::range`] lies within the original text, on `char` boundaries; findings are
//!   sorted by start and never overlap.
//! - [`redact`] with every finding kept returns the input unchanged; removed spans are replaced
//!   whole, never partially.
//! - Nothing here logs or prints text: the input is the reporter's message.
//! - Regexes are compiled once (`LazyLock`) and all work is linear in the text length.

mod context;
mod fold;
mod numbers;
mod owner;
mod patterns;
mod selfid;
mod workplace;

use std::ops::Range;

pub use fold::fold_diacritics;
pub use owner::{FieldHint, Owner, owner, owners};

/// What kind of identifier a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A Vietnamese mobile number (10 digits, 03x/05x/07x/08x/09x; retired 11-digit 01xx) or a
    /// foreign number written with "+".
    MobilePhone,
    /// A Vietnamese landline (02xx area codes, e.g. 0258 for Khánh Hòa).
    Landline,
    /// An e-mail address, including obfuscated forms such as `an [at] example [dot] com`.
    Email,
    /// A CCCD (12 digits) or an old CMND (9 digits).
    CitizenId,
    /// A passport number (a letter and 7 digits).
    Passport,
    /// A bank account number next to a bank word ("STK", "Vietcombank" …).
    BankAccount,
    /// A tax code (MST: 10 digits, or 10-3 for branches).
    TaxCode,
    /// A social-insurance (BHXH) number: 10 digits.
    SocialInsurance,
    /// A Vietnamese licence plate ("79A-123.45").
    LicencePlate,
    /// A Telegram @handle or t.me link.
    TelegramHandle,
    /// A phrase in which the reporter names or locates themselves ("tôi là …", "my name is …",
    /// "nhà tôi ở số …").
    SelfIdentification,
}

impl FindingKind {
    /// Every kind, in declaration order.
    pub const ALL: [FindingKind; 11] = [
        FindingKind::MobilePhone,
        FindingKind::Landline,
        FindingKind::Email,
        FindingKind::CitizenId,
        FindingKind::Passport,
        FindingKind::BankAccount,
        FindingKind::TaxCode,
        FindingKind::SocialInsurance,
        FindingKind::LicencePlate,
        FindingKind::TelegramHandle,
        FindingKind::SelfIdentification,
    ];

    /// Vietnamese label, as shown to the reporter and inside placeholders.
    pub fn label_vi(self) -> &'static str {
        match self {
            FindingKind::MobilePhone => "số điện thoại",
            FindingKind::Landline => "số điện thoại bàn",
            FindingKind::Email => "email",
            FindingKind::CitizenId => "số CCCD/CMND",
            FindingKind::Passport => "số hộ chiếu",
            FindingKind::BankAccount => "số tài khoản ngân hàng",
            FindingKind::TaxCode => "mã số thuế",
            FindingKind::SocialInsurance => "mã số BHXH",
            FindingKind::LicencePlate => "biển số xe",
            FindingKind::TelegramHandle => "tài khoản Telegram",
            FindingKind::SelfIdentification => "thông tin tự giới thiệu",
        }
    }

    /// English label, as shown to the reporter and inside placeholders.
    pub fn label_en(self) -> &'static str {
        match self {
            FindingKind::MobilePhone => "phone number",
            FindingKind::Landline => "landline number",
            FindingKind::Email => "email address",
            FindingKind::CitizenId => "citizen ID number",
            FindingKind::Passport => "passport number",
            FindingKind::BankAccount => "bank account number",
            FindingKind::TaxCode => "tax code",
            FindingKind::SocialInsurance => "social insurance number",
            FindingKind::LicencePlate => "licence plate",
            FindingKind::TelegramHandle => "Telegram account",
            FindingKind::SelfIdentification => "self-identification",
        }
    }

    /// Stable snake_case code for storage and the test corpus; never change an existing one.
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::MobilePhone => "mobile_phone",
            FindingKind::Landline => "landline",
            FindingKind::Email => "email",
            FindingKind::CitizenId => "citizen_id",
            FindingKind::Passport => "passport",
            FindingKind::BankAccount => "bank_account",
            FindingKind::TaxCode => "tax_code",
            FindingKind::SocialInsurance => "social_insurance",
            FindingKind::LicencePlate => "licence_plate",
            FindingKind::TelegramHandle => "telegram_handle",
            FindingKind::SelfIdentification => "self_identification",
        }
    }

    /// The kind whose [`code`](Self::code) is `code`.
    pub fn from_code(code: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The label in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.label_vi(),
            Lang::En => self.label_en(),
        }
    }

    /// Which finding wins when two of equal length overlap (lower wins): the more specific,
    /// better-delimited shapes first.
    fn rank(self) -> u8 {
        match self {
            FindingKind::Email => 0,
            FindingKind::TelegramHandle => 1,
            FindingKind::Passport => 2,
            FindingKind::LicencePlate => 3,
            FindingKind::MobilePhone | FindingKind::Landline => 4,
            FindingKind::CitizenId
            | FindingKind::BankAccount
            | FindingKind::TaxCode
            | FindingKind::SocialInsurance => 5,
            FindingKind::SelfIdentification => 9,
        }
    }
}

/// One identifier found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// Byte offsets into the original text, on `char` boundaries.
    pub range: Range<usize>,
}

impl Finding {
    /// The finding's text in `original` (empty if `original` is not the text it was found in).
    pub fn text<'a>(&self, original: &'a str) -> &'a str {
        original.get(self.range.clone()).unwrap_or("")
    }
}

/// Language of the placeholders written by [`redact`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Vietnamese: "[đã xóa: số điện thoại]".
    Vi,
    /// English: "[removed: phone number]".
    En,
}

/// The placeholder that replaces a removed finding of `kind`.
pub fn placeholder(kind: FindingKind, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("[đã xóa: {}]", kind.label_vi()),
        Lang::En => format!("[removed: {}]", kind.label_en()),
    }
}

/// Finds the reporter's identifiers in `text`: sorted by start, non-overlapping, on `char`
/// boundaries. Overlaps are resolved in favour of the longer finding, then the more specific
/// kind; self-identification phrases give way to any concrete identifier.
pub fn detect(text: &str) -> Vec<Finding> {
    if text.is_empty() {
        return Vec::new();
    }
    let folded = fold::Folded::new(text);
    let ctx = context::Contexts::scan(&folded.text);
    let mut concrete = Vec::new();
    patterns::detect(&folded.text, &ctx, &mut concrete);
    numbers::detect(&folded.text, &ctx, &mut concrete);
    let mut phrases = Vec::new();
    selfid::detect(text, &folded, &concrete, &mut phrases);

    let to_findings = |v: Vec<(FindingKind, Range<usize>)>| -> Vec<Finding> {
        v.into_iter()
            .filter_map(|(kind, r)| folded.to_original(r).map(|range| Finding { kind, range }))
            .collect()
    };
    let mut chosen = Vec::new();
    let mut concrete = to_findings(concrete);
    concrete.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.range.len()),
            f.kind.rank(),
            f.range.start,
        )
    });
    for f in concrete.into_iter().chain(to_findings(phrases)) {
        if !chosen
            .iter()
            .any(|c: &Finding| overlaps(&c.range, &f.range))
        {
            chosen.push(f);
        }
    }
    chosen.sort_by_key(|f| f.range.start);
    chosen
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Replaces each finding whose `remove` flag is set with its placeholder in `lang`; kept
/// findings stay verbatim.
///
/// A finding without a flag (`remove` shorter than `findings`) is removed: when in doubt, the
/// safe choice. Findings may come in any order; out-of-bounds ends are clamped and ranges are
/// widened to `char` boundaries; overlapping removed findings merge into one placeholder (the
/// earliest one's kind). With nothing removed the output equals `text`.
pub fn redact(text: &str, findings: &[Finding], remove: &[bool], lang: Lang) -> String {
    let mut removed: Vec<(Range<usize>, FindingKind)> = findings
        .iter()
        .enumerate()
        .filter(|(i, _)| remove.get(*i).copied().unwrap_or(true))
        .filter_map(|(_, f)| {
            let range = widen_to_char_boundaries(text, f.range.clone())?;
            Some((range, f.kind))
        })
        .collect();
    removed.sort_by_key(|(r, _)| (r.start, r.end));

    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    let mut iter = removed.into_iter().peekable();
    while let Some((mut range, kind)) = iter.next() {
        // Merge every later removal that overlaps this one.
        while let Some((next, _)) = iter.peek() {
            if next.start < range.end {
                range.end = range.end.max(next.end);
                iter.next();
            } else {
                break;
            }
        }
        let start = range.start.max(cursor);
        out.push_str(&text[cursor..start]);
        out.push_str(&placeholder(kind, lang));
        cursor = range.end.max(cursor);
    }
    out.push_str(&text[cursor..]);
    out
}

/// Clamps `r` into `text` and widens it to `char` boundaries; `None` if it ends up empty.
fn widen_to_char_boundaries(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let mut start = r.start.min(text.len());
    let mut end = r.end.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    (start < end).then_some(start..end)
}

#[cfg(test)]
mod tests;
