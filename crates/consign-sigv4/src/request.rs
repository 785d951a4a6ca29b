//! A borrowed view of the parts of an HTTP request that SigV4 reads.

/// The method, the path and query as they appear on the wire, and the
/// headers. Signing and verification both read requests through this view,
/// so the crate depends on no HTTP library.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// `GET`, `PUT`, …
    pub method: &'a str,
    /// The path, percent-encoded as sent (`/bucket/my%20key`).
    pub path: &'a str,
    /// The query string without the `?`, as sent; empty when there is none.
    pub query: &'a str,
    /// Every header, in the order sent; names in any case.
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> HttpRequest<'a> {
    /// The first value of the header `name` (compared without case).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| eq_ignore_case(n, name)).map(|(_, v)| *v)
    }

    /// Every value of the header `name`, in the order sent.
    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers.iter().filter(move |(n, _)| eq_ignore_case(n, name)).map(|(_, v)| *v)
    }
}

/// Whether two names are equal regardless of ASCII case. Names usually
/// arrive in the case they are compared with, so an exact comparison (one
/// `memcmp`) comes first; the byte-by-byte one is only its fallback.
/// Inlined: most comparisons end at the lengths, which costs less than the
/// call.
#[inline]
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    a == b || a.eq_ignore_ascii_case(b)
}

/// What the last line of a canonical request says about the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload<'a> {
    /// The body itself; its SHA-256 is signed.
    Bytes(&'a [u8]),
    /// The lower-case hex SHA-256 of the body, computed by the caller.
    Sha256(&'a str),
    /// `UNSIGNED-PAYLOAD`: the body is not covered (presigned URLs).
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked, each chunk signed.
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a
    /// signed trailer.
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks and an unsigned
    /// trailer carrying a checksum, as current AWS SDKs send by default.
    StreamingUnsignedTrailer,
}

/// The literal payload value of presigned URLs.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The payload value of aws-chunked uploads with signed chunks.
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// The payload value of aws-chunked uploads with signed chunks and trailer.
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// The payload value of aws-chunked uploads with an unsigned trailer.
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

impl Payload<'_> {
    /// The text of the payload line, hashing the body if needed.
    pub(crate) fn line(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            Payload::Bytes(body) => Cow::Owned(crate::crypto::sha256_hex(body).as_str().to_owned()),
            Payload::Sha256(hash) => Cow::Borrowed(hash),
            Payload::Unsigned => Cow::Borrowed(UNSIGNED_PAYLOAD),
            Payload::StreamingSigned => Cow::Borrowed(STREAMING_SIGNED),
            Payload::StreamingSignedTrailer => Cow::Borrowed(STREAMING_SIGNED_TRAILER),
            Payload::StreamingUnsignedTrailer => Cow::Borrowed(STREAMING_UNSIGNED_TRAILER),
        }
    }
}
