//! Self-identification: "tôi là Nguyễn Văn Đức", "tên tôi là …", "nhà tôi ở số …",
//! "số điện thoại của tôi là …", "my name is …", "I'm …".
//!
//! The rule, checked against the corpus in `tests/data/deid/corpus.jsonl`:
//! - **Explicit name phrases** ("tên tôi là", "tôi tên là", "họ và tên:", "người làm đơn:",
//!   "chủ tài khoản:", "my name is") are always followed by a name, so up to five following
//!   words are taken, capitalised or not, stopping at punctuation or a function word.
//! - **Ambiguous phrases** ("tôi/em/mình là", "I am", "I'm") introduce a name only when the next
//!   word is capitalised and not a role or adjective ("Tôi là Người dân", "I am Vietnamese"), or,
//!   when typed all lowercase, when it is a common Vietnamese surname followed by two more words
//!   ("toi la nguyen van an"). So "tôi là người dân", "I am a farmer", "I am writing to report"
//!   are not findings.
//! - A petition opening "Tôi, Nguyễn Văn An, …" needs two capitalised words at a sentence start.
//! - **Contact phrases** ("số điện thoại của tôi là", "my email is") yield a finding only when
//!   what follows is *not* already caught by a concrete detector: "sđt của tôi là 0905 000 123"
//!   gives one mobile-phone finding, while "sđt của tôi là không chín không năm …" (spelled out)
//!   is covered to the end of the clause.
//! - **Role and place** ("tôi là kế toán trường …", "mình bán hàng ở chợ …", "I work at the …
//!   hospital"): a job or trade tied to a named workplace or place, to the clause end
//!   ([`super::workplace`]); a role alone is not a finding.
//! - **Address phrases** ("nhà tôi ở số …", "tôi sống ở …", "my address is …") cover the clause,
//!   across commas that continue an address ("…, phường Vĩnh Hải, Nha Trang"), at most 120 bytes.
//!
//! Invariants: spans start at the phrase and never overlap a concrete finding (they are cut
//! before it, or dropped when nothing but filler would remain).

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::FindingKind;
use super::fold::Folded;
use super::workplace;

