//! Context words that say what a nearby number is ("STK", "CCCD", "mã số thuế", "số tiền" …).
//!
//! A bare 10-digit number may be a phone, a tax code or a social-insurance number; only the
//! words before it tell. This module finds every context word once per text (one regex pass on
//! the folded text) and answers "what is the nearest context word before/after this number?".
//!
//! Invariants: a context word only counts when the gap between it and the number is short, holds
//! no digits (so it does not leak past an earlier number) and does not cross a sentence end.

use std::sync::LazyLock;

use regex::Regex;

/// What a context word says about the number next to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// A bank-account word ("STK", "số tài khoản", a bank name).
    Bank,
    /// An ambiguous account word ("tài khoản", "CK", "account"): a well-formed phone number wins.
    BankWeak,
    /// "CCCD", "CMND", "căn cước", "chứng minh", "citizen ID" …
    CitizenId,
    /// "hộ chiếu", "passport".
    Passport,
    /// "MST", "mã số thuế", "tax code".
    Tax,
    /// "BHXH", "bảo hiểm xã hội", "social insurance".
    SocialInsurance,
    /// "SĐT", "điện thoại", "zalo", "phone" …
    Phone,
    /// "biển số", "BKS", "plate" …
    Plate,
    /// Money, document and case-number words: the number is not a personal identifier.
    Negative,
    /// A money word that is also a Vietnamese name once diacritics are folded away
    /// ("tiền"/Tiến/Tiên, "phí"/Phí): negative only right next to the number
    /// ("phí 200000", "tiền: 5000000"), never across a comma or other words, so
    /// "Nguyễn Văn Tiến, 079200000123" is still read as a name followed by an ID.
    NegativeAdjacent,
}

/// One context word found in the folded text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) ctx: Ctx,
}

/// Longest alternatives first inside each group: the regex is leftmost-first.
/// Capture-group names of [`CONTEXT_RE`] and what each means.
const GROUPS: [(&str, Ctx); 10] = [
    ("neg", Ctx::Negative),
    ("negnear", Ctx::NegativeAdjacent),
    ("bank", Ctx::Bank),
    ("bankweak", Ctx::BankWeak),
    ("cid", Ctx::CitizenId),
    ("passport", Ctx::Passport),
    ("tax", Ctx::Tax),
    ("si", Ctx::SocialInsurance),
    ("phone", Ctx::Phone),
    ("plate", Ctx::Plate),
];

