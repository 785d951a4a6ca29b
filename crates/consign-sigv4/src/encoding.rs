//! AWS `UriEncode` and its inverse.
//!
//! SigV4 percent-encodes every byte except the unreserved characters
//! `A-Z a-z 0-9 - _ . ~`, with upper-case hex digits (`%2F`, never `%2f`).
//! Paths keep their `/`; query names and values encode it.

use std::borrow::Cow;

/// Which bytes are written as they are: the unreserved ones
/// (`A-Z a-z 0-9 - _ . ~`), plus `/` when `keep_slash`.
const fn kept_bytes(keep_slash: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') || (keep_slash && c == b'/');
        b += 1;
    }
    table
}

const KEPT_IN_QUERY: [bool; 256] = kept_bytes(false);
const KEPT_IN_PATH: [bool; 256] = kept_bytes(true);

/// `%00%01…%FF`: the escape of byte `b` is `ESCAPES[3 * b..3 * b + 3]`.
const ESCAPES: &str = {
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    const TABLE: [u8; 768] = {
        let mut table = [0u8; 768];
        let mut b = 0;
        while b < 256 {
            table[3 * b] = b'%';
            table[3 * b + 1] = HEX_UPPER[b >> 4];
            table[3 * b + 2] = HEX_UPPER[b & 0x0f];
            b += 1;
        }
        table
    };
    match std::str::from_utf8(&TABLE) {
        Ok(text) => text,
        Err(_) => panic!("the escape table is ASCII"),
    }
};

/// Whether `/` is written as is (object paths) or as `%2F` (query strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slash {
    /// Keep `/` (for paths).
    Keep,
    /// Encode `/` as `%2F` (for query names and values).
    Encode,
}

fn kept(slash: Slash) -> &'static [bool; 256] {
    match slash {
        Slash::Keep => &KEPT_IN_PATH,
        Slash::Encode => &KEPT_IN_QUERY,
    }
}

fn is_kept(byte: u8, slash: Slash) -> bool {
    kept(slash)[usize::from(byte)]
}

/// Appends `input`, encoded with AWS `UriEncode`, to `out`.
pub fn uri_encode_into(out: &mut String, input: &[u8], slash: Slash) {
    match std::str::from_utf8(input) {
        Ok(text) => uri_encode_str_into(out, text, slash),
        Err(_) => {
            for &byte in input {
                if is_kept(byte, slash) {
                    out.push(char::from(byte));
                } else {
                    push_escape(out, byte);
                }
            }
        }
    }
}

/// Appends `input`, encoded with AWS `UriEncode`, to `out`, copying runs of
/// unreserved characters whole.
pub(crate) fn uri_encode_str_into(out: &mut String, input: &str, slash: Slash) {
    let kept = kept(slash);
    let mut start = 0;
    for (i, &byte) in input.as_bytes().iter().enumerate() {
        if kept[usize::from(byte)] {
            continue;
        }
        // A run of kept bytes is ASCII, so it starts and ends on character
        // boundaries whenever it is not empty.
        out.push_str(input.get(start..i).unwrap_or_default());
        push_escape(out, byte);
        start = i + 1;
    }
    out.push_str(input.get(start..).unwrap_or_default());
}

fn push_escape(out: &mut String, byte: u8) {
    let at = 3 * usize::from(byte);
    out.push_str(&ESCAPES[at..at + 3]);
}

/// `value` in decimal, written into `buf` without going through `fmt`.
pub(crate) fn decimal(value: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    let mut rest = value;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

/// Whether `raw`, read as percent-encoded text, is already in the form
/// [`uri_encode_into`] gives its decoding: unreserved bytes (and `/` with
/// [`Slash::Keep`]) as they are, every other byte as `%XX` with upper-case
/// hex. Such text can be copied instead of decoded and encoded again.
pub(crate) fn is_canonical_encoding(raw: &str, slash: Slash) -> bool {
    let kept = kept(slash);
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if kept[usize::from(bytes[i])] {
            i += 1;
        } else if is_canonical_escape(&bytes[i..], slash) {
            i += 3;
        } else {
            return false;
        }
    }
    true
}

