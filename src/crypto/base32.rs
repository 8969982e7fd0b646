//! Crockford base32 (<https://www.crockford.com/base32.html>): digits and letters without
//! I, L, O and U, so that codes read aloud or copied by hand survive. Decoding is tolerant:
//! ASCII case-insensitive, O → 0, I and L → 1, and it skips four separator characters anywhere
//! in the input: space (U+0020), dash `-`, underscore `_` and no-break space (U+00A0). Nothing
//! else is skipped: a tab, a newline or any other character is an error, so callers that want
//! surrounding white space ignored must trim first. Crockford's check symbol is not used.
//! `docs/FORMATS.md` §3 specifies both directions.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Encodes `bytes` (big-endian bit order) as upper-case Crockford base32 without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The value of one symbol, with Crockford's confusion rules; `None` for anything else.
fn value(c: char) -> Option<u8> {
    let c = c.to_ascii_uppercase();
    let c = match c {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .map(|p| p as u8)
}

/// Decodes Crockford base32 into exactly `len` bytes. The separators space (U+0020), `-`, `_`
/// and no-break space (U+00A0) are skipped wherever they appear; ASCII letters are read in
/// either case, with O as 0 and I or L as 1. Returns `None` for any other character (tabs and
/// newlines included), a symbol count other than `⌈8·len / 5⌉`, or non-zero padding bits (so
/// that every byte string has exactly one encoding, up to case, separators and O/I/L).
pub fn decode(s: &str, len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut symbols = 0usize;
    for c in s.chars() {
        if matches!(c, ' ' | '-' | '_' | '\u{a0}') {
            continue;
        }
        let v = value(c)?;
        symbols += 1;
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let expected_symbols = (len * 8).div_ceil(5);
    if symbols != expected_symbols || out.len() != len || acc != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_value() {
        assert_eq!(encode(&[0xff; 5]), "ZZZZZZZZ");
        assert_eq!(encode(&[0; 5]), "00000000");
        assert_eq!(decode("zzzz-zzzz", 5).unwrap(), vec![0xff; 5]);
        assert_eq!(decode("OOOO IIII", 5), decode("0000 1111", 5));
        assert_eq!(decode("oooo-iiLl", 5), decode("0000 1111", 5));
        assert!(decode("0000 1111", 5).is_some());
    }

    #[test]
    fn separators_are_exactly_space_dash_underscore_and_no_break_space() {
        let plain = decode("7Q4M2XPA", 5);
        assert!(plain.is_some());
        for s in [
            "7Q4M 2XPA",
            "7Q4M-2XPA",
            "7Q4M_2XPA",
            "7Q4M\u{a0}2XPA",
            " -_\u{a0}7Q4M2XPA\u{a0}_- ",
        ] {
            assert_eq!(decode(s, 5), plain, "{s:?}");
        }
        for s in [
            "7Q4M\t2XPA",
            "7Q4M2XPA\n",
            "7Q4M2XPA\r\n",
            "7Q4M.2XPA",
            "7Q4M\u{2009}2XPA",
        ] {
            assert_eq!(decode(s, 5), None, "{s:?}");
        }
    }

    #[test]
    fn rejects_u_and_wrong_length() {
        assert!(decode("UUUUUUUU", 5).is_none());
        assert!(decode("0000000", 5).is_none());
        assert!(decode("000000000", 5).is_none());
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let s = encode(&bytes);
            prop_assert_eq!(decode(&s, bytes.len()), Some(bytes.clone()));
            prop_assert_eq!(decode(&s.to_lowercase(), bytes.len()), Some(bytes));
        }
    }
}
