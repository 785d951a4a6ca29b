//! The canonical request and the string to sign built from it.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>

mod headers;
mod query;
mod uri;

use std::fmt;
use std::ops::Range;

pub use headers::CanonicalHeaders;
pub use query::CanonicalQuery;
pub(crate) use query::{WireParam, WireParams, is_canonical_as_sent, write_as_sent, write_without};
pub use uri::{UriEncoding, push_object_path, push_wire_path};

use crate::crypto::{Hex64, sha256_hex};
use crate::scope::CredentialScope;
use crate::time::AmzDate;

/// The algorithm name that heads every SigV4 string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The six lines that a SigV4 signature covers, exactly as hashed.
///
/// `Display` prints the text, so a test or a user comparing with their own
/// client sees the exact bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct CanonicalRequest {
    text: String,
    uri: Range<usize>,
    query: Range<usize>,
    signed_headers: Range<usize>,
}

/// Appends lines four to six of a canonical request: the headers, the
/// signed-header list and the payload hash. Returns where the list is.
pub(crate) fn write_canonical_tail(
    out: &mut String,
    headers: &CanonicalHeaders<'_>,
    payload_hash: &str,
) -> Range<usize> {
    headers.write_headers(out);
    out.push('\n');
    let names_start = out.len();
    headers.write_signed_names(out);
    let signed_headers = names_start..out.len();
    out.push('\n');
    out.push_str(payload_hash);
    signed_headers
}

/// Writes a canonical request in order: method, URI, then the rest.
pub struct CanonicalRequestBuilder {
    text: String,
    uri_start: usize,
}

impl CanonicalRequestBuilder {
    /// Starts a canonical request for `method`; the URI is written next,
    /// through [`Self::uri`].
    pub fn new(method: &str, capacity: usize) -> Self {
        let mut text = String::with_capacity(capacity);
        text.push_str(method);
        text.push('\n');
        let uri_start = text.len();
        Self { text, uri_start }
    }

    /// The buffer to append the canonical URI to.
    pub fn uri(&mut self) -> &mut String {
        &mut self.text
    }

    /// Adds the query, headers, signed-headers list and payload hash.
    pub fn finish(
        self,
        query: &mut CanonicalQuery,
        headers: &CanonicalHeaders<'_>,
        payload_hash: &str,
    ) -> CanonicalRequest {
        self.finish_with(|text| query.write_sorted(text), headers, payload_hash)
    }

    /// Like [`Self::finish`], with the canonical query written by
    /// `write_query`.
    pub(crate) fn finish_with(
        mut self,
        write_query: impl FnOnce(&mut String),
        headers: &CanonicalHeaders<'_>,
        payload_hash: &str,
    ) -> CanonicalRequest {
        let uri = self.uri_start..self.text.len();
        self.text.push('\n');
        let query_start = self.text.len();
        write_query(&mut self.text);
        let query = query_start..self.text.len();
        self.text.push('\n');
        let signed_headers = write_canonical_tail(&mut self.text, headers, payload_hash);
        CanonicalRequest { text: self.text, uri, query, signed_headers }
    }
}

impl CanonicalRequest {
    /// The whole canonical request.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Line two: the canonical URI.
    pub fn canonical_uri(&self) -> &str {
        &self.text[self.uri.clone()]
    }

    /// Line three: the canonical query string, also usable as the query of
    /// the URL itself.
    pub fn canonical_query(&self) -> &str {
        &self.text[self.query.clone()]
    }

    /// Line five: the `;`-separated signed header names.
    pub fn signed_headers(&self) -> &str {
        &self.text[self.signed_headers.clone()]
    }

    /// The string to sign for this request at `time` within `scope`.
    pub fn string_to_sign(&self, time: &AmzDate, scope: &CredentialScope<'_>) -> StringToSign {
        StringToSign::new(ALGORITHM, time, scope, &self.hash())
    }

    /// Lower-case hex SHA-256 of the text: the last line of the string to
    /// sign.
    pub(crate) fn hash(&self) -> Hex64 {
        sha256_hex(self.text.as_bytes())
    }
}

impl fmt::Display for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

/// `algorithm \n date \n scope \n hash`: the text that is HMAC-signed.
#[derive(Clone, PartialEq, Eq)]
pub struct StringToSign {
    text: String,
}

impl StringToSign {
    /// Builds the four (or, for chunks, more) lines; `last` is the final
    /// line, typically a hex hash.
    pub fn new(algorithm: &str, time: &AmzDate, scope: &CredentialScope<'_>, last: &Hex64) -> Self {
        let mut text = String::with_capacity(algorithm.len() + 120);
        text.push_str(algorithm);
        text.push('\n');
        text.push_str(time.as_str());
        text.push('\n');
        scope.write_to(&mut text);
        text.push('\n');
        text.push_str(last.as_str());
        Self { text }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}