/// Whether `bytes` starts with an escape as [`uri_encode_into`] writes it:
/// `%XX` in upper-case hex, of a byte that encoding does not keep (`%41`
/// is not canonical, `A` is).
pub(crate) fn is_canonical_escape(bytes: &[u8], slash: Slash) -> bool {
    match bytes {
        [b'%', hi, lo, ..] => match upper_hex_value(*hi).zip(upper_hex_value(*lo)) {
            Some((hi, lo)) => !kept(slash)[usize::from((hi << 4) | lo)],
            None => false,
        },
        _ => false,
    }
}

fn upper_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// `input` encoded with AWS `UriEncode`.
pub fn uri_encode(input: &str, slash: Slash) -> Cow<'_, str> {
    if input.bytes().all(|b| is_kept(b, slash)) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len() * 3);
    uri_encode_str_into(&mut out, input, slash);
    Cow::Owned(out)
}

/// A `%` not followed by two hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPercentEncoding {
    /// The text that held it.
    pub input: String,
}

impl std::fmt::Display for BadPercentEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} has a '%' that is not followed by two hex digits", self.input)
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes. `+` stays `+`, as in a path.
///
/// # Errors
/// [`BadPercentEncoding`] when a `%` is not followed by two hex digits.
pub fn percent_decode(input: &str) -> Result<Cow<'_, [u8]>, BadPercentEncoding> {
    decode(input, false)
}

/// Decodes a query-string name or value: `%XX` escapes, and `+` as a space,
/// as S3, MinIO and the AWS SDKs read a query. Signers never send a raw
/// `+` (they write `%2B`), so this only matters for hand-written URLs.
///
/// # Errors
/// [`BadPercentEncoding`] when a `%` is not followed by two hex digits.
pub fn query_decode(input: &str) -> Result<Cow<'_, [u8]>, BadPercentEncoding> {
    decode(input, true)
}

fn decode(input: &str, plus_is_space: bool) -> Result<Cow<'_, [u8]>, BadPercentEncoding> {
    let special = |b: &u8| *b == b'%' || (plus_is_space && *b == b'+');
    let bytes = input.as_bytes();
    // Most names and values hold no escape. A fold without early exit over
    // the whole input compiles to SIMD compares, which beats stopping at
    // the first escape for text this short.
    let has_special = bytes.iter().fold(false, |found, &b| found | (b == b'%') | (plus_is_space & (b == b'+')));
    if !has_special {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    // Copy the text between escapes whole.
    while let Some(at) = rest.iter().position(special) {
        out.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            out.push(b' ');
            rest = &rest[at + 1..];
            continue;
        }
        let hi = rest.get(at + 1).and_then(|c| hex_value(*c));
        let lo = rest.get(at + 2).and_then(|c| hex_value(*c));
        match (hi, lo) {
            (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
            _ => {
                return Err(BadPercentEncoding { input: input.chars().take(256).collect() });
            }
        }
        rest = &rest[at + 3..];
    }
    out.extend_from_slice(rest);
    Ok(Cow::Owned(out))
}

/// The standard base64 alphabet.
const BASE64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Every 12-bit group as its two base64 characters (8 KiB), so the encoder
/// looks up two characters at once.
static BASE64_PAIRS: [[u8; 2]; 4096] = base64_pairs();

const fn base64_pairs() -> [[u8; 2]; 4096] {
    let mut pairs = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        pairs[i] = [BASE64_ALPHABET[i >> 6], BASE64_ALPHABET[i & 63]];
        i += 1;
    }
    pairs
}