#[allow(clippy::expect_used)]
static TRIGGER: LazyLock<Regex> = LazyLock::new(|| {
    // With the informal spellings people type ("mk", "mik", "e", "t").
    let me = r"(?:toi|tui|em|minh|chau|mk|mik|e|t)";
    let pattern = [
        r"(?i)\b(?:",
        // Contact data introduced by the reporter.
        r"(?P<contact>(?:so\s+dien\s+thoai|so\s+dt|sdt|dien\s+thoai|so\s+zalo|zalo|e-?mail|dia\s+chi\s+e-?mail|so)",
        r"\s+(?:rieng\s+)?(?:cua\s+)?ME(?:\s+la\b|\s*:)",
        r"|lien\s+he\s+(?:voi\s+)?ME\s+(?:qua|theo|tai)(?:\s+so)?(?:\s+dien\s+thoai)?(?:\s+la\b|\s*:|\b)",
        r"|goi\s+(?:cho\s+)?ME\s+(?:qua|theo|tai|o)(?:\s+so)?(?:\s+dien\s+thoai)?(?:\s*:|\b)",
        r"|my\s+(?:phone|mobile|cell|telephone|contact)(?:\s+number)?\s+is\b",
        r"|my\s+(?:number|zalo|telegram)\s+is\b|my\s+e-?mail(?:\s+address)?\s+is\b",
        r"|(?:call|reach|contact|text)\s+me\s+(?:at|on)\b)",
        // Home address.
        r"|(?P<address>nha\s+(?:cua\s+)?ME\s+(?:o|tai|nam\s+o|nam\s+tai|so)\b",
        r"|ME\s+(?:dang\s+)?(?:o\s+(?:tai\s+)?(?:so|to|thon|hem|kiet|ngo|khom|ap|khu\s+pho|chung\s+cu)",
        r"|song\s+o|song\s+tai|cu\s+tru\s+(?:o|tai)",
        r"|thuong\s+tru\s+(?:o|tai)|tam\s+tru\s+(?:o|tai))\b",
        r"|dia\s+chi\s+(?:nha\s+)?(?:cua\s+)?ME(?:\s+la\b|\s*:|\b)",
        r"|my\s+(?:home\s+|house\s+)?address\s+is\b|i\s+live\s+(?:at|on|in)\b",
        r"|my\s+(?:house|home)\s+is\s+(?:at|on|in)\b)",
        // "Tôi ở 45 Nguyễn Trãi": a house number without "số" (the word after it is checked:
        // "tôi ở 2 năm" is a stay, not an address).
        r"|(?P<addrnum>ME\s+(?:dang\s+)?o\s+(?:tai\s+)?\d+[a-z]?(?:/\d+[a-z]?)*\s+[a-z]+)",
        // Phrases that are always followed by a name.
        r"|(?P<explicit>ten\s+(?:cua\s+)?ME(?:\s+la\b|\s*:)|ME\s+ten(?:\s+la\b|\s*:|\b)",
        r"|ho\s+(?:va\s+)?ten(?:\s+(?:cua\s+)?ME)?(?:\s+la\b|\s*:)",
        r"|nguoi\s+(?:lam|viet|gui|dung)\s+don(?:\s+la\b|\s*:)",
        r"|nguoi\s+(?:to\s+cao|phan\s+anh|khieu\s+nai|bao\s+tin)(?:\s+la\b|\s*:)",
        r"|(?:ten\s+)?chu\s+(?:tai\s+khoan|tk)(?:\s+la\b|\s*:)|ten\s+(?:tai\s+khoan|tk)(?:\s+la\b|\s*:)|ctk\s*:|ky\s+ten\s*:",
        r"|my\s+(?:full\s+)?name\s+is\b|my\s+name's\b|account\s+(?:name|holder)(?:\s+is\b|\s*:))",
        // "Tôi, Nguyễn Văn An, …" (petition style).
        r"|(?P<petition>toi\s*,)",
        // A job or a trade, which names the reporter when tied to a place ([`workplace`]).
        r"|(?P<role>ME\s+(?:hien\s+)?(?:dang\s+|da\s+)?(?:lam\s+viec|cong\s+tac|lam|ban|kinh\s+doanh|day|nuoi|chay)",
        r"|i\s+(?:work|teach|run|own|manage|sell|drive))\b",
        // Phrases that may or may not introduce a name.
        r"|(?P<ambig>(?:xin\s+tu\s+gioi\s+thieu(?:\s+ME\s+la)?|ME\s+(?:chinh\s+)?la|i\s+am|i'm)\b)",
        r")",
    ]
    .concat()
    .replace("ME", me);
    // A constant pattern: it compiles on every run or on none; `trigger_compiles` runs it.
    Regex::new(&pattern).expect("TRIGGER is a valid constant pattern")
});

#[derive(Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Contact,
    Address,
    Explicit,
    Petition,
    Role,
    Ambiguous,
}

