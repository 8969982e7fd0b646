//! Identifiers with a distinctive shape: e-mail addresses, Telegram handles and links,
//! passport numbers and licence plates. Each is one regex over the folded text plus a few
//! checks that a regex without look-around cannot express.
//!
//! Invariants: every regex is compiled once (`LazyLock`) and is linear-time (Rust `regex`);
//! a match glued to a longer code ("TL-C1234567-X") is rejected rather than cut out of it.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::FindingKind;
use super::context::{Contexts, Ctx};

/// Compiles a constant pattern.
#[allow(clippy::expect_used)]
fn re(pattern: &str) -> Regex {
    // Constant patterns: each compiles on every run or on none, and `patterns_compile` forces
    // all of them in the unit tests.
    Regex::new(pattern).expect("constant deid pattern compiles")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}\b",
    )
});

/// "an.nguyen [at] example [dot] com", "an (a còng) example.com", "an @ example.com",
/// "an a còng example chấm com", "an at example dot com": people obfuscate on purpose, or
/// dictate. The spoken forms need a spelled-out dot so that "at home" alone is not an address.
static EMAIL_OBFUSCATED: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)\b[a-z0-9][a-z0-9._%+\-]*(?:",
        r"(?:\s?[\[(]\s?(?:at|a\s?cong|@)\s?[\])]\s?|\s@\s?|@\s)",
        r"[a-z0-9\-]+(?:\s?(?:\.|[\[(]\s?(?:dot|cham)\s?[\])])\s?[a-z0-9\-]+)+",
        r"|\s+(?:a\s?cong|at)\s+[a-z0-9\-]+(?:\s+(?:cham|dot)\s+[a-z0-9\-]+)+",
        r")\b"
    ))
});

static TME_LINK: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/(?:joinchat/|\+)?[a-z0-9_]{3,64}")
});

/// Telegram usernames: 5–32 characters, a letter first. The leading class keeps e-mail
/// addresses and URL paths ("medium.com/@x") out; the `@` belongs to the finding.
static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^|[^A-Za-z0-9_.@/])(@[A-Za-z][A-Za-z0-9_]{4,31})\b"));

/// Vietnamese passports: one letter and seven digits (B1234567, C1234567, N…, P…).
/// Two letters or eight digits only with a "hộ chiếu"/"passport" context word.
static PASSPORT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b([a-z]{1,2})([0-9]{7,8})\b"));

/// Licence plates: province 11–99, series (A, LD, H1), number 123.45 / 12345 / 1234.
static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)\b[1-9][0-9](?P<s1>\s?-\s?|\s)?(?P<series>[a-z]{1,2}[0-9]?)",
        r"(?P<s2>\s?[-.]\s?|\s)?(?P<num>[0-9]{3}\.[0-9]{2}|[0-9]{4,5})\b"
    ))
});

/// How far before a passport or plate a context word may be.
const CONTEXT_WINDOW: usize = 48;

