//! The canonical query string: the third line of a canonical request.

use std::borrow::Cow;
use std::ops::Range;

use crate::encoding::{
    BadPercentEncoding, Slash, is_canonical_encoding, query_decode, uri_encode, uri_encode_into, uri_encode_str_into,
};

/// One `name=value` of a query string as received, split, with its name
/// decoded once for every step of verification that looks at it.
#[derive(Debug, Clone)]
pub(crate) struct WireParam<'q> {
    /// The name as sent.
    pub raw_name: &'q str,
    /// The value as sent (empty for `name` without `=`).
    pub raw_value: &'q str,
    /// The decoded name when it differs from the raw one; `None` when the
    /// raw name holds no `%` or `+`, or when its escapes are invalid.
    decoded_name: Option<Cow<'q, [u8]>>,
    /// Whether the name holds a `%` or `+`.
    name_escaped: bool,
    /// Whether the value holds a `%` or `+`.
    value_escaped: bool,
}

/// What the query splitter looks for in each byte.
const fn query_byte_classes() -> [u8; 256] {
    let mut classes = [PLAIN; 256];
    classes[b'&' as usize] = AMPERSAND;
    classes[b'=' as usize] = EQUALS;
    classes[b'%' as usize] = ESCAPE;
    classes[b'+' as usize] = ESCAPE;
    classes
}
const PLAIN: u8 = 0;
const AMPERSAND: u8 = 1;
const EQUALS: u8 = 2;
const ESCAPE: u8 = 3;
const QUERY_BYTE_CLASSES: [u8; 256] = query_byte_classes();

/// The index of the first `&`, `=`, `%` or `+` in `bytes` at or after
/// `from`, or `bytes.len()`. Eight bytes are tested at a time: a byte of a
/// word equals `c` when that byte of `word ^ c…c` is zero, and the classic
/// zero-byte test finds the lowest such byte exactly.
fn next_special(bytes: &[u8], from: usize) -> usize {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let hits = [b'&', b'=', b'%', b'+'].iter().fold(0, |hits, &c| hits | zero_bytes(word ^ (LOW * u64::from(c))));
        if hits != 0 {
            return at + (hits.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while bytes.get(at).is_some_and(|&b| QUERY_BYTE_CLASSES[usize::from(b)] == PLAIN) {
        at += 1;
    }
    at
}

impl<'q> WireParam<'q> {
    /// The non-empty parameters of `query`, in order, found in one pass
    /// over its bytes that also notes which parts need decoding.
    pub fn split(query: &'q str) -> impl Iterator<Item = Self> {
        let mut rest = query;
        std::iter::from_fn(move || {
            loop {
                if rest.is_empty() {
                    return None;
                }
                let (param, after) = Self::read_one(rest);
                rest = after;
                if param.is_some() {
                    return param;
                }
            }
        })
    }

    /// Reads the parameter at the start of `text` (`None` when it is empty)
    /// and returns what follows its `&`.
    fn read_one(text: &'q str) -> (Option<Self>, &'q str) {
        let bytes = text.as_bytes();
        let mut equals = None;
        let mut escaped = [false, false];
        let mut end = 0;
        // Jump from one special byte to the next; most bytes are plain.
        loop {
            end = next_special(bytes, end);
            let Some(&byte) = bytes.get(end) else {
                break;
            };
            match QUERY_BYTE_CLASSES[usize::from(byte)] {
                AMPERSAND => break,
                EQUALS if equals.is_none() => equals = Some(end),
                ESCAPE => escaped[usize::from(equals.is_some())] = true,
                _ => {}
            }
            end += 1;
        }
        // `&` and `=` are ASCII, so every cut falls on a character boundary.
        let after = text.get(end + 1..).unwrap_or_default();
        if end == 0 {
            return (None, after);
        }
        let param = text.get(..end).unwrap_or_default();
        let (raw_name, raw_value) = match equals {
            Some(at) => (param.get(..at).unwrap_or_default(), param.get(at + 1..).unwrap_or_default()),
            None => (param, ""),
        };
        let [name_escaped, value_escaped] = escaped;
        let decoded_name = if name_escaped { query_decode(raw_name).ok() } else { None };
        (Some(Self { raw_name, raw_value, decoded_name, name_escaped, value_escaped }), after)
    }

    /// The name when it holds no escape, so that it is its own decoding.
    pub fn plain_name(&self) -> Option<&'q str> {
        (!self.name_escaped).then_some(self.raw_name)
    }

    /// The decoded name (`+` is a space).
    pub fn name(&self) -> Result<&[u8], BadPercentEncoding> {
        if !self.name_escaped {
            return Ok(self.raw_name.as_bytes());
        }
        match &self.decoded_name {
            Some(name) => Ok(name),
            // Decoding failed when the name was split: do it again for the error.
            None => query_decode(self.raw_name).map(|_| &[][..]),
        }
    }

    /// The decoded value (`+` is a space).
    pub fn value(&self) -> Result<Cow<'q, [u8]>, BadPercentEncoding> {
        if self.value_escaped { query_decode(self.raw_value) } else { Ok(Cow::Borrowed(self.raw_value.as_bytes())) }
    }
}