/// Function words that end a name typed in lowercase (with diacritics: unambiguous).
#[rustfmt::skip]
const STOP_VI: &[&str] = &[
    "và", "ở", "là", "của", "sinh", "hiện", "đang", "tại", "nhà", "quê", "sống", "làm", "có",
    "thì", "đã", "bị", "được", "không", "muốn", "xin", "số", "năm", "tuổi", "từ", "để", "với",
    "trong", "đến", "về", "người", "cũng", "rất", "nhưng", "mà", "vì", "hoặc", "hay", "ạ", "nhé",
    "đây", "này", "ấy", "thường", "trú", "cư", "gửi", "viết", "điện", "thoại", "email", "sđt",
];
/// Function words that end a name typed without diacritics: only those that are not also
/// common name syllables (so not "nam", "minh", "tai", "thi", "lam", "an", "a").
#[rustfmt::skip]
const STOP_ASCII: &[&str] = &[
    "va", "o", "la", "cua", "sinh", "que", "song", "co", "da", "bi", "duoc", "khong", "muon",
    "xin", "so", "tuoi", "de", "voi", "trong", "den", "ve", "nguoi", "cung", "rat", "nhung", "ma",
    "vi", "hoac", "hay", "nhe", "day", "nay", "ay", "thuong", "tru", "cu", "gui", "viet", "dien",
    "thoai", "email", "sdt", "toi", "tui", "nha", "and", "from", "i", "live", "am", "is", "was",
    "the", "at", "in", "on", "of", "my", "phone", "born", "age", "aged", "year", "years", "who",
    "living", "working", "but", "or", "with", "here",
];
/// Capitalised first words that describe a role, not a name ("Tôi là Người dân").
#[rustfmt::skip]
const ROLE_VI: &[&str] = &[
    "người", "công", "cán", "đảng", "chủ", "phó", "trưởng", "giám", "giáo", "bác", "sinh", "học",
    "nhân", "nông", "thương", "cựu", "vợ", "chồng", "con", "mẹ", "bố", "cha", "một", "nạn", "thợ",
    "kỹ", "việt", "hội", "đại", "phụ", "hưu", "tiểu", "quận", "phường", "xã", "thôn", "tỉnh",
    "khách", "đồng", "chính", "cư", "hộ", "lái", "kế", "bảo", "dược", "luật", "nhà", "doanh",
    "kinh", "buôn", "chiến", "bộ", "đội", "đoàn", "thành", "cháu", "em", "anh", "chị", "giảng",
    "điều", "y", "bí",
];
/// The same for words typed without diacritics, minus those that are also surnames or given
/// names ("truong" is Trương, "chu" is Chu, "thanh" is Thành, "doan" is Đoàn).
#[rustfmt::skip]
const ROLE_ASCII: &[&str] = &[
    "nguoi", "cong", "can", "giam", "giao", "bac", "hoc", "nhan", "nong", "cuu", "chong", "con",
    "me", "bo", "cha", "mot", "nan", "ky", "viet", "hoi", "dai", "phu", "huu", "tieu", "khach",
    "cu", "ke", "bao", "duoc", "luat", "nha", "doanh", "kinh", "buon", "chien", "doi", "giang",
    "dieu", "y", "bi", "a", "the", "not", "writing", "here", "from", "in", "at", "on", "very",
    "so", "also", "just", "going", "trying", "sorry", "afraid", "worried", "calling", "reporting",
    "sure", "ok", "okay", "vietnamese", "american", "english", "catholic", "buddhist", "christian",
    "muslim", "one", "living", "working", "currently", "still", "only", "really", "scared", "glad",
    "happy", "responsible", "aware", "your", "his", "her", "their", "resident", "citizen", "local",
    "retired", "unemployed", "married", "single", "innocent", "afraid", "concerned", "contacting",
    "submitting", "filing", "reaching", "hoping", "asking",
];
/// Abbreviations that are never part of a personal name.
#[rustfmt::skip]
const ACRONYMS: &[&str] = &[
    "ubnd", "hdnd", "ca", "cand", "ubmttq", "tp", "tx", "tt", "bhxh", "cccd", "cmnd", "sdt", "stk",
    "mst", "vn", "vnd", "usd", "id", "ok", "qd", "nd", "cp", "ttr", "dt", "tl", "kh",
];
/// Vietnamese surnames, for names typed all in lowercase after an ambiguous phrase. Surnames
/// that are everyday words once folded ("Đỗ"/"do", "Hồ"/"ho", "Tô"/"to", "Hà"/"ha") are left out.
#[rustfmt::skip]
const SURNAMES: &[&str] = &[
    "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "ngô",
    "dương", "lý", "đinh", "đoàn", "trương", "trịnh", "lưu", "lương", "quách", "kiều", "phùng",
    "vương", "triệu", "thạch", "diệp", "khưu", "nguyen", "tran", "le", "pham", "hoang", "huynh",
    "vu", "vo", "dang", "bui", "ngo", "duong", "ly", "dinh", "doan", "truong", "trinh", "luu",
    "luong", "quach", "kieu", "phung", "vuong", "trieu", "thach", "diep", "khuu",
];
/// Honorifics that may precede a name ("tôi là bà Trần Thị Hoa", "I am Mr Tran").
#[rustfmt::skip]
const HONORIFICS: &[&str] = &[
    "ông", "bà", "anh", "chị", "cô", "chú", "bác", "ong", "ba", "chi", "co", "chu", "mr", "mrs",
    "ms", "miss", "dr",
];
/// Words that may follow the phrase without carrying data ("liên hệ với tôi qua số …").
#[rustfmt::skip]
const FILLER: &[&str] = &[
    "so", "la", "dt", "dien", "thoai", "sdt", "number", "is", "at", "on", "cua", "toi", "my",
    "zalo", "email", "mail", "qua", "theo", "the", "telegram",
];
/// Words after "tôi ở <number>" that make it a duration or a quantity, not a house number.
#[rustfmt::skip]
const NOT_A_STREET: &[&str] = &[
    "nam", "thang", "ngay", "tuan", "gio", "phut", "lan", "nguoi", "dem", "buoi", "hom", "toi",
    "ki", "ky", "khoa", "tuoi", "trieu", "nghin", "ngan", "tram", "chuc", "ty", "tieng", "years",
    "months", "days", "weeks", "hours", "times", "nights", "km", "m", "phong", "tang",
];

