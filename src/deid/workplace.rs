//! Self-description by role and place: "tôi là kế toán của trường …", "mình bán hàng ở chợ
//! …", "em làm ở phòng … huyện …", "I'm the owner of the … hotel on … street". A role alone
//! ("tôi là giáo viên") names no one; a role tied to a named workplace or place often names one
//! person in a commune, so the clause is a self-identification.
//!
//! The rule, on the folded text after a first-person phrase ([`super::selfid`]):
//! - the clause runs to the first comma, full stop or conjunction, and across a comma only when
//!   what follows continues a place ("…, phường …", "…, xã …", a capitalised name, a number);
//! - it must contain a workplace or place: a public body ("UBND", "tổ dân phố"), or an
//!   organisation ("bệnh viện", "công ty", "khách sạn") or a place word ("xã", "chợ", "phòng",
//!   "đường", "số", "school", "street") with a capitalised name or a number after it (in
//!   English also before it: "the Sunrise hotel"); "một công ty", "a shop" name none;
//! - a clause that only says the person lives somewhere as one of its people ("người dân
//!   phường …", "a resident of …") or is a victim is not taken: that describes thousands.
//!
//! Invariants: the span starts at the first-person phrase and ends on a word; nothing is
//! returned for a clause without a workplace or place.

use super::selfid::{cut_at_word, first_word, trim_end};

/// Longest clause taken, in folded bytes.
const MAX_CLAUSE: usize = 140;

/// Words and phrases that name a workplace or an organisation on their own.
#[rustfmt::skip]
const ORGANISATIONS: &[&str] = &[
    "ubnd", "hdnd", "ubmttq", "uy ban", "benh vien", "bv", "tram y te", "trung tam", "cong ty",
    "cty", "htx", "hop tac xa", "ban quan ly", "bql", "chi cuc", "to dan pho", "khu pho",
    "thi tran", "thi xa", "nha may", "xi nghiep", "khach san", "nha nghi", "nha tro",
    "homestay", "cua hang", "tiem", "van phong", "bo phan", "co quan", "cong an", "doanh nghiep",
    "nha hang", "truong thpt", "truong thcs", "truong tieu hoc", "truong mam non",
    "truong dai hoc", "truong cao dang", "truong trung cap", "truong mau giao", "dai hoc",
    "people s committee",
];

/// Organisations named by the place after them, whatever its case ("UBND xã vạn hưng").
#[rustfmt::skip]
const PUBLIC_BODIES: &[&str] = &[
    "ubnd", "hdnd", "ubmttq", "uy ban", "to dan pho", "khu pho", "thi tran", "thi xa",
];

/// Words that name a place only with a name or a number after them ("xã Vạn Hưng", "tổ 5",
/// "số 12"), since most are everyday words once folded ("xa" far, "cho" for, "so" number).
#[rustfmt::skip]
const PLACES: &[&str] = &[
    "phuong", "xa", "thon", "ap", "huyen", "quan", "tinh", "cho", "duong", "pho", "hem", "kiet",
    "ngo", "so", "phong", "khoa", "lop", "doi", "to", "buon", "lang", "vien", "hoi", "ban",
    "truong", "tram", "quay", "street", "road", "ward", "commune", "village", "district",
    "market", "school", "hospital", "clinic", "company", "office", "department", "hostel",
    "hotel", "restaurant", "shop", "store", "factory", "committee", "station", "cooperative",
    "guesthouse", "university", "college", "bakery", "cafe", "farm",
];

/// Place words that English puts after the name ("Tran Phu street").
#[rustfmt::skip]
const NAME_FIRST: &[&str] = &[
    "street", "road", "ward", "commune", "village", "district", "market", "school", "hospital",
    "clinic", "company", "office", "department", "hostel", "hotel", "restaurant", "shop", "store",
    "factory", "committee", "station", "cooperative", "guesthouse", "university", "college",
    "bakery", "cafe", "farm",
];

/// Words that make what follows any one of its kind.
const INDEFINITE: &[&str] = &["mot", "a", "an", "some", "nhung", "cac", "nhieu"];

/// Words after a comma that go on naming the place.
#[rustfmt::skip]
const CONTINUES: &[&str] = &[
    "so", "duong", "pho", "phuong", "xa", "thon", "to", "khu", "khom", "ap", "quan", "huyen",
    "thi", "tp", "tinh", "hem", "ngo", "kiet", "khoa", "lop", "phong", "ban", "doi", "truong",
    "street", "road", "ward", "district", "city", "province", "village", "commune",
];

/// Words that start a new clause.
#[rustfmt::skip]
const CONJUNCTIONS: &[&str] = &[
    "va", "nhung", "ma", "roi", "nen", "vi", "khi", "nhu", "and", "but", "where", "which",
    "because", "when", "so", "who",
];

/// Openings that describe someone as one of many ("người dân phường …").
#[rustfmt::skip]
const ONE_OF_MANY: &[&str] = &[
    "nguoi dan", "cong dan", "cu dan", "dan", "nan nhan", "nguoi bi hai", "mot nguoi dan",
    "a resident", "a citizen", "resident", "citizen", "a victim", "victim", "a local",
    "one of the", "nguoi trong",
];

/// Objects of "làm" that are an errand, not a job ("tôi làm đơn gửi UBND …").
#[rustfmt::skip]
const ERRANDS: &[&str] = &[
    "don", "ho", "thu", "giay", "the", "bang", "chung", "lai", "on", "phien", "so", "viec voi",
    "an", "sao", "gi", "vay", "nhu", "dung", "sai", "cho toi", "cho minh", "cho em",
];

