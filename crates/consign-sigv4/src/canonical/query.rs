//! The canonical query string: the third line of a canonical request.

use std::borrow::Cow;
use std::ops::Range;

use crate::encoding::{
    BadPercentEncoding, Slash, is_canonical_encoding, is_canonical_escape, query_decode, uri_encode, uri_encode_into,
    uri_encode_str_into,
};
use crate::scan::find_any;

/// One `name=value` of a query string as received, split, with what the
/// split noticed about its encoding.
#[derive(Debug, Clone)]
pub(crate) struct WireParam<'q> {
    /// The name as sent.
    pub raw_name: &'q str,
    /// The value as sent (empty for `name` without `=`).
    pub raw_value: &'q str,
    /// Where `name=value` starts in the query.
    start: usize,
    /// Whether there is a `=`, so that `name=value` as sent is the
    /// parameter's canonical form when both parts are canonical.
    has_equals: bool,
    /// Whether the name holds a `%` or `+`.
    name_escaped: bool,
    /// Whether the value holds a `%` or `+`.
    value_escaped: bool,
    /// Whether the name is in canonical encoding (see
    /// [`is_canonical_encoding`]), so it is its own canonical form.
    name_canonical: bool,
    /// The same for the value.
    value_canonical: bool,
}

/// Room made for parameters before the split grows its list: a presigned
/// URL has seven `X-Amz-*` ones, an upload part two more.
const EXPECTED_PARAMS: usize = 10;

/// A query split into its parameters. (A `SmallVec` of them was tried: it
/// saved the allocation but cost more in copies of the parse that holds it.)
pub(crate) type WireParams<'q> = Vec<WireParam<'q>>;

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
/// `from`, or `bytes.len()`.
fn next_special(bytes: &[u8], from: usize) -> usize {
    find_any(bytes, from, [b'&', b'=', b'%', b'+'])
}

impl<'q> WireParam<'q> {
    /// The non-empty parameters of `query`, in order, found in one pass
    /// over its bytes that also notes which parts need decoding and which
    /// are already canonical.
    pub fn split(query: &'q str) -> impl Iterator<Item = Self> {
        let plain = is_plain_query(query.as_bytes());
        let mut rest = query;
        std::iter::from_fn(move || {
            loop {
                if rest.is_empty() {
                    return None;
                }
                let start = query.len() - rest.len();
                let (param, after) = Self::read_one(rest, start, plain);
                rest = after;
                if param.is_some() {
                    return param;
                }
            }
        })
    }

    /// [`Self::split`], collected with room for the usual number.
    pub fn split_all(query: &'q str) -> WireParams<'q> {
        let mut params = Vec::with_capacity(EXPECTED_PARAMS);
        params.extend(Self::split(query));
        params
    }

    /// Reads the parameter at the start of `text`, which is at `start` in
    /// the query (`None` when it is empty), and returns what follows its
    /// `&`. `plain` says that the whole query
    /// holds only unreserved bytes, `%`, `&` and `=`, so that only its
    /// escapes (and a second `=`) can make a part not canonical.
    fn read_one(text: &'q str, start: usize, plain: bool) -> (Option<Self>, &'q str) {
        let bytes = text.as_bytes();
        let mut equals = None;
        let mut escaped = [false, false];
        let mut not_canonical = [!plain, !plain];
        let mut end = 0;
        // Jump from one special byte to the next; most bytes are plain.
        loop {
            end = next_special(bytes, end);
            let Some(&byte) = bytes.get(end) else {
                break;
            };
            let part = usize::from(equals.is_some());
            match QUERY_BYTE_CLASSES[usize::from(byte)] {
                AMPERSAND => break,
                EQUALS if equals.is_none() => equals = Some(end),
                // A second `=` belongs to the value, which encodes it.
                EQUALS => not_canonical[1] = true,
                ESCAPE => {
                    escaped[part] = true;
                    not_canonical[part] |= byte == b'+' || !is_canonical_escape(&bytes[end..], Slash::Encode);
                }
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
        // Outside a plain query, other bytes may need encoding: look again.
        let canonical = |raw: &str, not: bool| if plain { !not } else { is_canonical_encoding(raw, Slash::Encode) };
        let param = Self {
            raw_name,
            raw_value,
            start,
            has_equals: equals.is_some(),
            name_escaped,
            value_escaped,
            name_canonical: canonical(raw_name, not_canonical[0]),
            value_canonical: canonical(raw_value, not_canonical[1]),
        };
        (Some(param), after)
    }

    /// Where `name=value` is in the query, when it has its `=`.
    fn sent_span(&self) -> Option<Range<usize>> {
        let end = self.start + self.raw_name.len() + 1 + self.raw_value.len();
        self.has_equals.then_some(self.start..end)
    }

    /// The name when it holds no escape, so that it is its own decoding.
    pub fn plain_name(&self) -> Option<&'q str> {
        (!self.name_escaped).then_some(self.raw_name)
    }

    /// The decoded name (`+` is a space).
    pub fn name(&self) -> Result<Cow<'q, [u8]>, BadPercentEncoding> {
        if self.name_escaped { query_decode(self.raw_name) } else { Ok(Cow::Borrowed(self.raw_name.as_bytes())) }
    }

    /// The decoded value (`+` is a space).
    pub fn value(&self) -> Result<Cow<'q, [u8]>, BadPercentEncoding> {
        if self.value_escaped { query_decode(self.raw_value) } else { Ok(Cow::Borrowed(self.raw_value.as_bytes())) }
    }
}