/// Standard, padded base64 of `input` (as the `base64` crate's `STANDARD`
/// engine writes it), six input bytes to eight characters per step.
pub(crate) fn base64(input: &[u8]) -> String {
    let mut out = vec![0u8; input.len().div_ceil(3) * 4];
    let mut groups = input.chunks_exact(6);
    let mut outs = out.chunks_exact_mut(8);
    for (group, chars) in groups.by_ref().zip(outs.by_ref()) {
        let high = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
        let bits = u64::from(high) << 16 | u64::from(u16::from_be_bytes([group[4], group[5]]));
        for (i, pair) in chars.chunks_exact_mut(2).enumerate() {
            let index = (bits >> (36 - 12 * i)) & 0xfff;
            pair.copy_from_slice(&BASE64_PAIRS[usize::try_from(index).unwrap_or_default()]);
        }
    }
    // The last one to five bytes, three at a time, padded with `=`.
    let rest = groups.remainder();
    let tail = out.len() - rest.len().div_ceil(3) * 4;
    for (bytes, chars) in rest.chunks(3).zip(out[tail..].chunks_exact_mut(4)) {
        let b = [bytes[0], bytes.get(1).copied().unwrap_or(0), bytes.get(2).copied().unwrap_or(0)];
        let bits = usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
        chars.copy_from_slice(&[
            BASE64_ALPHABET[bits >> 18],
            BASE64_ALPHABET[(bits >> 12) & 63],
            BASE64_ALPHABET[(bits >> 6) & 63],
            BASE64_ALPHABET[bits & 63],
        ]);
        for pad in &mut chars[bytes.len() + 1..] {
            *pad = b'=';
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_base64_crate() {
        use base64::Engine;
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..data.len() {
            let input = &data[..len];
            assert_eq!(base64(input), base64::engine::general_purpose::STANDARD.encode(input), "length {len}");
        }
    }

    #[test]
    fn encodes_reserved_bytes_with_upper_case_hex() {
        assert_eq!(uri_encode("a b/c$d", Slash::Keep), "a%20b/c%24d");
        assert_eq!(uri_encode("a b/c$d", Slash::Encode), "a%20b%2Fc%24d");
        assert_eq!(uri_encode("ሴ", Slash::Keep), "%E1%88%B4");
        assert_eq!(uri_encode("-_.~AZaz09", Slash::Encode), "-_.~AZaz09");
        assert_eq!(uri_encode("+*=&%", Slash::Encode), "%2B%2A%3D%26%25");
    }

    #[test]
    fn decoding_reverses_encoding_for_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let mut encoded = String::new();
        uri_encode_into(&mut encoded, &all, Slash::Encode);
        assert_eq!(percent_decode(&encoded).unwrap().as_ref(), all.as_slice());
        assert_eq!(percent_decode("%e1%88%b4").unwrap().as_ref(), "ሴ".as_bytes());
    }

    #[test]
    fn rejects_truncated_or_non_hex_escapes() {
        for bad in ["%", "%4", "%zz", "a%2", "%%41"] {
            assert!(percent_decode(bad).is_err(), "{bad:?}");
        }
        assert_eq!(percent_decode("a+b").unwrap().as_ref(), b"a+b");
        assert_eq!(query_decode("a+b%2B").unwrap().as_ref(), b"a b+");
        assert_eq!(query_decode("a+b%2B").unwrap().as_ref(), b"a b+");
    }

    #[test]
    fn canonical_encoding_is_recognized_exactly() {
        for (raw, slash) in [("a%20b%2F", Slash::Encode), ("a/b%24", Slash::Keep), ("", Slash::Encode)] {
            assert!(is_canonical_encoding(raw, slash), "{raw:?}");
        }
        for (raw, slash) in [
            ("a/b", Slash::Encode),
            ("%2F", Slash::Keep),
            ("%2f", Slash::Encode),
            ("%41", Slash::Encode),
            ("a+b", Slash::Encode),
            ("%2", Slash::Encode),
            ("é", Slash::Encode),
        ] {
            assert!(!is_canonical_encoding(raw, slash), "{raw:?}");
        }
        // Exhaustively for every byte: canonical exactly when encoding the
        // decoding gives the text back.
        for byte in 0..=255u8 {
            for raw in [String::from(char::from(byte)), format!("%{byte:02X}"), format!("%{byte:02x}")] {
                if !raw.is_ascii() {
                    continue;
                }
                for slash in [Slash::Keep, Slash::Encode] {
                    let reencoded = percent_decode(&raw).map(|d| {
                        let mut out = String::new();
                        uri_encode_into(&mut out, &d, slash);
                        out
                    });
                    assert_eq!(is_canonical_encoding(&raw, slash), reencoded.as_deref() == Ok(raw.as_str()), "{raw:?}");
                }
            }
        }
    }
}