/// Query parameters gathered in encoded form, to be written sorted.
///
/// All names and values share one buffer, so building a query of a dozen
/// parameters costs one allocation for the text and one for the index.
#[derive(Debug, Default, Clone)]
pub struct CanonicalQuery {
    text: String,
    pairs: Vec<(Range<usize>, Range<usize>)>,
}

impl CanonicalQuery {
    /// An empty query with room for `params` parameters.
    pub fn with_capacity(params: usize, bytes: usize) -> Self {
        Self { text: String::with_capacity(bytes), pairs: Vec::with_capacity(params) }
    }

    /// Adds a parameter given in decoded form; it is encoded here.
    pub fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        uri_encode_str_into(&mut self.text, name, Slash::Encode);
        let middle = self.text.len();
        uri_encode_str_into(&mut self.text, value, Slash::Encode);
        self.pairs.push((start..middle, middle..self.text.len()));
    }

    /// Adds a parameter whose name and value consist of unreserved
    /// characters only, so encoding would leave them unchanged.
    pub(crate) fn push_unreserved(&mut self, name: &str, value: &str) {
        debug_assert!(
            uri_encode(name, Slash::Encode) == name && uri_encode(value, Slash::Encode) == value,
            "{name}={value} needs encoding"
        );
        let start = self.text.len();
        self.text.push_str(name);
        let middle = self.text.len();
        self.text.push_str(value);
        self.pairs.push((start..middle, middle..self.text.len()));
    }

    /// Adds a parameter whose name consists of unreserved characters and
    /// whose value is already encoded.
    pub(crate) fn push_encoded(&mut self, name: &str, encoded_value: &str) {
        self.push_unreserved(name, "");
        self.text.push_str(encoded_value);
        if let Some((_, value)) = self.pairs.last_mut() {
            value.end = self.text.len();
        }
    }

    /// Reads a query string as received (without the `?`), decoding each
    /// name and value and encoding it again, so that equivalent spellings
    /// (`%7e` and `~`) give the same canonical form; a raw `+` is a space. Parameters for which
    /// `skip` answers true (by decoded name) are left out.
    ///
    /// # Errors
    /// A name or value with a `%` that is not an escape.
    pub fn from_wire(query: &str, skip: impl Fn(&[u8]) -> bool) -> Result<Self, BadPercentEncoding> {
        let mut canonical = Self::with_capacity(8, query.len() + 16);
        for param in WireParam::split(query) {
            canonical.push_wire(&param, &skip)?;
        }
        Ok(canonical)
    }

    /// [`Self::from_wire`] over parameters already split.
    pub(crate) fn from_wire_params(
        params: &[WireParam<'_>],
        bytes: usize,
        skip: impl Fn(&[u8]) -> bool,
    ) -> Result<Self, BadPercentEncoding> {
        let mut canonical = Self::with_capacity(params.len(), bytes + 16);
        for param in params {
            canonical.push_wire(param, &skip)?;
        }
        Ok(canonical)
    }

    /// Adds one parameter as received, unless `skip` answers true for its
    /// decoded name. Text already in canonical form (what every SigV4
    /// signer sends) is copied as it is; anything else is decoded and
    /// encoded again, which gives the same result the long way.
    fn push_wire(&mut self, param: &WireParam<'_>, skip: &impl Fn(&[u8]) -> bool) -> Result<(), BadPercentEncoding> {
        let name = param.name()?;
        if skip(name) {
            return Ok(());
        }
        let start = self.text.len();
        if is_canonical_encoding(param.raw_name, Slash::Encode) {
            self.text.push_str(param.raw_name);
        } else {
            uri_encode_into(&mut self.text, name, Slash::Encode);
        }
        let middle = self.text.len();
        if is_canonical_encoding(param.raw_value, Slash::Encode) {
            self.text.push_str(param.raw_value);
        } else {
            uri_encode_into(&mut self.text, &param.value()?, Slash::Encode);
        }
        self.pairs.push((start..middle, middle..self.text.len()));
        Ok(())
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Appends `name=value&…`, sorted by encoded name, then by value.
    pub fn write_sorted(&mut self, out: &mut String) {
        let text = &self.text;
        self.pairs.sort_unstable_by(|(an, av), (bn, bv)| {
            text[an.clone()].cmp(&text[bn.clone()]).then_with(|| text[av.clone()].cmp(&text[bv.clone()]))
        });
        for (i, (name, value)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(&text[name.clone()]);
            out.push('=');
            out.push_str(&text[value.clone()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(wire: &str) -> String {
        let mut out = String::new();
        CanonicalQuery::from_wire(wire, |_| false).unwrap().write_sorted(&mut out);
        out
    }

    #[test]
    fn sorts_by_encoded_name_then_value() {
        assert_eq!(canonical("b=2&a=2&a=1&%E1%88%B4=x&A=0"), "%E1%88%B4=x&A=0&a=1&a=2&b=2");
    }

    #[test]
    fn splits_like_split_on_ampersand_and_first_equals() {
        let params: Vec<_> = WireParam::split("&a=1&&b&c=x=y&%41+=%2B&").collect();
        let raw: Vec<_> = params.iter().map(|p| (p.raw_name, p.raw_value)).collect();
        assert_eq!(raw, [("a", "1"), ("b", ""), ("c", "x=y"), ("%41+", "%2B")]);
        assert_eq!(params[3].name().unwrap(), b"A ");
        assert_eq!(params[3].value().unwrap().as_ref(), b"+");
        assert_eq!(params[2].value().unwrap().as_ref(), b"x=y");
        assert!(WireParam::split("%4=1").next().unwrap().name().is_err());
    }

    #[test]
    fn next_special_finds_the_first_special_byte_at_every_position() {
        let plain = "abcdefghijklmnopqrstuvwxyz0123456789";
        for special in ['&', '=', '%', '+'] {
            for at in 0..plain.len() {
                let mut text = plain.to_owned();
                text.insert(at, special);
                text.push('&');
                for from in 0..=at {
                    assert_eq!(next_special(text.as_bytes(), from), at, "{text:?} from {from}");
                }
            }
        }
        assert_eq!(next_special(plain.as_bytes(), 3), plain.len());
    }

    #[test]
    fn valueless_parameters_get_an_empty_value() {
        assert_eq!(canonical("uploads&prefix=a"), "prefix=a&uploads=");
    }

    #[test]
    fn re_encodes_equivalent_spellings_identically() {
        assert_eq!(canonical("k=%7e%2f/ "), "k=~%2F%2F%20");
        assert_eq!(canonical("k=a+b&p=a%2Bb"), "k=a%20b&p=a%2Bb");
    }

    #[test]
    fn skips_named_parameters() {
        let mut out = String::new();
        CanonicalQuery::from_wire("X-Amz-Signature=abc&a=1", |name| name == b"X-Amz-Signature")
            .unwrap()
            .write_sorted(&mut out);
        assert_eq!(out, "a=1");
    }
}