/// Words after a comma that continue an address ("…, phường Vĩnh Hải, …").
#[rustfmt::skip]
const ADDRESS_WORDS: &[&str] = &[
    "so", "duong", "pho", "phuong", "xa", "thon", "to", "khu", "khom", "ap", "quan", "huyen",
    "thi", "tp", "thanh", "tinh", "hem", "ngo", "kiet", "ngach", "chung", "can", "lo", "block",
    "tang", "street", "st", "road", "ward", "district", "city", "province", "village", "hamlet",
    "apt", "apartment", "floor", "nha", "gan", "canh", "doi", "dien", "near", "opposite",
];
/// Words that start a new clause inside an address sentence.
#[rustfmt::skip]
const CONJUNCTIONS: &[&str] = &[
    "va", "nhung", "thi", "ma", "roi", "nen", "vi", "khi", "and", "but", "where", "which", "so",
    "because", "when",
];

/// Longest address or contact clause taken after the phrase, in folded bytes.
const MAX_CLAUSE: usize = 120;
/// Most words taken as a name.
const MAX_NAME_WORDS: usize = 5;

/// Finds self-identification spans in the folded text. `concrete` holds the folded ranges of
/// the other detectors' candidates, so spans can stop before them.
pub(crate) fn detect(
    original: &str,
    folded: &Folded,
    concrete: &[(FindingKind, Range<usize>)],
    out: &mut Vec<(FindingKind, Range<usize>)>,
) {
    let t = folded.text.as_str();
    for (kind, r) in concrete {
        if *kind == FindingKind::BankAccount
            && let Some(name) = account_holder(t, r.end)
        {
            out.push((FindingKind::SelfIdentification, name));
        }
    }
    let concrete: Vec<&Range<usize>> = concrete.iter().map(|(_, r)| r).collect();
    for caps in TRIGGER.captures_iter(t) {
        let Some(m) = caps.get(0) else { continue };
        let trigger = if caps.name("contact").is_some() {
            Trigger::Contact
        } else if caps.name("address").is_some() {
            Trigger::Address
        } else if caps.name("addrnum").is_some() {
            let next = m.as_str().rsplit(' ').next().unwrap_or("");
            if NOT_A_STREET.contains(&next.to_ascii_lowercase().as_str()) {
                continue;
            }
            Trigger::Address
        } else if caps.name("explicit").is_some() {
            Trigger::Explicit
        } else if caps.name("petition").is_some() {
            Trigger::Petition
        } else if caps.name("role").is_some() {
            Trigger::Role
        } else {
            Trigger::Ambiguous
        };
        if trigger == Trigger::Petition && !at_sentence_start(t, m.start()) {
            continue;
        }
        // "Chồng của tôi là …", "mã phản ánh của tôi là …": "tôi" is a possessor there, and what
        // follows names someone or something else.
        if trigger == Trigger::Ambiguous && preceded_by_possessive(t, m.start()) {
            continue;
        }
        let end = match trigger {
            Trigger::Contact => clause_end(t, m.end(), false),
            Trigger::Address => clause_end(t, m.end(), true),
            Trigger::Role => {
                let verb = m.as_str().rsplit(' ').next().unwrap_or("");
                workplace::role_end(t, m.end(), Some(&verb.to_ascii_lowercase()))
            }
            // "Tôi là …" without a name after it may still say who by role and place.
            Trigger::Ambiguous => {
                name_end(original, folded, m.end(), trigger, shouting(m.as_str()))
                    .or_else(|| workplace::role_end(t, m.end(), None))
            }
            _ => name_end(original, folded, m.end(), trigger, shouting(m.as_str())),
        };
        let Some(mut end) = end else { continue };
        // Stop before the first concrete finding; a phrase that only introduces one is
        // redundant (the concrete finding carries a clearer label).
        if concrete
            .iter()
            .any(|c| c.start < m.end() && c.end > m.start())
        {
            continue;
        }
        if let Some(c) = concrete
            .iter()
            .filter(|c| c.start >= m.end() && c.start < end)
            .min_by_key(|c| c.start)
        {
            end = trim_end(t, m.end(), c.start);
        }
        if only_filler(&t[m.end()..end]) {
            continue;
        }
        out.push((FindingKind::SelfIdentification, m.start()..end));
    }
}

