//! Numeric identifiers: phones, landlines, CCCD/CMND, bank accounts, tax and BHXH codes.
//!
//! Regexes alone handle "0905 000 123" but not its look-alikes ("5.000.000 đồng", "12-03-2025",
//! "KH-2025-00123", "59/2019/NĐ-CP"), so numbers are first tokenised into *runs*: digit groups
//! joined by one separator (space, dot, dash, a closing bracket), optionally opened by "(" or "+".
//! Each run is then classified from its shape (length, prefix, grouping) and the nearest context
//! word ([`super::context`]).
//!
//! Invariants:
//! - A group glued to letters or to a code ("79A", "KH-2025", "123/QĐ", "15%") is never the edge
//!   of a finding: document numbers, plates and receipt codes stay untouched.
//! - Dotted thousands ("150.000.000"), dates, and numbers followed by a currency or unit word are
//!   never identifiers without a context word that says otherwise.
//! - Work per run is bounded (at most [`MAX_GROUPS`] groups, [`MAX_SEGMENT_ATOMS`] atoms per
//!   candidate), so detection stays linear in the text length.

use std::ops::Range;

use super::FindingKind;
use super::context::{Contexts, Ctx};

/// Longest run we keep scanning as one unit; longer runs are split (nobody spaces a phone
/// number into more than a handful of groups).
const MAX_GROUPS: usize = 12;
/// Longest candidate, in atoms (tight groups), tried when splitting a run: a phone with every
/// digit spaced is ten or eleven.
const MAX_SEGMENT_ATOMS: usize = MAX_GROUPS;

/// One group of consecutive ASCII digits in the folded text.
#[derive(Clone, Debug)]
struct Group {
    start: usize,
    end: usize,
}

/// The separator between two groups.
#[derive(Clone, Copy, Debug)]
struct Sep {
    /// Spaces or a bracket: an atom boundary where a run may be split.
    loose: bool,
    /// The punctuation in it (`.`, `-`, `)`), or a space.
    punct: u8,
}

/// A run of digit groups, e.g. `(+84) 905.000.123`.
#[derive(Debug)]
struct Run {
    /// First byte of the run, including a leading `(` or `+`.
    start: usize,
    plus: bool,
    groups: Vec<Group>,
    /// `seps[k]` joins `groups[k]` and `groups[k + 1]`.
    seps: Vec<Sep>,
    /// The first group is glued to a word or code on its left.
    glued_left: bool,
    /// The last group is glued to a word, code or unit on its right.
    glued_right: bool,
}

/// Finds numeric identifiers in the folded text and appends `(kind, folded range)` candidates.
pub(crate) fn detect(folded: &str, ctx: &Contexts, out: &mut Vec<(FindingKind, Range<usize>)>) {
    for run in scan_runs(folded, ctx) {
        classify_run(folded, ctx, &run, out);
    }
}

fn scan_runs(t: &str, ctx: &Contexts) -> Vec<Run> {
    let b = t.as_bytes();
    let digit_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let starts_here = c.is_ascii_digit()
            || (c == b'+' && digit_at(i + 1))
            || (c == b'(' && (digit_at(i + 1) || (b.get(i + 1) == Some(&b'+') && digit_at(i + 2))));
        if !starts_here {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        let mut paren_open = false;
        if b[j] == b'(' {
            paren_open = true;
            j += 1;
        }
        let plus = b.get(j) == Some(&b'+');
        if plus {
            j += 1;
        }
        let mut groups = Vec::new();
        let mut seps = Vec::new();
        loop {
            let gs = j;
            while digit_at(j) {
                j += 1;
            }
            groups.push(Group { start: gs, end: j });
            match parse_sep(b, j, &mut paren_open) {
                Some((sep, next)) if groups.len() < MAX_GROUPS => {
                    seps.push(sep);
                    j = next;
                }
                _ => break,
            }
        }
        // "SĐT0905000123", "STK0071…": a context word typed without a space is not a code.
        let glued_left = glued_before(t, start) && !ctx.ends_at(start);
        let glued_right = glued_after(t, j);
        runs.push(Run {
            start,
            plus,
            groups,
            seps,
            glued_left,
            glued_right,
        });
        // `j` is past at least one digit, so the scan always advances.
        i = j.max(i + 1);
    }
    runs
}

