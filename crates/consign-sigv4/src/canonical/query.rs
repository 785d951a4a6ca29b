//! The canonical query string: the third line of a canonical request.

use std::ops::Range;

use crate::encoding::{BadPercentEncoding, Slash, query_decode, uri_encode, uri_encode_into, uri_encode_str_into};

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

    /// Adds a parameter given in decoded form whose value is the
    /// concatenation of `value_parts`; each is encoded here.
    pub(crate) fn push_parts<'v>(&mut self, name: &str, value_parts: impl IntoIterator<Item = &'v str>) {
        let start = self.text.len();
        uri_encode_str_into(&mut self.text, name, Slash::Encode);
        let middle = self.text.len();
        for part in value_parts {
            uri_encode_str_into(&mut self.text, part, Slash::Encode);
        }
        self.pairs.push((start..middle, middle..self.text.len()));
    }

    fn push_bytes(&mut self, name: &[u8], value: &[u8]) {
        let start = self.text.len();
        uri_encode_into(&mut self.text, name, Slash::Encode);
        let middle = self.text.len();
        uri_encode_into(&mut self.text, value, Slash::Encode);
        self.pairs.push((start..middle, middle..self.text.len()));
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
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            let name = query_decode(name)?;
            if skip(&name) {
                continue;
            }
            let value = query_decode(value)?;
            canonical.push_bytes(&name, &value);
        }
        Ok(canonical)
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
