//! Text for a terminal. Everything the review client prints comes from people the reviewer
//! must not have to trust with their terminal: the reporter's story, file names and names, the
//! server's answers. A control character or escape sequence in any of them could move the
//! cursor, rewrite what was printed before, retitle the window or, in some terminals, answer
//! back as if typed; bidirectional overrides can make a line read differently from its bytes.
//! [`safe`] keeps line breaks and Vietnamese (any printable Unicode) intact and shows every
//! other control character visibly as its `\u{…}` escape.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a character may reach the terminal as itself.
fn harmless(c: char) -> bool {
    if c == '\n' {
        return true;
    }
    if c.is_control() {
        // C0 (including ESC and tab), DEL and C1 (including the one-byte CSI, U+009B).
        return false;
    }
    !matches!(
        c,
        // Bidirectional embeddings, overrides and isolates; line and paragraph separators.
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
    )
}

/// `s` with every character that could act on the terminal replaced by its visible escape;
/// borrowed unchanged when there is none (the usual case).
pub fn safe(s: &str) -> Cow<'_, str> {
    if s.chars().all(harmless) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if harmless(c) {
            out.push(c);
        } else if c == '\t' {
            out.push_str("    ");
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// `println!` through [`safe`].
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::cli::term::safe(&format!($($arg)*)))
    };
}
pub(crate) use say;

/// `eprintln!` through [`safe`].
macro_rules! esay {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::cli::term::safe(&format!($($arg)*)))
    };
}
pub(crate) use esay;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_and_line_breaks_pass_unchanged() {
        let s = "Cán bộ phường Nha Trang đòi 2 triệu đồng \"bồi dưỡng\".\nNgày 3/11.";
        assert!(matches!(safe(s), Cow::Borrowed(_)));
        assert_eq!(safe(s), s);
    }

    #[test]
    fn escapes_and_controls_are_shown_not_obeyed() {
        let evil = "ok\x1b]0;pwned\x07\x1b[2J\r\u{9b}31m\u{202e}gnp.exe\u{7f}\tx";
        let shown = safe(evil);
        assert!(!shown.chars().any(|c| !harmless(c)), "{shown:?}");
        assert_eq!(
            shown,
            "ok\\u{001b}]0;pwned\\u{0007}\\u{001b}[2J\\u{000d}\\u{009b}31m\\u{202e}gnp.exe\\u{007f}    x"
        );
    }
}