#[allow(clippy::expect_used)]
static CONTEXT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(?:",
        r"(?P<neg>goi\s+thau|goi\s+cuoc|so\s+tien|khoan\s+tien|tien\s+(?:mat|phat|coc|thue|lai|hoi\s+lo|boi\s+thuong|den\s+bu)",
        r"|le\s+phi|chi\s+phi|muc\s+phi|phi\s+dich\s+vu|gia\s+tri|gia\s+tien|don\s+gia|vnd|usd",
        r"|ma\s+ho\s+so|so\s+ho\s+so|ma\s+so\s+ho\s+so|ma\s+don|ma\s+bien\s+nhan|bien\s+nhan",
        r"|ma\s+tra\s+cuu|ma\s+vu\s+viec|ma\s+phan\s+anh|ma\s+van\s+don|van\s+ban\s+so|so\s+van\s+ban",
        r"|quyet\s+dinh\s+so|cong\s+van\s+so|so\s+hieu|hoa\s+don|so\s+luong|dan\s+so",
        r"|ma\s+giao\s+dich|giao\s+dich|ma\s+gd|ma\s+don\s+hang|ma\s+hoa\s+don|so\s+seri|seri|serial|imei",
        r"|so\s+phieu|phieu\s+thu|transaction|amount|price|fee|receipt|invoice|case|order|reference|ref)",
        // Money words that are also names (Tiến, Tiên, Phí): see Ctx::NegativeAdjacent.
        // ("Đồng" follows an amount, where the unit check sees it; before a number "dong"
        // is far more often the name Đông, or "đóng", so it is not a context word.)
        r"|(?P<negnear>tien|phi)",
        r"|(?P<bank>so\s+tai\s+khoan|so\s+tk|stk|tai\s+khoan\s+ngan\s+hang|tk\s+ngan\s+hang|ngan\s+hang",
        r"|bank\s+account(?:\s+(?:number|no))?|account\s+(?:number|no)|acct|a/c|iban",
        r"|vietcombank|vcb|vietinbank|bidv|agribank|techcombank|tcb|mb\s?bank|mb|acb|sacombank",
        r"|tp\s?bank|vp\s?bank|shb|hd\s?bank|vib|ocb|msb|seabank|eximbank|lpbank|lienvietpostbank",
        r"|abbank|pvcombank|bac\s+a\s+bank|nam\s+a\s+bank|viet\s?a\s?bank|kienlongbank|oceanbank",
        r"|scb|shinhan(?:\s?bank)?|hsbc|vietbank|baoviet\s?bank|dongabank|bank)",
        r"|(?P<bankweak>tai\s+khoan|tk|chuyen\s+khoan|ck|account)",
        r"|(?P<cid>can\s+cuoc(?:\s+cong\s+dan)?|cccd|cmnd|cmt|chung\s+minh(?:\s+nhan\s+dan|\s+thu)?",
        r"|so\s+dinh\s+danh(?:\s+ca\s+nhan)?|ma\s+dinh\s+danh|citizen\s+id(?:\s+(?:card|number|no))?",
        r"|national\s+id(?:\s+(?:card|number|no))?|identity\s+card(?:\s+(?:number|no))?|id\s+card",
        r"|id\s+(?:number|no))",
        r"|(?P<passport>ho\s+chieu|passport(?:\s+(?:number|no))?)",
        r"|(?P<tax>ma\s+so\s+thue(?:\s+ca\s+nhan)?|mst|tax\s+(?:code|id|number))",
        r"|(?P<si>ma\s+so\s+bhxh|so\s+bhxh|ma\s+bhxh|bhxh|bao\s+hiem\s+xa\s+hoi",
        r"|(?:ma\s+)?so\s+(?:so\s+)?bao\s+hiem",
        r"|social\s+insurance(?:\s+(?:number|no|code))?)",
        r"|(?P<phone>so\s+dien\s+thoai|dien\s+thoai|so\s+dt|sdt|dtdd|dt|di\s+dong|hotline|zalo",
        r"|phone(?:\s+number)?|tel|mobile|cell|whatsapp|viber|lien\s+he|goi)",
        r"|(?P<plate>bien\s+so(?:\s+xe)?|bien\s+kiem\s+soat|bks|bsx|licen[cs]e\s+plate|plate(?:\s+number)?)",
        // A context word may be glued to its number ("SĐT0905…"): the trailing digit is
        // consumed here but lies outside the named group.
        r")(?:\b|[0-9])",
    ))
    // A constant pattern: it compiles on every run or on none, and `regex_compiles` runs it.
    .expect("CONTEXT_RE is a valid constant pattern")
});

/// Maximum bytes of folded text between a context word and its number.
const MAX_GAP_BEFORE: usize = 40;
/// After-context is only a fallback ("0071000123456 Vietcombank"), so it must be closer.
const MAX_GAP_AFTER: usize = 24;

/// All context words of a folded text, in order.
pub(crate) struct Contexts {
    hits: Vec<Hit>,
}

impl Contexts {
    /// Scans the folded text once.
    pub(crate) fn scan(folded: &str) -> Self {
        let mut hits = Vec::new();
        for caps in CONTEXT_RE.captures_iter(folded) {
            let Some((ctx, m)) = GROUPS
                .iter()
                .find_map(|&(name, ctx)| caps.name(name).map(|m| (ctx, m)))
            else {
                continue;
            };
            if ctx == Ctx::BankWeak && is_social_account(folded, m.end()) {
                // "tài khoản Zalo/Facebook": an app account, not a bank account.
                continue;
            }
            hits.push(Hit {
                start: m.start(),
                end: m.end(),
                ctx,
            });
        }
        Contexts { hits }
    }

    /// The nearest context word ending before `pos`, if the gap qualifies. A money word that
    /// is also a name counts only right next to the number; otherwise the word before it is
    /// looked at instead.
    pub(crate) fn before(&self, folded: &str, pos: usize) -> Option<Ctx> {
        let idx = self.hits.partition_point(|h| h.end <= pos);
        for hit in self.hits[..idx].iter().rev() {
            let gap = folded.get(hit.end..pos)?;
            if gap.len() > MAX_GAP_BEFORE || !gap_ok(gap) {
                return None;
            }
            if hit.ctx == Ctx::NegativeAdjacent {
                if adjacent(gap) {
                    return Some(Ctx::Negative);
                }
                continue;
            }
            return Some(hit.ctx);
        }
        None
    }