/// Whether `query` holds only unreserved bytes, `%`, `&` and `=`: then
/// only its escapes can keep a name or value from being canonical. A fold
/// without early exit over byte compares, which the compiler vectorizes.
fn is_plain_query(query: &[u8]) -> bool {
    let outside = query.iter().fold(0u8, |outside, &b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        // `%&` and `-.` are neighbours, `0`-`9` a range: one compare each.
        let percent_ampersand = b.wrapping_sub(b'%') < 2;
        let dash_dot = b.wrapping_sub(b'-') < 2;
        let digit = b.wrapping_sub(b'0') < 10;
        let other = (b == b'_') | (b == b'~') | (b == b'=');
        outside | u8::from(!(letter | percent_ampersand | dash_dot | digit | other))
    });
    outside == 0
}

/// Whether every parameter of `params` that `skip` keeps is already
/// canonical and they come sorted, as every SigV4 signer sends them: then
/// [`write_as_sent`] writes the canonical query from the text as sent.
/// `skip` is given the name as sent; an escaped name in canonical form
/// never decodes to an unreserved name such as `X-Amz-Signature`.
pub(crate) fn is_canonical_as_sent(params: &[WireParam<'_>], skip: impl Fn(&str) -> bool) -> bool {
    let mut previous: Option<(&str, &str)> = None;
    for param in params {
        if !(param.name_canonical && param.value_canonical) {
            return false;
        }
        if skip(param.raw_name) {
            continue;
        }
        let pair = (param.raw_name, param.raw_value);
        if previous.is_some_and(|p| p > pair) {
            return false;
        }
        previous = Some(pair);
    }
    true
}

/// Writes the canonical query of `params`, split from `query`, for which
/// [`is_canonical_as_sent`] holds, leaving out those `skip` names.
/// Parameters that follow each other in `query` are copied in one piece.
pub(crate) fn write_as_sent(query: &str, params: &[WireParam<'_>], skip: impl Fn(&str) -> bool, out: &mut String) {
    let start = out.len();
    let flush = |run: Range<usize>, out: &mut String| {
        if out.len() > start {
            out.push('&');
        }
        out.push_str(&query[run]);
    };
    let mut run: Option<Range<usize>> = None;
    for param in params.iter().filter(|p| !skip(p.raw_name)) {
        let span = param.sent_span();
        match (&mut run, span) {
            (Some(run), Some(span)) if span.start == run.end + 1 => run.end = span.end,
            (_, span) => {
                if let Some(done) = run.take() {
                    flush(done, out);
                }
                match span {
                    Some(span) => run = Some(span),
                    // A name without `=`: its canonical form adds one.
                    None => {
                        flush(param.start..param.start + param.raw_name.len(), out);
                        out.push('=');
                    }
                }
            }
        }
    }
    if let Some(done) = run {
        flush(done, out);
    }
}

/// Writes `query` without the parameter at `span` and the `&` that joins
/// it to the rest: the canonical query of a query that is canonical and
/// sorted as sent but for that parameter (`X-Amz-Signature`).
pub(crate) fn write_without(query: &str, span: Range<usize>, out: &mut String) {
    let before = query.get(..span.start).unwrap_or_default();
    let after = query.get(span.end..).unwrap_or_default();
    match before.strip_suffix('&') {
        Some(before) => {
            out.push_str(before);
            out.push_str(after);
        }
        None => out.push_str(after.strip_prefix('&').unwrap_or(after)),
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
        if skip(&name) {
            return Ok(());
        }
        let start = self.text.len();
        if param.name_canonical {
            self.text.push_str(param.raw_name);
        } else {
            uri_encode_into(&mut self.text, &name, Slash::Encode);
        }
        let middle = self.text.len();
        if param.value_canonical {
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
        assert_eq!(params[3].name().unwrap().as_ref(), b"A ");
        assert_eq!(params[3].value().unwrap().as_ref(), b"+");
        assert_eq!(params[2].value().unwrap().as_ref(), b"x=y");
        assert!(WireParam::split("%4=1").next().unwrap().name().is_err());
    }

    #[test]
    fn a_query_sent_canonical_and_sorted_is_copied_as_it_is() {
        let skip = |name: &str| name == "X-Amz-Signature";
        for (query, as_sent) in [
            ("a=1&b=2&X-Amz-Signature=f&c=%2F", true),
            ("X-Amz-Signature=f&a=1&&b&b=&c=3", true),
            ("a=1&b=%2f", false),
            ("a=1&b=%41", false),
            ("a=1&b=x=y", false),
            ("b=1&a=2", false),
            ("a=2&a=1", false),
            ("a=1&a=1&a=2", true),
            ("a=1+2", false),
            ("a=é", false),
            ("a=%C3%A9&b=~", true),
        ] {
            let params: Vec<_> = WireParam::split(query).collect();
            assert_eq!(is_canonical_as_sent(&params, skip), as_sent, "{query:?}");
            if as_sent {
                let mut sorted = String::new();
                CanonicalQuery::from_wire(query, |name| skip(std::str::from_utf8(name).unwrap()))
                    .unwrap()
                    .write_sorted(&mut sorted);
                let mut copied = String::from("unchanged");
                write_as_sent(query, &params, skip, &mut copied);
                assert_eq!(copied, format!("unchanged{sorted}"), "{query:?}");
            }
        }
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