/// Bank words skipped between an account number and its holder's name.
#[rustfmt::skip]
const BANK_WORDS: &[&str] = &[
    "vietcombank", "vcb", "vietinbank", "ctg", "bidv", "agribank", "techcombank", "tcb", "mb",
    "mbbank", "acb", "sacombank", "tpbank", "vpbank", "shb", "hdbank", "vib", "ocb", "msb",
    "seabank", "eximbank", "lpbank", "abbank", "pvcombank", "scb", "shinhan", "hsbc", "vietbank",
    "bank", "ngan", "hang", "nh", "cn", "chi", "nhanh", "khanh", "hoa", "nha", "trang",
];

/// "STK 0071000123456 Vietcombank NGUYEN VAN AN": the account holder's name, written in
/// capitals after the number (as banking apps print it). Needs at least two capitalised words,
/// the first a Vietnamese surname, so "VCB CN KHANH HOA" is not taken for a name.
fn account_holder(t: &str, account_end: usize) -> Option<Range<usize>> {
    let b = t.as_bytes();
    let skip_separators = |k: &mut usize| {
        while matches!(
            b.get(*k),
            Some(b' ' | b'-' | b':' | b',' | b'(' | b')' | b'/')
        ) {
            *k += 1;
        }
    };
    let mut k = account_end;
    skip_separators(&mut k);
    for _ in 0..4 {
        let w = first_word(t.get(k..)?);
        if w.is_empty() || !BANK_WORDS.contains(&w.to_ascii_lowercase().as_str()) {
            break;
        }
        k += w.len();
        skip_separators(&mut k);
    }
    let start = k;
    let mut end = k;
    let mut words = 0;
    let mut first = String::new();
    while words < MAX_NAME_WORDS {
        let w = first_word(t.get(k..)?);
        if w.is_empty() || !w.bytes().all(|c| c.is_ascii_uppercase()) {
            break;
        }
        if words == 0 {
            first = w.to_ascii_lowercase();
        }
        words += 1;
        k += w.len();
        end = k;
        if b.get(k) == Some(&b' ') && b.get(k + 1).is_some_and(u8::is_ascii_uppercase) {
            k += 1;
        } else {
            break;
        }
    }
    (words >= 2 && SURNAMES.contains(&first.as_str())).then_some(start..end)
}

/// "TÔI LÀ …", "I AM …": typed in capitals, so capitalisation says nothing about names.
fn shouting(trigger: &str) -> bool {
    let letters = trigger.chars().filter(char::is_ascii_alphabetic);
    letters.clone().count() >= 2 && letters.clone().all(|c| c.is_ascii_uppercase())
}

fn at_sentence_start(t: &str, pos: usize) -> bool {
    let before = t[..pos].trim_end_matches([' ', '\t']);
    before
        .chars()
        .next_back()
        .is_none_or(|c| matches!(c, '.' | '!' | '?' | '\n' | ':' | '"'))
}

fn preceded_by_possessive(t: &str, pos: usize) -> bool {
    let before = t[..pos].trim_end_matches([' ', '\t']);
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    before[word_start..].eq_ignore_ascii_case("cua")
}

/// Moves `end` back over spaces and separators, not before `floor`.
pub(super) fn trim_end(t: &str, floor: usize, mut end: usize) -> usize {
    let b = t.as_bytes();
    while end > floor && matches!(b[end - 1], b' ' | b'\t' | b',' | b':' | b'-' | b'(') {
        end -= 1;
    }
    end
}

fn only_filler(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .all(|w| FILLER.contains(&w.to_ascii_lowercase().as_str()))
}