/// Parses a separator starting at `j` (right after a digit group); returns it and the index of
/// the next group's first digit, or `None` when the run ends here.
fn parse_sep(b: &[u8], j: usize, paren_open: &mut bool) -> Option<(Sep, usize)> {
    let mut k = j;
    let mut loose = false;
    let mut punct = b' ';
    let mut closes = false;
    if *paren_open && b.get(k) == Some(&b')') {
        k += 1;
        closes = true;
        loose = true;
        punct = b')';
    }
    let ws = |k: &mut usize| {
        let mut n = 0;
        while n < 2 && matches!(b.get(*k), Some(b' ' | b'\t')) {
            *k += 1;
            n += 1;
        }
        n
    };
    let ws1 = ws(&mut k);
    let mut mark = None;
    if let Some(&c @ (b'.' | b'-')) = b.get(k) {
        mark = Some(c);
        k += 1;
    }
    let ws2 = ws(&mut k);
    if ws1 + ws2 > 0 {
        loose = true;
    }
    // "… năm 2024. 0905…": a dot followed by a space ends a sentence, not a number.
    if mark == Some(b'.') && ws2 > 0 {
        return None;
    }
    if k == j || !b.get(k).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if closes {
        *paren_open = false;
    }
    if let Some(m) = mark {
        punct = m;
    }
    Some((Sep { loose, punct }, k))
}

