//! AWS `UriEncode` and its inverse.
//!
//! SigV4 percent-encodes every byte except the unreserved characters
//! `A-Z a-z 0-9 - _ . ~`, with upper-case hex digits (`%2F`, never `%2f`).
//! Paths keep their `/`; query names and values encode it.

use std::borrow::Cow;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `/` is written as is (object paths) or as `%2F` (query strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slash {
    /// Keep `/` (for paths).
    Keep,
    /// Encode `/` as `%2F` (for query names and values).
    Encode,
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

/// Appends `input`, encoded with AWS `UriEncode`, to `out`.
pub fn uri_encode_into(out: &mut String, input: &[u8], slash: Slash) {
    let mut start = 0;
    for (i, &byte) in input.iter().enumerate() {
        if is_unreserved(byte) || (byte == b'/' && slash == Slash::Keep) {
            continue;
        }
        // Bytes before `i` are unreserved ASCII, hence valid UTF-8.
        out.push_str(std::str::from_utf8(&input[start..i]).unwrap_or_default());
        out.push('%');
        out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
        start = i + 1;
    }
    out.push_str(std::str::from_utf8(&input[start..]).unwrap_or_default());
}

/// `input` encoded with AWS `UriEncode`.
pub fn uri_encode(input: &str, slash: Slash) -> Cow<'_, str> {
    if input.bytes().all(|b| is_unreserved(b) || (b == b'/' && slash == Slash::Keep)) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len() * 3);
    uri_encode_into(&mut out, input.as_bytes(), slash);
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

/// Decodes `%XX` escapes. `+` stays `+`: SigV4 never writes a space as `+`.
///
/// # Errors
/// [`BadPercentEncoding`] when a `%` is not followed by two hex digits.
pub fn percent_decode(input: &str) -> Result<Cow<'_, [u8]>, BadPercentEncoding> {
    if !input.contains('%') {
        return Ok(Cow::Borrowed(input.as_bytes()));
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => {
                    return Err(BadPercentEncoding { input: input.chars().take(256).collect() });
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