/// End of a contact or address clause starting at `from`, or `None` if it is empty.
fn clause_end(t: &str, from: usize, address: bool) -> Option<usize> {
    let b = t.as_bytes();
    let mut k = from;
    while matches!(b.get(k), Some(b' ' | b'\t' | b':')) {
        k += 1;
    }
    let body = k;
    while k < b.len() {
        let c = b[k];
        let next = b.get(k + 1).copied();
        match c {
            b'\n' | b';' | b'!' | b'?' | b'(' | b')' => break,
            // A dot ends the clause unless it sits inside a number or an abbreviation ("TP.").
            b'.' if next.is_none_or(|n| n.is_ascii_whitespace()) => break,
            b',' if !address => break,
            b',' => {
                let rest = t[k + 1..].trim_start();
                let word = first_word(rest);
                let continues = rest.starts_with(|ch: char| ch.is_ascii_digit())
                    || word.starts_with(|ch: char| ch.is_ascii_uppercase())
                    || ADDRESS_WORDS.contains(&word.to_ascii_lowercase().as_str());
                if !continues {
                    break;
                }
            }
            _ if c.is_ascii_alphabetic() && (k == body || !b[k - 1].is_ascii_alphanumeric()) => {
                let word = first_word(&t[k..]).to_ascii_lowercase();
                if k > body && CONJUNCTIONS.contains(&word.as_str()) {
                    break;
                }
            }
            _ => {}
        }
        if k - from >= MAX_CLAUSE {
            k = cut_at_word(t, body, k);
            break;
        }
        k += 1;
    }
    let end = trim_end(t, body, k);
    (end > body).then_some(end)
}

/// Where a clause that reached its longest at byte `k` ends: at the last space after `body`,
/// so the span ends on a whole word (and a char boundary). `k` walks bytes and may sit inside
/// a character, so the bytes are searched: slicing `t[..k]` could panic.
pub(super) fn cut_at_word(t: &str, body: usize, k: usize) -> usize {
    let mut k = t.as_bytes()[..k]
        .iter()
        .rposition(|&c| c == b' ')
        .filter(|&s| s > body)
        .unwrap_or(k);
    while !t.is_char_boundary(k) {
        k -= 1;
    }
    k
}

pub(super) fn first_word(s: &str) -> &str {
    let n = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    &s[..n]
}

/// One word after the phrase: its folded range, and its original text lowercased.
struct Word {
    range: Range<usize>,
    capitalised: bool,
    folded_lower: String,
    original_lower: String,
}

impl Word {
    fn ascii(&self) -> bool {
        self.original_lower.is_ascii()
    }

    /// Membership in a list given with diacritics (`vi`) and without (`ascii`): a word typed
    /// without diacritics is only compared with the ASCII list, where ambiguous entries are
    /// deliberately missing.
    fn in_lists(&self, vi: &[&str], ascii: &[&str]) -> bool {
        if self.ascii() {
            ascii.contains(&self.folded_lower.as_str())
        } else {
            vi.contains(&self.original_lower.as_str())
        }
    }

    fn is_surname(&self) -> bool {
        SURNAMES.contains(&self.original_lower.as_str())
    }

    fn is_honorific(&self) -> bool {
        HONORIFICS.contains(&self.original_lower.as_str())
            || HONORIFICS.contains(&self.folded_lower.as_str())
    }

    fn is_acronym(&self) -> bool {
        ACRONYMS.contains(&self.folded_lower.as_str())
    }

    fn is_stop(&self) -> bool {
        self.in_lists(STOP_VI, STOP_ASCII)
    }

    fn is_role(&self) -> bool {
        self.in_lists(ROLE_VI, ROLE_ASCII)
    }
}