    /// The nearest context word starting after `pos`, if the gap qualifies.
    pub(crate) fn after(&self, folded: &str, pos: usize) -> Option<Ctx> {
        let idx = self.hits.partition_point(|h| h.start < pos);
        let hit = self.hits.get(idx)?;
        let gap = folded.get(pos..hit.start)?;
        (gap.len() <= MAX_GAP_AFTER && gap_ok(gap)).then_some(match hit.ctx {
            Ctx::NegativeAdjacent => Ctx::Negative,
            ctx => ctx,
        })
    }

    /// Whether a context word other than a negative one ends exactly at `pos`.
    pub(crate) fn ends_at(&self, pos: usize) -> bool {
        let idx = self.hits.partition_point(|h| h.end < pos);
        self.hits.get(idx).is_some_and(|h| {
            h.end == pos && !matches!(h.ctx, Ctx::Negative | Ctx::NegativeAdjacent)
        })
    }

    /// Whether any context word of kind `ctx` ends within `window` bytes before `pos`
    /// (used by the regex detectors for plates and passports, which tolerate digits between).
    pub(crate) fn near_before(&self, pos: usize, window: usize, ctx: Ctx) -> bool {
        let idx = self.hits.partition_point(|h| h.end <= pos);
        self.hits[..idx]
            .iter()
            .rev()
            .take_while(|h| pos - h.end <= window)
            .any(|h| h.ctx == ctx)
    }
}

/// A gap may not contain digits or a sentence end; a dot glued to a word ("Tel.") is fine.
fn gap_ok(gap: &str) -> bool {
    let b = gap.as_bytes();
    !b.iter().enumerate().any(|(i, &c)| {
        c.is_ascii_digit()
            || matches!(c, b'\n' | b'!' | b'?' | b';')
            || (c == b'.' && b.get(i + 1).is_some_and(|n| n.is_ascii_whitespace()))
    })
}

/// "Right next to": at most a colon and a couple of spaces between word and number.
fn adjacent(gap: &str) -> bool {
    gap.len() <= 3 && gap.bytes().all(|b| matches!(b, b' ' | b'\t' | b':'))
}

fn is_social_account(folded: &str, end: usize) -> bool {
    let rest = folded.get(end..).unwrap_or("").trim_start();
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    matches!(
        word.as_str(),
        "zalo" | "facebook" | "fb" | "telegram" | "tiktok" | "gmail" | "email" | "mail"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_compiles() {
        LazyLock::force(&CONTEXT_RE);
    }

    #[test]
    fn nearest_context_wins() {
        let t = "CCCD 079200000123, STK: 0071000000123";
        let c = Contexts::scan(t);
        let p1 = t.find("079").expect("present");
        let p2 = t.find("0071").expect("present");
        assert_eq!(c.before(t, p1), Some(Ctx::CitizenId));
        assert_eq!(c.before(t, p2), Some(Ctx::Bank));
    }

    #[test]
    fn digits_block_context() {
        let t = "CCCD 079200000123 va 0905000123";
        let c = Contexts::scan(t);
        let p = t.find("0905").expect("present");
        assert_eq!(c.before(t, p), None);
    }

    #[test]
    fn money_words_that_are_names_count_only_next_to_the_number() {
        for (t, want) in [
            ("phi 225000123", Some(Ctx::Negative)),
            ("tien: 225000123", Some(Ctx::Negative)),
            ("nguyen van tien, 079200000123", None),
            ("pham van dong 058190000987", None),
            ("le thi phi 225000123", Some(Ctx::Negative)),
            ("cccd cua ong tien, 079200000123", Some(Ctx::CitizenId)),
            ("tien mat 225000123", Some(Ctx::Negative)),
        ] {
            let c = Contexts::scan(t);
            let p = t.find(|ch: char| ch.is_ascii_digit()).expect("a number");
            assert_eq!(c.before(t, p), want, "{t}");
        }
    }

    #[test]
    fn zalo_account_is_not_bank() {
        let t = "tai khoan Zalo 0905000123";
        let c = Contexts::scan(t);
        let p = t.find("0905").expect("present");
        assert_eq!(c.before(t, p), Some(Ctx::Phone));
    }
}
