//! Crockford base32 (<https://www.crockford.com/base32.html>): digits and letters without
//! I, L, O and U, so that codes read aloud or copied by hand survive. Decoding is tolerant:
//! case-insensitive, O → 0, I and L → 1, and it ignores spaces and dashes.

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

/// Decodes Crockford base32 into exactly `len` bytes. Spaces, dashes and underscores are
/// ignored. Returns `None` for any other character, a wrong length, or non-zero padding bits
/// (so that every byte string has exactly one encoding).
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