/// Up to `max` words after `from`, separated by single spaces, stopping at anything else.
fn words_after(
    original: &str,
    folded: &Folded,
    from: usize,
    max: usize,
    shouting: bool,
) -> Vec<Word> {
    let t = folded.text.as_str();
    let b = t.as_bytes();
    let mut k = from;
    let skip_ws = |k: &mut usize| {
        while matches!(b.get(*k), Some(b' ' | b'\t')) {
            *k += 1;
        }
    };
    skip_ws(&mut k);
    if matches!(b.get(k), Some(b':' | b'-')) {
        k += 1;
        skip_ws(&mut k);
    }
    if matches!(b.get(k), Some(b'"' | b'\'')) {
        k += 1;
    }
    let mut words = Vec::new();
    while words.len() < max && b.get(k).is_some_and(u8::is_ascii_alphabetic) {
        let s = k;
        while b.get(k).is_some_and(u8::is_ascii_alphabetic) {
            k += 1;
        }
        // Ê Đê and Jrai women's names begin "H'" ("H'Hen Niê", "H'Nga").
        if k - s == 1
            && matches!(b[s], b'H' | b'h')
            && b.get(k) == Some(&b'\'')
            && b.get(k + 1).is_some_and(u8::is_ascii_alphabetic)
        {
            k += 1;
            while b.get(k).is_some_and(u8::is_ascii_alphabetic) {
                k += 1;
            }
        }
        // "Lan123", "an_nguyen", "an@…", "TL-7Q4M", "QĐ/UBND": a code, not a name word.
        if b.get(k)
            .is_some_and(|&c| c.is_ascii_digit() || c >= 0x80 || c == b'_' || c == b'@')
        {
            break;
        }
        if matches!(b.get(k), Some(b'-' | b'/' | b'.'))
            && b.get(k + 1).is_some_and(u8::is_ascii_alphanumeric)
        {
            break;
        }
        let folded_word = &t[s..k];
        let original_lower = folded
            .to_original(s..k)
            .and_then(|r| original.get(r))
            .unwrap_or(folded_word)
            .to_lowercase();
        words.push(Word {
            range: s..k,
            capitalised: !shouting && folded_word.starts_with(|c: char| c.is_ascii_uppercase()),
            folded_lower: folded_word.to_ascii_lowercase(),
            original_lower,
        });
        if b.get(k) == Some(&b' ') && b.get(k + 1).is_some_and(u8::is_ascii_alphabetic) {
            k += 1;
        } else {
            break;
        }
    }
    words
}

/// End (folded byte) of the name after a name phrase, or `None` when no name follows.
fn name_end(
    original: &str,
    folded: &Folded,
    from: usize,
    trigger: Trigger,
    shouting: bool,
) -> Option<usize> {
    let words = words_after(original, folded, from, MAX_NAME_WORDS + 1, shouting);
    let name_like = |w: &Word| w.capitalised && !w.is_acronym();
    let mut i = 0;
    if trigger != Trigger::Petition
        && words.first().is_some_and(Word::is_honorific)
        && words.get(1).is_some_and(name_like)
    {
        i = 1;
    }
    let rest = words.get(i..)?;
    let first = rest.first()?;
    let count = match trigger {
        Trigger::Explicit => rest
            .iter()
            .take(MAX_NAME_WORDS)
            .take_while(|w| {
                if w.capitalised {
                    !w.is_acronym()
                } else {
                    !w.is_stop()
                }
            })
            .count(),
        Trigger::Petition | Trigger::Ambiguous if first.capitalised => {
            let n = rest
                .iter()
                .take(MAX_NAME_WORDS)
                .take_while(|w| name_like(w))
                .count();
            let too_short = trigger == Trigger::Petition && n < 2;
            // "Y" begins Ê Đê and Jrai men's names ("Y Bim Niê"); it is a role ("y tá", "y sĩ")
            // only before one of those words.
            let ede_name = first.folded_lower == "y"
                && rest.get(1).is_some_and(|w| {
                    w.capitalised
                        && !matches!(w.folded_lower.as_str(), "ta" | "si" | "te" | "bac" | "khoa")
                });
            if n == 0 || too_short || (first.is_role() && !ede_name) {
                0
            } else {
                n
            }
        }
        Trigger::Ambiguous if first.is_surname() => {
            let n = rest
                .iter()
                .take(MAX_NAME_WORDS)
                .take_while(|w| !w.is_stop() && !w.is_acronym())
                .count();
            if n >= 3 { n } else { 0 }
        }
        _ => 0,
    };
    if count == 0 {
        return None;
    }
    words.get(i + count - 1).map(|w| w.range.end)
}

#[cfg(test)]
mod tests {
    use super::super::fold::fold_diacritics;
    use super::*;

    #[test]
    fn trigger_compiles() {
        LazyLock::force(&TRIGGER);
    }