/// Whether the run starting at `pos` continues a word or code on its left.
fn glued_before(t: &str, pos: usize) -> bool {
    let mut prev = t[..pos].chars().rev();
    let Some(p) = prev.next() else { return false };
    let pp = prev.next();
    if p.is_alphanumeric() {
        return true;
    }
    match p {
        '-' | '_' | '\\' | '#' => pp.is_some_and(char::is_alphanumeric),
        // "123/QĐ", "2019/NĐ" glue; "0905000123/0912000456" is two phone numbers.
        '/' => pp.is_some_and(|c| c.is_alphabetic()) || short_digits(t[..pos - 1].chars().rev()),
        '.' | ',' | ':' => pp.is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Whether the digits at the start of `chars` form a short (< 6 digit) number, as in dates and
/// document numbers, rather than another identifier.
fn short_digits(chars: impl Iterator<Item = char>) -> bool {
    let n = chars.take_while(char::is_ascii_digit).take(6).count();
    (1..6).contains(&n)
}

/// Whether the run ending at `pos` continues into a word, code or unit on its right.
fn glued_after(t: &str, pos: usize) -> bool {
    let mut next = t[pos..].chars();
    let Some(n) = next.next() else { return false };
    let nn = next.next();
    if n.is_alphanumeric() || n == '%' {
        return true;
    }
    match n {
        '-' | '_' | '\\' => nn.is_some_and(char::is_alphanumeric),
        '/' => nn.is_some_and(|c| c.is_alphabetic()) || short_digits(t[pos + 1..].chars()),
        '.' | ',' | ':' => nn.is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Splits a run into candidates, longest first, at atom (loose separator) boundaries only.
fn classify_run(t: &str, ctx: &Contexts, run: &Run, out: &mut Vec<(FindingKind, Range<usize>)>) {
    let total_digits: usize = run.groups.iter().map(|g| g.end - g.start).sum();
    if total_digits < 6 {
        return;
    }
    // atoms[k] = (first group, last group) of the k-th tight block.
    let mut atoms: Vec<(usize, usize)> = Vec::new();
    let mut first = 0;
    for (k, sep) in run.seps.iter().enumerate() {
        if sep.loose {
            atoms.push((first, k));
            first = k + 1;
        }
    }
    atoms.push((first, run.groups.len() - 1));
    let last_atom = atoms.len() - 1;

    let mut a = 0;
    while a <= last_atom {
        let mut matched = None;
        let top = (a + MAX_SEGMENT_ATOMS - 1).min(last_atom);
        for z in (a..=top).rev() {
            if (a == 0 && run.glued_left) || (z == last_atom && run.glued_right) {
                continue;
            }
            let seg = Segment {
                run,
                first: atoms[a].0,
                last: atoms[z].1,
            };
            if let Some(kind) = classify(t, ctx, &seg) {
                matched = Some((z, kind, seg.range()));
                break;
            }
        }
        match matched {
            Some((z, kind, range)) => {
                out.push((kind, range));
                a = z + 1;
            }
            None => a += 1,
        }
    }
}

/// Groups `first..=last` of a run, the unit that gets a kind.
struct Segment<'r> {
    run: &'r Run,
    first: usize,
    last: usize,
}

impl Segment<'_> {
    fn groups(&self) -> &[Group] {
        &self.run.groups[self.first..=self.last]
    }

    /// Separators strictly inside the segment.
    fn seps(&self) -> &[Sep] {
        &self.run.seps[self.first..self.last]
    }

    fn whole_run(&self) -> bool {
        self.first == 0 && self.last + 1 == self.run.groups.len()
    }

    fn plus(&self) -> bool {
        self.first == 0 && self.run.plus
    }

    fn range(&self) -> Range<usize> {
        let start = if self.first == 0 {
            self.run.start
        } else {
            self.run.groups[self.first].start
        };
        start..self.run.groups[self.last].end
    }

    fn digits(&self, t: &str) -> String {
        self.groups()
            .iter()
            .filter_map(|g| t.get(g.start..g.end))
            .collect()
    }

    fn group_lens(&self) -> Vec<usize> {
        self.groups().iter().map(|g| g.end - g.start).collect()
    }

    /// "150.000.000": thousands separators, i.e. an amount of money or a count.
    fn money_like(&self) -> bool {
        let lens = self.group_lens();
        lens.len() >= 2
            && (1..=3).contains(&lens[0])
            && lens[1..].iter().all(|&l| l == 3)
            && self.seps().iter().all(|s| !s.loose && s.punct == b'.')
    }

    /// "12-03-2025", "2025.03.12", "03-2025".
    fn date_like(&self) -> bool {
        let lens = self.group_lens();
        let seps = self.seps();
        let tight_same =
            seps.iter().all(|s| !s.loose) && seps.windows(2).all(|w| w[0].punct == w[1].punct);
        if !tight_same {
            return false;
        }
        let dm = |l: usize| (1..=2).contains(&l);
        match lens.as_slice() {
            [d, m, y] => {
                (dm(*d) && dm(*m) && (*y == 2 || *y == 4)) || (*d == 4 && dm(*m) && dm(*y))
            }
            [m, y] => dm(*m) && *y == 4,
            _ => false,
        }
    }

    /// Phone number layout: at most one single-digit group ("0258 3 822 123"); more suggests a
    /// list or a formula, not a number someone dictates.
    fn phone_grouping(&self) -> bool {
        let lens = self.group_lens();
        lens.iter().filter(|&&l| l < 2).count() <= 1
            // Every digit spaced, as some type a number to slip past filters:
            // "0 9 0 5 0 0 0 1 2 3".
            || (lens.len() >= 9
                && lens.iter().all(|&l| l == 1)
                && self.seps().iter().all(|s| s.punct == b' '))
    }

    /// ID layout: one block, or space-separated blocks of 3–4 digits ("079 200 000 123").
    fn id_grouping(&self) -> bool {
        let lens = self.group_lens();
        lens.len() == 1
            || (self.seps().iter().all(|s| s.loose && s.punct == b' ')
                && lens.iter().all(|l| (3..=4).contains(l)))
    }
}

/// Currency and unit words that turn a number into a quantity.
const UNITS: &[&str] = &[
    "d", "dong", "vnd", "usd", "k", "nghin", "ngan", "trieu", "tr", "ty", "ti", "kg", "km", "m2",
    "m", "ha", "lit", "cm", "mm", "tan", "euro", "eur", "dollars", "dollar", "yen",
];

fn unit_follows(t: &str, end: usize) -> bool {
    let rest = t.get(end..).unwrap_or("");
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    if rest.starts_with('%') || rest.starts_with('$') {
        return true;
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    UNITS.contains(&word.as_str())
}

/// Classifies by Vietnamese numbering plan: mobile `0[35789]x` (10 digits) and the retired
/// 11-digit `01xx`; landlines `02xx` (10–11 digits); `+84`/`84` replaces the trunk `0`.
/// Any other `+`-prefixed number of 8–15 digits is a foreign phone.
fn phone_kind(digits: &str, plus: bool) -> Option<FindingKind> {
    let national: String = if let Some(rest) = digits.strip_prefix("84")
        && (plus || digits.len() >= 11)
    {
        if rest.starts_with('0') {
            rest.to_string()
        } else {
            format!("0{rest}")
        }
    } else if plus {
        return (8..=15)
            .contains(&digits.len())
            .then_some(FindingKind::MobilePhone);
    } else {
        digits.to_string()
    };
    let b = national.as_bytes();
    match (b.len(), b.first(), b.get(1), b.get(2)) {
        (10, Some(b'0'), Some(b'3' | b'5' | b'7' | b'8' | b'9'), _) => {
            Some(FindingKind::MobilePhone)
        }
        (11, Some(b'0'), Some(b'1'), Some(b'2'..=b'9')) => Some(FindingKind::MobilePhone),
        (10 | 11, Some(b'0'), Some(b'2'), _) => Some(FindingKind::Landline),
        _ => None,
    }
}

/// A CCCD (12 digits, starting with a province code 001–096) or CMND (9 digits) recognised
/// without any context word. Amount-like round numbers ("120000000") are refused.
fn citizen_id_by_form(digits: &str) -> bool {
    if digits.ends_with("0000") {
        return false;
    }
    match digits.len() {
        12 => digits
            .get(..3)
            .and_then(|p| p.parse::<u16>().ok())
            .is_some_and(|p| (1..=96).contains(&p)),
        9 => true,
        _ => false,
    }
}

/// Province and city codes that open a CCCD number (Circular 07/2016/TT-BCA, appendix): the
/// 63 provinces as they were when the cards were issued.
const CCCD_PROVINCES: [u16; 63] = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
    38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
    79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

/// A 12-digit CCCD's structure: a province code, then the century-and-sex digit of someone
/// born in 1900–2099 (0–3), then two digits of the birth year and six of sequence.
fn cccd_prefix(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 12
        && digits
            .get(..3)
            .and_then(|p| p.parse::<u16>().ok())
            .is_some_and(|p| CCCD_PROVINCES.contains(&p))
        && matches!(b[3], b'0'..=b'3')
}

fn classify(t: &str, ctx: &Contexts, seg: &Segment<'_>) -> Option<FindingKind> {
    let range = seg.range();
    if seg.date_like() || unit_follows(t, range.end) {
        return None;
    }
    let digits = seg.digits(t);
    let n = digits.len();
    if !(6..=19).contains(&n) {
        return None;
    }
    let money = seg.money_like();
    let phone = if seg.phone_grouping() && !money {
        phone_kind(&digits, seg.plus())
    } else {
        None
    };
    let before = ctx.before(t, range.start);
    match before {
        Some(Ctx::Bank | Ctx::BankWeak) if !money => {
            if before == Some(Ctx::BankWeak) && phone.is_some() {
                return phone;
            }
            return Some(FindingKind::BankAccount);
        }
        Some(Ctx::CitizenId) if n == 9 || n == 12 => return Some(FindingKind::CitizenId),
        Some(Ctx::Tax) if n == 10 || n == 13 => return Some(FindingKind::TaxCode),
        Some(Ctx::SocialInsurance) if n == 10 => return Some(FindingKind::SocialInsurance),
        // "zalo 905 000 123": the trunk 0 left out.
        Some(Ctx::Phone)
            if phone.is_none()
                && !money
                && !seg.plus()
                && n == 9
                && matches!(
                    digits.as_bytes().first(),
                    Some(b'3' | b'5' | b'7' | b'8' | b'9')
                ) =>
        {
            return Some(FindingKind::MobilePhone);
        }
        _ => {}
    }
    if phone.is_some() {
        return phone;
    }
    // A CCCD is recognisable by its own structure, whatever word stands before it (a money
    // word may be the name of the person whose number follows).
    if n == 12 && !money && seg.whole_run() && seg.id_grouping() && cccd_prefix(&digits) {
        return Some(FindingKind::CitizenId);
    }
    if before == Some(Ctx::Negative) || money {
        return None;
    }
    if seg.whole_run() && seg.id_grouping() && citizen_id_by_form(&digits) {
        return Some(FindingKind::CitizenId);
    }
    match ctx.after(t, range.end) {
        Some(Ctx::Bank) => Some(FindingKind::BankAccount),
        Some(Ctx::CitizenId) if n == 9 || n == 12 => Some(FindingKind::CitizenId),
        Some(Ctx::Tax) if n == 10 || n == 13 => Some(FindingKind::TaxCode),
        Some(Ctx::SocialInsurance) if n == 10 => Some(FindingKind::SocialInsurance),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str) -> Vec<(FindingKind, String)> {
        let ctx = Contexts::scan(t);
        let mut out = Vec::new();
        detect(t, &ctx, &mut out);
        out.into_iter()
            .map(|(k, r)| (k, t[r].to_string()))
            .collect()
    }

    #[test]
    fn phone_layouts() {
        for s in [
            "0905000123",
            "0905 000 123",
            "090.500.0123",
            "090-500-0123",
            "+84 905 000 123",
            "(+84) 905 000 123",
            "84905000123",
            "+84905000123",
            "0120 000 1234",
        ] {
            assert_eq!(
                run(s),
                vec![(FindingKind::MobilePhone, s.to_string())],
                "{s}"
            );
        }
        for s in [
            "0258 3 822 000",
            "(0258) 3822 000",
            "024 3825 0000",
            "+84 258 3822 000",
        ] {
            assert_eq!(run(s), vec![(FindingKind::Landline, s.to_string())], "{s}");
        }
    }

    #[test]
    fn look_alikes_are_ignored() {
        for s in [
            "12/03/2025",
            "12-03-2025",
            "150.000.000 đồng",
            "5.000.000d",
            "1.500.000.000",
            "59/2019/ND-CP",
            "KH-2025-00123",
            "7Q4M-2XPA-9KDE-W3HZ",
            "120000000 dong",
            "so tien 123456789",
            "1900 1234",
        ] {
            assert!(run(s).is_empty(), "{s}: {:?}", run(s));
        }
    }

    #[test]
    fn context_decides() {
        assert_eq!(run("STK 0905000123")[0].0, FindingKind::BankAccount);
        assert_eq!(run("MST: 0301234567")[0].0, FindingKind::TaxCode);
        assert_eq!(run("MST 0301234567-001")[0].1, "0301234567-001");
        assert_eq!(run("so BHXH 7912345678")[0].0, FindingKind::SocialInsurance);
        assert_eq!(run("CCCD 079 200 000 123")[0].0, FindingKind::CitizenId);
        assert_eq!(run("079200000123")[0].0, FindingKind::CitizenId);
        assert_eq!(
            run("tai khoan zalo 0905000123")[0].0,
            FindingKind::MobilePhone
        );
    }

    #[test]
    fn cccd_after_a_name_that_is_a_money_word() {
        for t in [
            "nguyen van tien, 079200000123",
            "Nguyen Van Tien 079200000123",
            "ba le thi phi 056185000654",
            "so tien 079200000123",
        ] {
            let found = run(t);
            assert_eq!(found.len(), 1, "{t}: {found:?}");
            assert_eq!(found[0].0, FindingKind::CitizenId, "{t}");
            assert!(t.ends_with(&found[0].1), "{t}: the whole number");
        }
        // Not a CCCD structure (province 099 does not exist; century digit 7): still money.
        assert!(run("so tien 099200000123").is_empty());
        assert!(run("phi 056700000123").is_empty());
    }

    #[test]
    fn two_numbers_in_one_run() {
        let r = run("0905000123 0258 3822 000");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].1, "0905000123");
        assert_eq!(r[1].1, "0258 3822 000");
    }
}
