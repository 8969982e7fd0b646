//! Diacritic folding with a byte-offset map back to the original text.
//!
//! Reporters type Vietnamese with or without diacritics ("tôi là" / "toi la"), so every
//! detector runs on one folded, ASCII-ish form and maps its spans back.
//!
//! Invariants:
//! - Case is preserved (only marks are removed), so detectors can still see capitalisation.
//! - Every folded byte knows the original character that produced it; [`Folded::to_original`]
//!   therefore always returns a range on `char` boundaries of the original, never past its end.
//! - A dropped character (a combining mark, a zero-width space) is attributed to the character
//!   before it, so a span ending on a base letter also covers that letter's marks: redaction never
//!   leaves an orphaned accent behind.

use std::ops::Range;

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Removes Vietnamese diacritics (and any other combining mark) and maps `đ`/`Đ` to `d`/`D`.
///
/// Everything else is kept as it is, case included: `"Tôi là Nguyễn Văn Đức"` becomes
/// `"Toi la Nguyen Van Duc"`. Use this for display or comparison; detection uses a slightly
/// stronger internal folding (also unifying dashes, spaces and full-width digits).
pub fn fold_diacritics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, false, &mut |f| out.push(f));
    }
    out
}

/// Folds one character, calling `emit` for each resulting character (zero or more).
///
/// With `for_matching`, separators that people paste from phones and word processors are
/// unified (non-breaking and thin spaces, typographic dashes, full-width digits and symbols) and
/// invisible characters are dropped, so that "0905\u{200B}000123" cannot slip past a detector.
fn fold_char(c: char, for_matching: bool, emit: &mut impl FnMut(char)) {
    match c {
        'đ' => return emit('d'),
        'Đ' => return emit('D'),
        _ => {}
    }
    if for_matching {
        match c {
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
                return emit(' ');
            }
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}' => return emit('-'),
            '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => return,
            '\u{FF10}'..='\u{FF19}' => {
                // Full-width digit: same offset from '0' as from U+FF10.
                let d = (c as u32) - 0xFF10;
                if let Some(ascii) = char::from_digit(d, 10) {
                    return emit(ascii);
                }
            }
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{FF07}' => return emit('\''),
            '\u{FF0B}' => return emit('+'),
            '\u{FF20}' => return emit('@'),
            '\u{FF0E}' => return emit('.'),
            _ => {}
        }
    }
    if c.is_ascii() {
        return emit(c);
    }
    decompose_canonical(c, |d| {
        if !is_combining_mark(d) {
            match d {
                'đ' => emit('d'),
                'Đ' => emit('D'),
                _ => emit(d),
            }
        }
    });
}

/// The folded form of a text plus, for each folded byte, the original character it came from.
pub(crate) struct Folded {
    /// The folded text the detectors run on.
    pub(crate) text: String,
    /// `starts[i]`: byte offset in the original of the character that produced folded byte `i`.
    starts: Vec<usize>,
    /// `ends[i]`: end offset (exclusive) of that character, extended over dropped marks after it.
    ends: Vec<usize>,
}

impl Folded {
    /// Folds `original` for matching and records the offset map.
    pub(crate) fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut starts = Vec::with_capacity(original.len());
        let mut ends = Vec::with_capacity(original.len());
        // Folded byte range emitted for the most recent original char that emitted anything.
        let mut last_emitted: Range<usize> = 0..0;
        for (pos, c) in original.char_indices() {
            let end = pos + c.len_utf8();
            let before = text.len();
            fold_char(c, true, &mut |f| text.push(f));
            let after = text.len();
            if after > before {
                starts.resize(after, pos);
                ends.resize(after, end);
                last_emitted = before..after;
            } else {
                // Dropped (a mark or an invisible char): glue it to the previous character so a
                // span that ends there takes it along.
                for e in &mut ends[last_emitted.clone()] {
                    *e = end;
                }
            }
        }
        Folded { text, starts, ends }
    }

    /// Maps a non-empty folded byte range to the original range covering the same characters.
    ///
    /// Returns `None` for an empty or out-of-bounds range (a detector bug we refuse to act on
    /// rather than panic over).
    pub(crate) fn to_original(&self, r: Range<usize>) -> Option<Range<usize>> {
        if r.start >= r.end || r.end > self.starts.len() {
            return None;
        }
        let start = *self.starts.get(r.start)?;
        let end = *self.ends.get(r.end - 1)?;
        Some(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_names() {
        assert_eq!(
            fold_diacritics("Tôi là Nguyễn Văn Đức"),
            "Toi la Nguyen Van Duc"
        );
        assert_eq!(
            fold_diacritics("số điện thoại của tôi"),
            "so dien thoai cua toi"
        );
        assert_eq!(
            fold_diacritics("ƯỚC MƠ ĐẸP ơ ư ă â ê ô"),
            "UOC MO DEP o u a a e o"
        );
        assert_eq!(fold_diacritics("plain ASCII 123"), "plain ASCII 123");
    }

    #[test]
    fn folds_decomposed_input() {
        // "tôi" typed as t + o + COMBINING CIRCUMFLEX + i (common from macOS keyboards).
        assert_eq!(fold_diacritics("to\u{0302}i"), "toi");
    }

    #[test]
    fn public_fold_keeps_other_characters() {
        assert_eq!(fold_diacritics("a\u{00A0}b–c"), "a\u{00A0}b–c");
        assert_eq!(fold_diacritics("日本"), "日本");
    }

    #[test]
    fn offset_map_points_back_to_whole_characters() {
        let original = "Tôi là Đức, sđt ０９０５";
        let f = Folded::new(original);
        assert_eq!(f.text, "Toi la Duc, sdt 0905");
        let pos = f.text.find("Duc").expect("folded text contains Duc");
        let r = f.to_original(pos..pos + 3).expect("in bounds");
        assert_eq!(&original[r], "Đức");
        let pos = f.text.find("0905").expect("folded digits");
        let r = f.to_original(pos..pos + 4).expect("in bounds");
        assert_eq!(&original[r], "０９０５");
    }

    #[test]
    fn dropped_marks_belong_to_previous_char() {
        let original = "to\u{0302}i x";
        let f = Folded::new(original);
        assert_eq!(f.text, "toi x");
        let r = f.to_original(0..2).expect("in bounds");
        assert_eq!(&original[r], "to\u{0302}");
        let f = Folded::new("09\u{200B}05");
        assert_eq!(f.text, "0905");
    }

    #[test]
    fn rejects_bad_ranges() {
        let f = Folded::new("abc");
        assert!(f.to_original(1..1).is_none());
        assert!(f.to_original(2..9).is_none());
    }
}