    /// Every `_VI` entry must be lowercase and every ASCII list entry already folded, or the
    /// lookups above silently miss.
    #[test]
    fn lists_are_normalised() {
        for l in [
            STOP_ASCII,
            ROLE_ASCII,
            ACRONYMS,
            FILLER,
            ADDRESS_WORDS,
            CONJUNCTIONS,
        ] {
            for w in l {
                assert_eq!(fold_diacritics(w).to_ascii_lowercase(), *w, "{w}");
            }
        }
        for l in [STOP_VI, ROLE_VI, SURNAMES, HONORIFICS] {
            for w in l {
                assert_eq!(w.to_lowercase(), *w, "{w}");
            }
        }
    }

    fn spans(t: &str) -> Vec<String> {
        let f = Folded::new(t);
        let mut out = Vec::new();
        detect(t, &f, &[], &mut out);
        out.into_iter()
            .filter_map(|(_, r)| f.to_original(r).map(|r| t[r].to_string()))
            .collect()
    }

    #[test]
    fn names() {
        assert_eq!(
            spans("Tôi là Nguyễn Văn Đức, tôi muốn"),
            ["Tôi là Nguyễn Văn Đức"]
        );
        assert_eq!(
            spans("ten toi la nguyen van nam va"),
            ["ten toi la nguyen van nam"]
        );
        assert_eq!(spans("toi la nguyen van an."), ["toi la nguyen van an"]);
        assert_eq!(spans("I'm Lan."), ["I'm Lan"]);
        assert_eq!(
            spans("My name is Tran Thi Hoa and"),
            ["My name is Tran Thi Hoa"]
        );
        assert_eq!(spans("Tôi, Nguyễn Văn An, xin"), ["Tôi, Nguyễn Văn An"]);
        assert_eq!(spans("tôi là bà Trần Thị Hoa"), ["tôi là bà Trần Thị Hoa"]);
        assert_eq!(spans("I am An."), ["I am An"]);
        assert_eq!(
            spans("TOI LA NGUYEN VAN AN O CAM RANH"),
            ["TOI LA NGUYEN VAN AN"]
        );
        assert_eq!(spans("MY NAME IS LAN AND I LIVE HERE"), ["MY NAME IS LAN"]);
    }

    #[test]
    fn account_holder_in_capitals() {
        let t = "STK 0071000123456 Vietcombank - NGUYEN VAN AN.";
        let f = Folded::new(t);
        let p = t.find("0071").expect("present");
        let account = (FindingKind::BankAccount, p..p + 13);
        let mut out = Vec::new();
        detect(t, &f, std::slice::from_ref(&account), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(&t[out[0].1.clone()], "NGUYEN VAN AN");
        let t = "STK 0071000123456 VCB CN KHANH HOA";
        let f = Folded::new(t);
        let mut out = Vec::new();
        detect(t, &f, std::slice::from_ref(&account), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn not_names() {
        for t in [
            "Tôi là người dân phường Vĩnh Hải.",
            "toi la nguoi dan",
            "I am a farmer.",
            "I am writing to report",
            "I am Vietnamese.",
            "Tôi là Người dân",
            "tôi là lễ tân",
            "số điện thoại của tôi bị lộ",
            "Ông ấy nói với tôi, Nguyễn Văn B đã nhận tiền",
            "I AM A FARMER",
            "TÔI LÀ NGƯỜI DÂN",
            "Chồng của tôi là Trần Văn C",
            "Tôi là Bí thư chi bộ",
        ] {
            assert!(spans(t).is_empty(), "{t}: {:?}", spans(t));
        }
    }

    #[test]
    fn contact_and_address() {
        assert_eq!(
            spans("sđt của tôi là không chín không năm, cảm ơn"),
            ["sđt của tôi là không chín không năm"]
        );
        assert_eq!(
            spans("Nhà tôi ở số 12 Lê Lợi, phường Vĩnh Hải, Nha Trang. Ông A"),
            ["Nhà tôi ở số 12 Lê Lợi, phường Vĩnh Hải, Nha Trang"]
        );
        assert_eq!(
            spans("nha toi o so 5 duong Tran Phu va ong ay"),
            ["nha toi o so 5 duong Tran Phu"]
        );
    }

    #[test]
    fn stops_before_concrete_findings() {
        let t = "số điện thoại của tôi là 0905 000 123";
        let f = Folded::new(t);
        let p = f.text.find("0905").expect("present");
        let mut out = Vec::new();
        let phone = (FindingKind::MobilePhone, p..f.text.len());
        detect(t, &f, std::slice::from_ref(&phone), &mut out);
        assert!(out.is_empty());
    }
}
