//! Canonical headers and the signed-headers list: lines four and five of a
//! canonical request.

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::request::eq_ignore_case;
use crate::scan::all_bytes;

/// Headers kept inline before spilling to the heap: a presigned URL signs
/// `host` and a few more, a header signature adds about four of its own.
const INLINE_HEADERS: usize = 8;

/// The headers that take part in a signature, lower-cased, sorted, with
/// their values trimmed, inner runs of whitespace collapsed, and repeated
/// headers joined with `,`.
#[derive(Debug, Clone, Default)]
pub struct CanonicalHeaders<'a> {
    entries: SmallVec<[(Cow<'a, str>, Cow<'a, str>); INLINE_HEADERS]>,
}

impl<'a> CanonicalHeaders<'a> {
    /// Collects `headers`, in any order and any case. Each is inserted in
    /// turn: they usually come sorted or nearly so, which costs less than
    /// collecting them all and sorting.
    pub fn new(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut collected = Self::default();
        for (name, value) in headers {
            collected.insert(name, value);
        }
        collected
    }

    /// Adds one header (or one more value of a header already present).
    pub fn insert(&mut self, name: &'a str, value: &'a str) {
        self.insert_canonical(lower_case(name), value);
    }

    /// [`Self::insert`] of a name known to be lower case already (a
    /// verified signed-header name), which is not scanned again.
    pub(crate) fn insert_lower(&mut self, lower_name: &'a str, value: &'a str) {
        debug_assert!(!lower_name.bytes().any(|b| b.is_ascii_uppercase()), "{lower_name} has upper case");
        self.insert_canonical(Cow::Borrowed(lower_name), value);
    }

    fn insert_canonical(&mut self, name: Cow<'a, str>, value: &'a str) {
        let value = canonical_value(value);
        // Signers list their headers sorted, so each usually goes last.
        if self.entries.last().is_none_or(|(last, _)| *last < name) {
            self.entries.push((name, value));
            return;
        }
        match self.entries.binary_search_by(|(n, _)| n.as_ref().cmp(&name)) {
            Ok(i) => {
                let joined = self.entries[i].1.to_mut();
                joined.push(',');
                joined.push_str(&value);
            }
            Err(i) => self.entries.insert(i, (name, value)),
        }
    }

    /// Whether a header of that (lower-case) name is present.
    pub fn contains(&self, lower_name: &str) -> bool {
        self.entries.binary_search_by(|(n, _)| n.as_ref().cmp(lower_name)).is_ok()
    }

    /// Whether a header named `name`, in any case, is present.
    pub(crate) fn contains_ignore_case(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| eq_ignore_case(n, name))
    }

    /// The lower-case names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_ref())
    }

    /// Appends `name:value\n` for every header.
    pub fn write_headers(&self, out: &mut String) {
        for (name, value) in &self.entries {
            out.push_str(name);
            out.push(':');
            out.push_str(value);
            out.push('\n');
        }
    }

    /// Appends `name;name;…`.
    pub fn write_signed_names(&self, out: &mut String) {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(name);
        }
    }
}

fn lower_case(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Trims the value and collapses every inner run of whitespace (including
/// the line breaks of folded header lines) into one space.
fn canonical_value(value: &str) -> Cow<'_, str> {
    // Whitespace is ASCII, so trimming and scanning byte by byte sees
    // exactly what a char-wise pass would.
    let bytes = value.as_bytes();
    // The usual value holds no byte at or below a space, so it is already
    // canonical. (Tested sixteen bytes at a time: values are short.)
    if all_bytes(bytes, |b| b > b' ') {
        return Cow::Borrowed(value);
    }
    let start = bytes.iter().position(|&b| !is_space_byte(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|&b| !is_space_byte(b)).map_or(start, |last| last + 1);
    let trimmed = value.get(start..end).unwrap_or_default();
    let mut previous_space = false;
    let already_canonical = trimmed.bytes().all(|b| {
        let ok = b == b' ' && !previous_space || !is_space_byte(b);
        previous_space = is_space_byte(b);
        ok
    });
    if already_canonical {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split(is_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(headers: &[(&'static str, &'static str)]) -> String {
        let canonical = CanonicalHeaders::new(headers.iter().copied());
        let mut out = String::new();
        canonical.write_headers(&mut out);
        canonical.write_signed_names(&mut out);
        out
    }

    #[test]
    fn lower_cases_sorts_trims_and_joins() {
        assert_eq!(
            render(&[("My-Header1", "  a   b  "), ("host", "h"), ("my-header1", "c"), ("X-Amz-Date", "d")]),
            "host:h\nmy-header1:a b,c\nx-amz-date:d\nhost;my-header1;x-amz-date"
        );
    }

    #[test]
    fn folded_lines_become_single_spaces() {
        assert_eq!(render(&[("a", "value1\n  value2\n     value3")]), "a:value1 value2 value3\na");
    }

    #[test]
    fn insert_keeps_the_order_sorted() {
        let mut canonical = CanonicalHeaders::new([("host", "h"), ("x-amz-meta-a", "1")]);
        canonical.insert("X-Amz-Date", "d");
        canonical.insert("content-type", "t");
        canonical.insert("x-amz-meta-a", "2");
        let mut out = String::new();
        canonical.write_signed_names(&mut out);
        assert_eq!(out, "content-type;host;x-amz-date;x-amz-meta-a");
        assert!(canonical.contains("x-amz-date"));
    }
}