/// Appends `(kind, folded range)` candidates for the shape-based kinds.
pub(crate) fn detect(folded: &str, ctx: &Contexts, out: &mut Vec<(FindingKind, Range<usize>)>) {
    for m in EMAIL.find_iter(folded) {
        out.push((FindingKind::Email, m.range()));
    }
    for m in EMAIL_OBFUSCATED.find_iter(folded) {
        out.push((FindingKind::Email, m.range()));
    }
    for m in TME_LINK.find_iter(folded) {
        out.push((FindingKind::TelegramHandle, m.range()));
    }
    for caps in HANDLE.captures_iter(folded) {
        let Some(m) = caps.get(1) else { continue };
        let rest = &folded[m.end()..];
        // "@gmail.com" is the tail of an e-mail typed with a space, not a username.
        let domain_like = rest.starts_with('.')
            && rest[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !domain_like && !rest.starts_with('@') {
            out.push((FindingKind::TelegramHandle, m.range()));
        }
    }
    for caps in PASSPORT.captures_iter(folded) {
        let (Some(all), Some(letters), Some(num)) = (caps.get(0), caps.get(1), caps.get(2)) else {
            continue;
        };
        if glued_code(folded, all.range()) {
            continue;
        }
        let canonical = letters.len() == 1
            && num.len() == 7
            && letters.as_str().chars().all(|c| c.is_ascii_uppercase());
        if canonical || ctx.near_before(all.start(), CONTEXT_WINDOW, Ctx::Passport) {
            out.push((FindingKind::Passport, all.range()));
        }
    }
    for caps in PLATE.captures_iter(folded) {
        let (Some(all), Some(series), Some(num)) =
            (caps.get(0), caps.name("series"), caps.name("num"))
        else {
            continue;
        };
        if glued_code(folded, all.range()) {
            continue;
        }
        let has_ctx = ctx.near_before(all.start(), CONTEXT_WINDOW, Ctx::Plate);
        let upper = series.as_str().chars().all(|c| !c.is_ascii_lowercase());
        let s1 = caps.name("s1").map_or("", |m| m.as_str());
        let s2 = caps.name("s2").map_or("", |m| m.as_str());
        // "12 AB 1234" could be anything; a plate is written glued ("79A"), with a dash, or with
        // the dotted number ("123.45").
        let shaped = !s1.chars().all(char::is_whitespace)
            || s1.is_empty()
            || s2.contains('-')
            || num.as_str().contains('.');
        if (upper && shaped) || has_ctx {
            out.push((FindingKind::LicencePlate, all.range()));
        }
    }
}

/// The match is the middle of a longer code such as "KH-C1234567" or "79A-123.45-X".
fn glued_code(t: &str, r: Range<usize>) -> bool {
    let mut before = t[..r.start].chars().rev();
    let mut after = t[r.end..].chars();
    let joined = |p: Option<char>, q: Option<char>| {
        matches!(p, Some('-' | '/' | '_' | '.')) && q.is_some_and(char::is_alphanumeric)
    };
    let (b1, b2) = (before.next(), before.next());
    let (a1, a2) = (after.next(), after.next());
    joined(b1, b2) || joined(a1, a2)
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
    fn patterns_compile() {
        for r in [
            &EMAIL,
            &EMAIL_OBFUSCATED,
            &TME_LINK,
            &HANDLE,
            &PASSPORT,
            &PLATE,
        ] {
            LazyLock::force(r);
        }
    }

    #[test]
    fn emails_and_handles() {
        assert_eq!(
            run("mail an.nguyen@example.com."),
            vec![(FindingKind::Email, "an.nguyen@example.com".into())]
        );
        assert_eq!(
            run("an.nguyen [at] example [dot] com"),
            vec![(
                FindingKind::Email,
                "an.nguyen [at] example [dot] com".into()
            )]
        );
        assert_eq!(
            run("nhan tin @an_nguyen_99 nhe"),
            vec![(FindingKind::TelegramHandle, "@an_nguyen_99".into())]
        );
        assert_eq!(
            run("https://t.me/an_nguyen_99"),
            vec![(
                FindingKind::TelegramHandle,
                "https://t.me/an_nguyen_99".into()
            )]
        );
        assert_eq!(
            run("an.nguyen @ example.com"),
            vec![(FindingKind::Email, "an.nguyen @ example.com".into())]
        );
        assert_eq!(
            run("mail an a cong example cham com nhe"),
            vec![(FindingKind::Email, "an a cong example cham com".into())]
        );
        assert!(run("I was at home and at work").is_empty());
        assert!(run("@abc").is_empty());
        // A mail domain typed after a space is not a Telegram handle.
        assert!(
            run("x @gmail.com")
                .iter()
                .all(|(k, _)| *k != FindingKind::TelegramHandle)
        );
        assert!(run("(@gmail.com)").is_empty());
    }

    #[test]
    fn plates() {
        for p in [
            "79A-123.45",
            "79A12345",
            "85-B1 123.45",
            "79-H1 234.56",
            "51F-678.90",
        ] {
            assert_eq!(run(p), vec![(FindingKind::LicencePlate, p.into())], "{p}");
        }
        assert!(run("12 AB 1234").is_empty());
        assert!(run("KH-2025-00123").is_empty());
    }

    #[test]
    fn passports() {
        assert_eq!(
            run("C1234567"),
            vec![(FindingKind::Passport, "C1234567".into())]
        );
        assert_eq!(
            run("ho chieu so c12345678"),
            vec![(FindingKind::Passport, "c12345678".into())]
        );
        assert!(run("c1234567").is_empty());
        assert!(run("TL-C1234567").is_empty());
    }
}