/// The end (folded byte) of a role-and-place clause that starts at `from`, right after a
/// first-person phrase; `None` when the clause names no workplace or place.
pub(super) fn role_end(t: &str, from: usize, verb: Option<&str>) -> Option<usize> {
    let body = skip_spaces(t, from);
    let lead = t[body..].to_ascii_lowercase();
    if ONE_OF_MANY.iter().any(|p| starts_with_words(&lead, p)) {
        return None;
    }
    if verb == Some("lam") && ERRANDS.iter().any(|p| starts_with_words(&lead, p)) {
        return None;
    }
    let end = clause_end(t, body)?;
    has_place(&t[body..end]).then_some(end)
}

fn skip_spaces(t: &str, mut k: usize) -> usize {
    let b = t.as_bytes();
    while matches!(b.get(k), Some(b' ' | b'\t' | b':')) {
        k += 1;
    }
    k
}

/// Whether `s` begins with the words of `phrase` (whole words).
fn starts_with_words(s: &str, phrase: &str) -> bool {
    s.starts_with(phrase) && !s[phrase.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// End of the clause from `body`, across commas that go on naming a place.
fn clause_end(t: &str, body: usize) -> Option<usize> {
    let b = t.as_bytes();
    let mut k = body;
    while k < b.len() {
        let c = b[k];
        let next = b.get(k + 1).copied();
        match c {
            b'\n' | b';' | b'!' | b'?' | b'(' | b')' | b'"' => break,
            b'.' if next.is_none_or(|n| n.is_ascii_whitespace()) => break,
            b',' => {
                let rest = t[k + 1..].trim_start();
                let word = first_word(rest);
                let continues = rest.starts_with(|ch: char| ch.is_ascii_digit())
                    || CONTINUES.contains(&word.to_ascii_lowercase().as_str());
                if !continues {
                    break;
                }
            }
            _ if c.is_ascii_alphabetic() && k > body && !b[k - 1].is_ascii_alphanumeric() => {
                let rest = &t[k..];
                let word = first_word(rest).to_ascii_lowercase();
                // "thì" starts a clause; "thị xã", "thị trấn" name a place.
                let starts_clause = if word == "thi" {
                    !["xa", "tran"].contains(&first_word(rest[3..].trim_start()))
                } else {
                    CONJUNCTIONS.contains(&word.as_str())
                };
                if starts_clause {
                    break;
                }
            }
            _ => {}
        }
        if k - body >= MAX_CLAUSE {
            k = cut_at_word(t, body, k);
            break;
        }
        k += 1;
    }
    let end = trim_end(t, body, k);
    (end > body).then_some(end)
}

/// Whether the clause names a workplace or a place.
fn has_place(clause: &str) -> bool {
    let words: Vec<&str> = clause
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let capital = |w: &&str| w.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit());
    for i in 0..words.len() {
        // "một công ty nhỏ", "a company": some organisation, not a named one.
        let indefinite = i > 0 && INDEFINITE.contains(&lower[i - 1].as_str());
        let at = |o: &&&str| {
            let n = o.split(' ').count();
            lower
                .get(i..i + n)
                .is_some_and(|ws| o.split(' ').eq(ws.iter().map(String::as_str)))
        };
        if let Some(o) = ORGANISATIONS.iter().find(at)
            && !indefinite
        {
            // Public bodies are named by the place after them, in any case ("UBND xã …"); a
            // firm, a school or a hotel only by a name ("khách sạn" alone is any hotel).
            let after = i + o.split(' ').count();
            if PUBLIC_BODIES.contains(o) || words[after..].iter().take(3).any(capital) {
                return true;
            }
        }
        if PLACES.contains(&lower[i].as_str()) {
            // A name or a number within the next three words ("trường tiểu học Vĩnh …"), or
            // in English before it ("Tran Phu street").
            let named = words[i + 1..].iter().take(3).any(capital)
                || (NAME_FIRST.contains(&lower[i].as_str()) && i > 0 && capital(&words[i - 1]));
            if named {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_of<'a>(s: &'a str, verb: Option<&str>) -> Option<&'a str> {
        role_end(s, 0, verb).map(|e| &s[..e])
    }

    #[test]
    fn a_role_tied_to_a_named_place_is_taken_to_the_clause_end() {
        assert_eq!(
            end_of(
                "thu ky cua UBND xa Ninh Tay, toi thay chu tich nhan tien",
                None
            ),
            Some("thu ky cua UBND xa Ninh Tay")
        );
        assert_eq!(
            end_of(
                "giao vien tieng Anh o truong THCS Le Loi, phuong Tay Son, ho bat",
                None
            ),
            Some("giao vien tieng Anh o truong THCS Le Loi, phuong Tay Son")
        );
        assert_eq!(
            end_of(
                "the manager of the Sunrise hotel on Tran Phu street. They",
                None
            ),
            Some("the manager of the Sunrise hotel on Tran Phu street")
        );
        assert_eq!(
            end_of("ca o cho Vinh Luong moi sang va bi thu tien", Some("ban")),
            Some("ca o cho Vinh Luong moi sang")
        );
    }

    #[test]
    fn a_role_alone_or_one_of_many_is_not() {
        assert_eq!(end_of("giao vien, toi muon phan anh", None), None);
        assert_eq!(end_of("nguoi dan phuong Vinh Hai, toi thay", None), None);
        assert_eq!(end_of("a resident of Cam Ranh ward", None), None);
        assert_eq!(end_of("don gui UBND xa Dien Lac", Some("lam")), None);
        assert_eq!(end_of("rat buc xuc vi cho doi qua lau", None), None);
        // A place word without a name after it is an everyday word.
        assert_eq!(end_of("di xa lam an nhieu nam", None), None);
        assert_eq!(end_of("Giam doc mot cong ty nho.", None), None);
        assert_eq!(end_of("le tan khach san, toi chung kien", None), None);
    }
}
